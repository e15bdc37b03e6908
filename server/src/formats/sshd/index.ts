/**
 * sshd_config: Port, ListenAddress, AddressFamily, Include and Match, read the way OpenSSH's
 * servconf.c and misc.c (9.2) read them (checked against `sshd -T` in test/oracle/sshd.test.ts).
 * lexer.ts splits a line, parse.ts reads its directive, link.ts turns an instance into binds.
 */
import * as path from 'path';
import { literalPattern } from '../../core/includes';
import type { FormatModule, IncludeRef, MainConfigs } from '../../core/types';
import type { ServiceLookup } from '../../core/serviceNames';
import { linkSshd } from './link';
import { parseSshd, type SshdExtra } from './parse';
import { sshdWriter } from './writer';

export { splitSshdLine, type SshdLine, type Token } from './lexer';
export { SSHD_MATCH_CONTEXT, type SshdExtra, type SshdListen, type SshdPort } from './parse';

/** A stand-alone sshd_config.d fragment: part of a main config, not a root of its own. */
function isFragment(path: string): boolean {
  return /(^|\/)sshd_config\.d\//.test(path);
}

/**
 * sshd_config.d drop-ins on a host with no sshd_config: sshd runs with the stock main file, whose first
 * line (Debian, Ubuntu, Fedora) is `Include /etc/ssh/sshd_config.d/*.conf` and which sets no Port or
 * ListenAddress itself: the drop-ins in order, then the defaults (Port 22).
 */
const sshdMains: MainConfigs = {
  mainName: 'sshd_config',
  isMain: (root) => !isFragment(root.file),
  implicitMain: (fragments, taken) => {
    // What the stock Include's glob reaches: sshd_config.d/*.conf, no dot files.
    const reached = (f: string) => /(^|\/)sshd_config\.d\/[^./][^/]*\.conf$/.test(f);
    const all = fragments.map((f) => f.file);
    const dropIns = all.filter(reached).sort();
    const unloaded = { files: all.filter((f) => !reached(f)), why: 'not loaded: the stock sshd_config includes sshd_config.d/*.conf only' };
    if (dropIns.length === 0) return undefined;
    const file = path.posix.join(path.posix.dirname(path.posix.dirname(dropIns[0])), 'sshd_config');
    const includes: IncludeRef[] = dropIns.map((d) => ({ span: { start: 0, end: 0 }, pattern: literalPattern(d), relativeTo: '/etc/ssh' }));
    const extra: SshdExtra = { ports: [], listens: [], implicit: true };
    return { root: { format: 'sshd', file: taken(file) ? `${file}#stock` : file, facts: [], findings: [], includes, extra }, alongside: [], unloaded };
  },
};

export function createSshdModule(serviceToPort: ServiceLookup): FormatModule {
  return {
    id: 'sshd',
    writer: sshdWriter,
    matchesPath: (path) => /(^|\/)sshd_config$/.test(path) || isFragment(path),
    matchesContent: (text) =>
      /^[^\S\n]*(Port|ListenAddress|PermitRootLogin|PasswordAuthentication|HostKey|Subsystem|UsePAM)\s/im.test(text) && !/[{};]\s*$/m.test(text),
    parse: (text, file, context) => parseSshd(text, file, context, serviceToPort),
    link: (instance) => linkSshd(instance, isFragment(instance.root.file)),
    isFragment,
    mains: sshdMains,
  };
}
