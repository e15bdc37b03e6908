/**
 * systemd `.socket` units (systemd.socket(5), systemd 252): the sockets systemd binds itself and
 * hands to a service. Read from the [Socket] section:
 * - `ListenStream=` (TCP), `ListenDatagram=` (UDP), `ListenSequentialPacket=` (AF_UNIX only: an IP
 *   address there is refused) with socket_address_parse()'s forms: `PORT` (the IPv6 wildcard, which
 *   takes IPv4 too unless BindIPv6Only=ipv6-only), `IPV4:PORT`, `[IPV6]:PORT`; a path (`/run/x.sock`),
 *   an abstract name (`@x`) or `vsock:` binds no port and is skipped; a value with a `%` specifier is
 *   not judged. Port 0, above 65535, a host name or a bare address: systemd logs and ignores the line.
 * - `BindIPv6Only=` default | both | ipv6-only, `ReusePort=`, `FreeBind=` (booleans).
 * - An empty `ListenStream=` (or any Listen*=) resets every listen setting read before it.
 * Drop-ins `<unit>.d/*.conf` (beside the unit, and in /etc/systemd/system/<unit>.d/) are read after the
 * unit in file-name order, a drop-in of /etc hiding one of the same name elsewhere. A drop-in without
 * its unit in the workspace says only what it writes, except for ssh.socket, whose stock unit (Debian,
 * Ubuntu) listens on port 22 unless the drop-in resets it.
 * ssh.socket / sshd.socket (or a unit with Service=ssh.service / sshd.service) is sshd socket-activated
 * when it is enabled: its facts carry `socketFor: 'sshd'`, and the host model then takes them, not
 * sshd_config's Port, as what binds for sshd (core/hostModel.ts). Debian 12 ships ssh.socket disabled
 * (Ubuntu 22.10+ enables it), so a unit file alone proves nothing: it counts as enabled only with
 * evidence in the workspace — its enablement link `/etc/systemd/system/sockets.target.wants/<unit>`
 * (`systemctl enable` writes it; a link, dangling or not, or a file) or a drop-in of
 * `/etc/systemd/system/<unit>.d/` (an administrator's customisation). Without it, its sockets bind
 * nothing (`inactive`), sshd_config's Port stays what binds, and one Information says so.
 * A file under a `*.wants/` or `*.requires/` folder is an enablement entry, never read as a unit.
 * systemd keeps going with a setting it cannot parse, so such lines get a warning, not an error.
 */
import * as path from 'path';
import { formatHostPort, parseIp } from '../../core/address';
import type { FileParse, Finding, FormatModule, IncludeRef, InstanceInput, InstanceOutput, IpFamily, PortFact, Protocol, Span } from '../../core/types';
import { parseIni, type IniAssignment } from '../systemd/ini';
import { FALSE_WORDS, ignoredLine, inetPtonV4, TRUE_WORDS } from '../systemd/values';

export const SYSTEMD_PROGRAM = 'systemd';

const LISTEN_KEYS: Record<string, 'tcp' | 'udp' | 'seqpacket' | 'other'> = {
  ListenStream: 'tcp',
  ListenDatagram: 'udp',
  ListenSequentialPacket: 'seqpacket',
  ListenFIFO: 'other',
  ListenSpecial: 'other',
  ListenNetlink: 'other',
  ListenMessageQueue: 'other',
  ListenUSBFunction: 'other',
};

interface Listen {
  protocol: Protocol;
  family: IpFamily;
  /** undefined: the wildcard of the family. */
  address?: string;
  port: number;
  span: Span;
  file: string;
  text: string;
  key: string;
}

type Setting =
  | { kind: 'listen'; listen: Listen }
  | { kind: 'reset' }
  | { kind: 'bindIPv6Only'; value: 'default' | 'both' | 'ipv6-only' }
  | { kind: 'reusePort'; value: boolean };

export interface SocketExtra {
  settings: Setting[];
  /** /etc/os-release or /usr/lib/os-release, included as evidence for sshd-socket-generator. */
  osRelease?: { file: string; id?: string; versionId?: string };
  /** The file is sshd-socket-generator itself (its presence is what counts). */
  generator?: boolean;
  /** Service= as written (which service the socket activates). */
  service?: string;
  /** Where the [Socket] section starts. */
  sectionSpan?: Span;
}

