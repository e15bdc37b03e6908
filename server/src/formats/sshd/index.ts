/**
 * sshd_config: Port, ListenAddress, AddressFamily, Include and Match, read the way OpenSSH's
 * servconf.c and misc.c (9.2) read them (checked against `sshd -T` in test/oracle/sshd.test.ts).
 * lexer.ts splits a line, parse.ts reads its directive, link.ts turns an instance into binds.
 */
import type { FormatModule } from '../../core/types';
import { linkSshd } from './link';
import { parseSshd } from './parse';
import { sshdWriter } from './writer';

export { splitSshdLine, type SshdLine, type Token } from './lexer';
export { SSHD_MATCH_CONTEXT, type SshdExtra, type SshdListen, type SshdPort } from './parse';

/** A stand-alone sshd_config.d fragment: part of a main config, not a root of its own. */
function isFragment(path: string): boolean {
  return /(^|\/)sshd_config\.d\//.test(path);
}

export function createSshdModule(serviceToPort: (name: string) => number | undefined): FormatModule {
  return {
    id: 'sshd',
    writer: sshdWriter,
    matchesPath: (path) => /(^|\/)sshd_config$/.test(path) || isFragment(path),
    matchesContent: (text) =>
      /^[^\S\n]*(Port|ListenAddress|PermitRootLogin|PasswordAuthentication|HostKey|Subsystem|UsePAM)\s/im.test(text) && !/[{};]\s*$/m.test(text),
    parse: (text, file, context) => parseSshd(text, file, context, serviceToPort),
    link: (instance) => linkSshd(instance, isFragment(instance.root.file)),
    isFragment,
  };
}