/** socket_address_parse() for an IP socket; a string is what systemd says when it ignores the line. */
function readAddress(value: string): { family: IpFamily; address?: string; port: number; portAt: number; portText: string } | string | undefined {
  const port = (text: string): number | string => {
    if (!/^\d+$/.test(text)) return 'Invalid argument';
    const n = Number(text);
    if (n === 0) return 'Invalid argument';
    return n > 65535 ? 'Numerical result out of range' : n;
  };
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0 || value[close + 1] !== ':') return 'Invalid argument';
    const ip = parseIp(value.slice(1, close));
    if (!ip || ip.family !== 'ipv6') return 'Invalid argument';
    const p = port(value.slice(close + 2));
    if (typeof p === 'string') return p;
    return { family: 'ipv6', address: ip.address, port: p, portAt: close + 2, portText: value.slice(close + 2) };
  }
  const colon = value.lastIndexOf(':');
  if (colon < 0) {
    const p = port(value);
    if (typeof p === 'string') return p;
    return { family: 'ipv6', port: p, portAt: 0, portText: value };
  }
  const a = inetPtonV4(value.slice(0, colon));
  if (a === undefined) return 'Invalid argument';
  const p = port(value.slice(colon + 1));
  if (typeof p === 'string') return p;
  return { family: 'ipv4', address: a.address, port: p, portAt: colon + 1, portText: value.slice(colon + 1) };
}

function readListen(a: IniAssignment, kind: 'tcp' | 'udp' | 'seqpacket', file: string, findings: Finding[]): Listen | undefined {
  const v = a.value;
  if (v.startsWith('/') || v.startsWith('@') || v.startsWith('vsock:') || v.includes('%')) return undefined;
  const got = readAddress(v);
  if (typeof got === 'string' || got === undefined) {
    const code = got === 'Numerical result out of range' || /^\d+$/.test(v) || /:\d+$/.test(v) ? 'invalid-port' : 'syntax';
    const hint = code === 'invalid-port' ? 'a port is 1-65535' : 'write PORT, IPV4:PORT or [IPV6]:PORT (no host names)';
    findings.push(ignoredLine(file, a.valueSpan, code, `${a.key}=${v}: ${hint}; systemd ignores this line.`));
    return undefined;
  }
  if (kind === 'seqpacket') {
    findings.push(
      ignoredLine(file, a.valueSpan, 'syntax', `ListenSequentialPacket= takes a unix socket path; systemd ignores ${v} (address family not supported).`),
    );
    return undefined;
  }
  const span = a.plain ? { start: a.valueSpan.start + got.portAt, end: a.valueSpan.start + got.portAt + got.portText.length } : a.valueSpan;
  return { protocol: kind, family: got.family, address: got.address, port: got.port, span, file, text: v, key: a.key };
}

/** An enablement entry: `<x>.target.wants/<unit>` (or `.requires/`), which `systemctl enable` links to the unit. */
function isWantsEntry(file: string): boolean {
  return /(^|\/)[^/]+\.(wants|requires)\/[^/]+\.socket$/.test(file);
}

/** Evidence that systemd starts the unit: its sockets.target.wants link, or a drop-in an administrator wrote in /etc. */
function isEnablement(file: string, unit: string): boolean {
  if (isWantsEntry(file)) return path.posix.basename(file) === unit;
  return isDropIn(file) && unitName(file) === unit && /(^|\/)etc\/systemd\/system\/[^/]+\.socket\.d\/[^/]+$/.test(file);
}

/** The drop-in sshd-socket-generator writes into /run/systemd/generator/ssh.socket.d/. */
const GENERATED_DROP_IN = 'addresses.conf';

/** Where Ubuntu's openssh-server installs sshd-socket-generator. */
const GENERATOR = /(^|\/)(usr\/)?lib\/systemd\/system-generators\/sshd-socket-generator$/;
const OS_RELEASE = /(^|\/)(etc|usr\/lib)\/os-release$/;

/** os-release(5): KEY=value lines, the value maybe quoted. */
function readOsRelease(text: string, file: string): SocketExtra['osRelease'] {
  const get = (key: string) => {
    const m = new RegExp(`^${key}=(.*)$`, 'm').exec(text);
    return m ? m[1].trim().replace(/^(["'])(.*)\1$/, '$2') : undefined;
  };
  return { file, id: get('ID'), versionId: get('VERSION_ID') };
}

/**
 * The evidence that the host runs Ubuntu's sshd-socket-generator: the generator in the workspace's
 * /usr/lib/systemd/system-generators/, or an os-release of Ubuntu 24.04 or later (openssh 1:9.6p1-3ubuntu
 * ships it from noble on; Ubuntu 22.10 to 23.10 socket-activated sshd without it). /etc/os-release wins
 * over /usr/lib/os-release, as os-release(5) says.
 */
function hasSshGenerator(files: readonly FileParse[]): string | undefined {
  const extras = files.map((f) => f.extra as SocketExtra | undefined);
  const generator = files.find((f, i) => extras[i]?.generator);
  if (generator) return `${generator.file} is on this host`;
  const releases = extras
    .flatMap((x) => (x?.osRelease ? [x.osRelease] : []))
    .sort((a, b) => (a.file.includes('/etc/') ? 0 : 1) - (b.file.includes('/etc/') ? 0 : 1));
  const r = releases[0];
  if (!r || r.id !== 'ubuntu' || !r.versionId) return undefined;
  const [major, minor] = r.versionId.split('.').map(Number);
  return major > 24 || (major === 24 && minor >= 4) ? `${r.file} says Ubuntu ${r.versionId}` : undefined;
}

function parseSocket(text: string, file: string): FileParse {
  if (GENERATOR.test(file) || OS_RELEASE.test(file)) {
    const extra: SocketExtra = GENERATOR.test(file) ? { settings: [], generator: true } : { settings: [], osRelease: readOsRelease(text, file) };
    return { format: 'systemd-socket', file, facts: [], findings: [], includes: [], extra };
  }
  if (isWantsEntry(file)) {
    // Its presence is what counts (systemctl enable's link); the unit's drop-ins are read for it when the unit is not in the workspace.
    const unit = path.posix.basename(file);
    return {
      format: 'systemd-socket',
      file,
      facts: [],
      findings: [],
      includes: [{ span: { start: 0, end: 0 }, pattern: `/etc/systemd/system/${unit}.d/*.conf`, relativeTo: 'including-file-dir' }, ...generatorEvidence(unit)],
      extra: { settings: [] } satisfies SocketExtra,
    };
  }
  const ini = parseIni(text);
  const findings: Finding[] = [];
  const settings: Setting[] = [];
  let service: string | undefined;
  for (const a of ini.assignments) {
    if (a.section !== 'Socket') continue;
    const kind = LISTEN_KEYS[a.key];
    if (kind !== undefined) {
      if (a.value === '') settings.push({ kind: 'reset' });
      else if (kind !== 'other') {
        const listen = readListen(a, kind, file, findings);
        if (listen) settings.push({ kind: 'listen', listen });
      }
    } else if (a.key === 'BindIPv6Only') {
      if (a.value === 'default' || a.value === 'both' || a.value === 'ipv6-only') settings.push({ kind: 'bindIPv6Only', value: a.value });
      else if (a.value !== '')
        findings.push(
          ignoredLine(file, a.valueSpan, 'syntax', `Bad BindIPv6Only=${a.value}: systemd accepts default, both or ipv6-only, and ignores this line.`),
        );
    } else if (a.key === 'ReusePort' || a.key === 'FreeBind') {
      const v = a.value.toLowerCase();
      if (!TRUE_WORDS.has(v) && !FALSE_WORDS.has(v))
        findings.push(ignoredLine(file, a.valueSpan, 'syntax', `Bad ${a.key}=${a.value}: not a boolean; systemd ignores this line.`));
      else if (a.key === 'ReusePort') settings.push({ kind: 'reusePort', value: TRUE_WORDS.has(v) });
    } else if (a.key === 'Service') service = a.value;
  }
  const section = ini.sections.find((s) => s.name === 'Socket');
  const extra: SocketExtra = { settings, service, sectionSpan: section?.span };
  const base = path.posix.basename(file);
  const includes = isDropIn(file)
    ? // The other drop-ins of the same unit (a drop-in alone stands for its unit once, not once per file).
      [{ span: { start: 0, end: 0 }, pattern: '*.conf', relativeTo: 'including-file-dir' }, ...generatorEvidence(unitName(file))]
    : [
        { span: { start: 0, end: 0 }, pattern: `${base}.d/*.conf`, relativeTo: 'including-file-dir' },
        { span: { start: 0, end: 0 }, pattern: `/etc/systemd/system/${base}.d/*.conf`, relativeTo: 'including-file-dir' },
        { span: { start: 0, end: 0 }, pattern: `/etc/systemd/system/sockets.target.wants/${base}`, relativeTo: 'including-file-dir' },
        ...generatorEvidence(base),
      ];
  return { format: 'systemd-socket', file, facts: [], findings, includes, extra };
}

/** ssh.socket reads the host's os-release and looks for sshd-socket-generator (the only unit the generator writes for). */
function generatorEvidence(unit: string): IncludeRef[] {
  if (unit !== 'ssh.socket') return [];
  return [
    '/etc/os-release',
    '/usr/lib/os-release',
    '/usr/lib/systemd/system-generators/sshd-socket-generator',
    '/lib/systemd/system-generators/sshd-socket-generator',
  ].map((pattern) => ({ span: { start: 0, end: 0 }, pattern, relativeTo: 'including-file-dir' }));
}

function isDropIn(file: string): boolean {
  return /(^|\/)[^/]+\.socket\.d\/[^/]+\.conf$/.test(file);
}

/** The unit a file belongs to: `ssh.socket` for ssh.socket and ssh.socket.d/x.conf. */
function unitName(file: string): string {
  return isDropIn(file) ? path.posix.basename(path.posix.dirname(file)).slice(0, -2) : path.posix.basename(file);
}

/** The program a socket unit binds for, when the rules know it by name (sshd). */
function socketFor(unit: string, service: string | undefined): string | undefined {
  if (unit === 'ssh.socket' || unit === 'sshd.socket' || unit === 'sshd@.socket') return 'sshd';
  if (service && /^sshd?(@)?\.service$/.test(service)) return 'sshd';
  return undefined;
}

/** Drop-ins in the order systemd reads them: by file name, one of /etc hiding a same-named one elsewhere. */
function orderDropIns(files: FileParse[]): FileParse[] {
  const byName = new Map<string, FileParse>();
  const rank = (f: string) => (/\/etc\/systemd\/system\//.test(f) ? 0 : /\/run\/systemd\//.test(f) ? 1 : 2);
  for (const f of files) {
    const name = path.posix.basename(f.file);
    const had = byName.get(name);
    if (!had || rank(f.file) < rank(had.file)) byName.set(name, f);
  }
  return [...byName.values()].sort((a, b) => (path.posix.basename(a.file) < path.posix.basename(b.file) ? -1 : 1));
}

function link(instance: InstanceInput): InstanceOutput {
  const findings = instance.files.flatMap((f) => f.findings);
  const root = instance.root;
  const unit = unitName(root.file);
  // Without its unit file: a drop-in, or an enablement link (which reads the unit's /etc drop-ins).
  const standalone = isDropIn(root.file) || isWantsEntry(root.file);
  // Ubuntu's sshd-socket-generator writes /run/systemd/generator/ssh.socket.d/addresses.conf: read among the
  // drop-ins by file name, hidden by an addresses.conf of /etc/systemd/system or /run/systemd/system, hiding
  // one of /usr/lib or /lib.
  const generatorWhy = unit === 'ssh.socket' ? hasSshGenerator(instance.files) : undefined;
  const allDropIns = orderDropIns(instance.files.filter((f) => isDropIn(f.file) && unitName(f.file) === unit && (standalone || f !== root)));
  const hidesGenerator = (f: FileParse) => path.posix.basename(f.file) === GENERATED_DROP_IN && /(^|\/)(etc|run)\/systemd\/system\//.test(f.file);
  const generator = generatorWhy !== undefined && !allDropIns.some(hidesGenerator);
  const dropIns = generator ? allDropIns.filter((f) => path.posix.basename(f.file) !== GENERATED_DROP_IN) : allDropIns;
  const files = standalone ? dropIns : [root, ...dropIns];
  let listens: Listen[] = [];
  let reset = false;
  let v6 = 'default';
  let reusePort = false;
  let service: string | undefined;
  // The listens read before the generator's drop-in (its `ListenStream=` removes them when it writes one), and
  // whether a reset after it removed the generator's own.
  let generatorRead = false;
  let generatorCleared = false;
  const replaced = new Set<Listen>();
  const readGenerator = () => {
    if (!generator || generatorRead) return;
    generatorRead = true;
    for (const l of listens) replaced.add(l);
  };
  for (const f of files) {
    if (isDropIn(f.file) && path.posix.basename(f.file) > GENERATED_DROP_IN) readGenerator();
    const extra = f.extra as SocketExtra | undefined;
    if (extra?.service) service = extra.service;
    for (const s of extra?.settings ?? []) {
      if (s.kind === 'reset') {
        listens = [];
        reset = true;
        if (generatorRead) generatorCleared = true;
      } else if (s.kind === 'listen') listens.push(s.listen);
      else if (s.kind === 'bindIPv6Only') v6 = s.value;
      else reusePort = s.value;
    }
  }
  readGenerator();
  const generated = generator && !generatorCleared;
  const activates = socketFor(unit, service);
  const enabled = instance.files.some((f) => isEnablement(f.file, unit));
  // An sshd socket nothing shows enabled binds nothing: sshd_config's Port stays what binds.
  const program = activates && enabled ? activates : undefined;
  const notEnabled = activates && !enabled ? `${unit} is not known to be enabled` : undefined;
  const facts: PortFact[] = [];
  const make = (l: Omit<Listen, 'key' | 'text'> & { key?: string; text?: string }, implicit?: boolean): PortFact => {
    // BindIPv6Only=default follows net.ipv6.bindv6only, 0 unless changed: an IPv6 socket takes IPv4 too (said, for the firewall verdict).
    const v6only = l.family === 'ipv6' ? v6 === 'ipv6-only' : undefined;
    const where = formatHostPort(l.family, l.address, l.port);
    const forWhom = activates ? ` for ${activates} (socket activation)` : '';
    return {
      role: 'listen',
      file: l.file,
      span: l.span,
      protocol: l.protocol,
      port: l.port,
      portEnd: l.port,
      family: l.family,
      address: l.address,
      v6only,
      reusePort: reusePort || undefined,
      // socket_address_listen() (src/shared/socket-label.c) sets SO_REUSEADDR on every socket it binds.
      reuseAddr: true,
      program: activates ?? SYSTEMD_PROGRAM,
      context: implicit ? `${unit} (stock ListenStream=22)` : `${unit} ${l.key}=${l.text}`,
      instance: root.file,
      implicit: implicit || undefined,
      socketFor: program,
      sshGenerator: generated ? (implicit || replaced.has(l as Listen) ? 'replaced' : 'kept') : undefined,
      inactive: notEnabled,
      detail: `systemd listens on ${where}/${l.protocol}${l.family === 'ipv6' && !l.address && !v6only ? ' (IPv4 too)' : ''}${forWhom}: ${unit}${implicit ? ", the stock unit's ListenStream=22" : ''}${notEnabled ? `: but ${notEnabled}` : ''}`,
    };
  };
  // A drop-in of ssh.socket without the unit: Debian's and Ubuntu's stock ssh.socket listen on port 22.
  if (standalone && activates === 'sshd' && !reset) {
    const anchor = dropIns[0] ?? root;
    const span = (anchor.extra as SocketExtra | undefined)?.sectionSpan ?? { start: 0, end: 0 };
    facts.push(make({ protocol: 'tcp', family: 'ipv6', port: 22, span, file: anchor.file }, true));
  }
  const seen = new Set<string>();
  for (const l of listens) {
    const k = `${l.protocol}|${l.family}|${l.address}|${l.port}`;
    if (seen.has(k)) continue; // systemd keeps one socket per address
    seen.add(k);
    facts.push(make(l));
  }
  if (notEnabled && facts.length > 0) {
    const first = facts[0];
    findings.push({
      file: first.file,
      span: first.span,
      severity: 'information',
      code: 'syntax',
      messageId: 'socket-not-enabled',
      message:
        `${unit}: nothing here shows it enabled (no /etc/systemd/system/sockets.target.wants/${unit}, no drop-in in /etc/systemd/system/${unit}.d/; ` +
        `Debian 12 ships it disabled), so its sockets are taken to bind nothing and sshd_config's Port to bind. ` +
        `If it is enabled, systemd binds these for ${activates} instead.`,
    });
  }
  return { facts, findings };
}

export function createSocketModule(): FormatModule {
  return {
    id: 'systemd-socket',
    matchesPath: (p) => /\.socket$/.test(p) || isDropIn(p),
    parse: (text, file) => parseSocket(text, file),
    link,
    isFragment: isDropIn,
  };
}
