/**
 * HAProxy (`haproxy.cfg`, `*.cfg` in a haproxy/ directory): the sockets `bind` lines of frontend and
 * listen sections open, and `server` lines of backend and listen sections as upstreams, read the way
 * HAProxy 2.6 reads them (str2sa_range): several addresses per line separated by commas, `*:P`,
 * `:P`, `[v6]:P` and `v6:P` (the last colon takes the port), port ranges `A-B`, `ipv4@`/`ipv6@`/
 * `tcp@`/`udp@` prefixes (unix sockets, `fd@` and the like bind no port), `v4v6`/`v6only`.
 * HAProxy sets SO_REUSEPORT on its listeners unless `noreuseport` is in `global`: two HAProxy binds
 * (of one process or of two) share an address:port. Checked against `haproxy -c` in
 * test/oracle/haproxy.test.ts.
 */
import * as path from 'path';
import { formatHostPort, parseIp, resolveWellKnownHost } from '../../core/address';
import type { FileParse, Finding, FormatModule, InstanceInput, InstanceOutput, PortFact, Protocol, Span } from '../../core/types';
import { haproxyWriter } from './writer';

export const HAPROXY_PROGRAM = 'haproxy';

interface Word {
  text: string;
  span: Span;
}

/** One line split the way HAProxy splits it: whitespace, quotes, backslash escapes, `#` comments. */
function splitLine(text: string, from: number, to: number): Word[] {
  const out: Word[] = [];
  let i = from;
  while (i < to) {
    while (i < to && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r')) i++;
    if (i >= to || text[i] === '#') break;
    const start = i;
    let value = '';
    let quote = '';
    while (i < to) {
      const c = text[i];
      if (quote === '' && (c === ' ' || c === '\t' || c === '\r' || c === '#')) break;
      if (c === '\\' && i + 1 < to) {
        value += text[i + 1];
        i += 2;
        continue;
      }
      if (quote === '' && (c === '"' || c === "'")) quote = c;
      else if (quote !== '' && c === quote) quote = '';
      else value += c;
      i++;
    }
    out.push({ text: value, span: { start, end: i } });
  }
  return out;
}

const SECTIONS = new Set([
  'global',
  'defaults',
  'frontend',
  'backend',
  'listen',
  'peers',
  'resolvers',
  'userlist',
  'cache',
  'program',
  'mailers',
  'http-errors',
  'ring',
  'crt-store',
  'traces',
]);

interface HaproxyBind {
  protocol: Protocol;
  family: 'ipv4' | 'ipv6' | undefined;
  address?: string;
  port: number;
  portEnd: number;
  span: Span;
  v6only: boolean;
  section: string;
}

interface HaproxyServer {
  host: string;
  port: number;
  span: Span;
  section: string;
  /** The backend or listen section's name. */
  group?: string;
}

export interface HaproxyExtra {
  binds: HaproxyBind[];
  servers: HaproxyServer[];
  noReusePort: boolean;
}

function err(file: string, span: Span, code: 'syntax' | 'invalid-port', message: string): Finding {
  return { file, span, severity: 'error', code, message };
}

const NO_PORT_PREFIXES = new Set(['unix', 'abns', 'fd', 'sockpair', 'uxst', 'uxdg']);

/** One address of a bind or server line: [prefix@]host:port[-end]. Undefined (with a finding) when HAProxy refuses it. */
function readAddress(
  w: Word,
  text: string,
  at: number,
  file: string,
  findings: Finding[],
  directive: 'bind' | 'server',
): { protocol: Protocol; family?: 'ipv4' | 'ipv6'; host: string; address?: string; port?: number; portEnd?: number; portSpan?: Span } | 'skip' | undefined {
  let s = text;
  let off = at;
  let protocol: Protocol = 'tcp';
  let forced: 'ipv4' | 'ipv6' | undefined;
  const atSign = s.indexOf('@');
  if (atSign >= 0) {
    const prefix = s.slice(0, atSign).toLowerCase();
    if (NO_PORT_PREFIXES.has(prefix)) return 'skip';
    if (prefix === 'ipv4' || prefix === 'tcp4') forced = 'ipv4';
    else if (prefix === 'ipv6' || prefix === 'tcp6') forced = 'ipv6';
    else if (prefix === 'udp' || prefix === 'udp4' || prefix === 'udp6' || prefix === 'quic4' || prefix === 'quic6') {
      protocol = 'udp';
      if (prefix.endsWith('4')) forced = 'ipv4';
      if (prefix.endsWith('6')) forced = 'ipv6';
    } else if (prefix !== 'tcp') return 'skip';
    s = s.slice(atSign + 1);
    off += atSign + 1;
  }
  if (s.startsWith('/')) return 'skip';
  const span = (from: number, length: number): Span => ({ start: w.span.start + off + from, end: w.span.start + off + from + length });
  let host: string;
  let portText: string | undefined;
  let portFrom = 0;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return void findings.push(err(file, w.span, 'syntax', `'${directive}': invalid address '${text}' (haproxy -c).`));
    host = s.slice(1, close);
    if (s[close + 1] === ':') {
      portText = s.slice(close + 2);
      portFrom = close + 2;
    } else if (close + 1 < s.length) return void findings.push(err(file, w.span, 'syntax', `'${directive}': invalid address '${text}' (haproxy -c).`));
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) host = s;
    else {
      host = s.slice(0, colon);
      portText = s.slice(colon + 1);
      portFrom = colon + 1;
    }
  }
  if (portText === undefined || portText === '') {
    if (directive === 'server') return { protocol, host };
    return void findings.push(err(file, w.span, 'invalid-port', `'bind': missing port specification in '${text}' (haproxy -c).`));
  }
  const m = /^(\d+)(?:-(\d+))?$/.exec(portText);
  if (!m || (directive === 'server' && m[2] !== undefined)) {
    if (directive === 'server' && /^[+-]\d+$/.test(portText)) return { protocol, host }; // a port offset from the client's
    return void findings.push(err(file, span(portFrom, portText.length), 'invalid-port', `'${directive}': invalid port '${portText}' (haproxy -c).`));
  }
  const port = Number(m[1]);
  const portEnd = m[2] === undefined ? port : Number(m[2]);
  // A server on port 0 takes the port the client connected to.
  if (directive === 'server' && port === 0) return { protocol, host };
  for (const [value, from, len] of [
    [port, portFrom, m[1].length],
    [portEnd, portFrom + m[1].length + 1, m[2]?.length ?? 0],
  ] as const) {
    if (len > 0 && (value < 1 || value > 65535))
      return void findings.push(err(file, span(from, len), 'invalid-port', `'${directive}': invalid port '${value}' (haproxy -c): a port is 1-65535.`));
  }
  if (portEnd < port)
    return void findings.push(err(file, span(portFrom, portText.length), 'invalid-port', `'${directive}': invalid port range '${portText}' (haproxy -c).`));
  const portSpan = span(portFrom, portText.length);
  if (host === '' || host === '*') return { protocol, family: forced ?? 'ipv4', host, port, portEnd, portSpan };
  const ip = parseIp(host);
  if (ip) return { protocol, family: ip.family, host, address: ip.address, port, portEnd, portSpan };
  return { protocol, family: undefined, host, port, portEnd, portSpan };
}

function parseHaproxy(text: string, file: string): FileParse {
  const findings: Finding[] = [];
  const extra: HaproxyExtra = { binds: [], servers: [], noReusePort: false };
  let section = '';
  let sectionLabel = '';
  let sectionName: string | undefined;
  let offset = 0;
  for (const raw of text.split('\n')) {
    const lineStart = offset;
    offset += raw.length + 1;
    const words = splitLine(text, lineStart, lineStart + raw.length);
    if (words.length === 0) continue;
    const kw = words[0].text;
    if (SECTIONS.has(kw)) {
      section = kw;
      sectionLabel = words[1] ? `${kw} ${words[1].text}` : kw;
      sectionName = words[1]?.text;
      continue;
    }
    if (section === 'global' && kw === 'noreuseport') extra.noReusePort = true;
    if (kw === 'bind' && (section === 'frontend' || section === 'listen')) {
      const list = words[1];
      if (!list) {
        findings.push(err(file, words[0].span, 'syntax', "'bind' expects {<path>|[addr1]:port1[-end1]}{,...} [param*] (haproxy -c)."));
        continue;
      }
      const v4v6 = words.slice(2).some((w) => w.text === 'v4v6');
      const v6only = words.slice(2).some((w) => w.text === 'v6only');
      let at = 0;
      for (const part of list.text.split(',')) {
        const r = readAddress(list, part, at, file, findings, 'bind');
        at += part.length + 1;
        if (!r || r === 'skip' || r.port === undefined) continue;
        extra.binds.push({
          protocol: r.protocol,
          family: r.family,
          address: r.family === undefined ? r.host : r.address,
          port: r.port,
          portEnd: r.portEnd!,
          span: list.span.end - list.span.start === list.text.length ? r.portSpan! : list.span,
          v6only: r.family === 'ipv6' && r.address === undefined ? v6only && !v4v6 : r.family === 'ipv6',
          section: sectionLabel,
        });
      }
    } else if (kw === 'server' && (section === 'backend' || section === 'listen') && words[2]) {
      const r = readAddress(words[2], words[2].text, 0, file, findings, 'server');
      if (r && r !== 'skip' && r.port !== undefined)
        extra.servers.push({ host: r.host, port: r.port, span: r.portSpan!, section: sectionLabel, group: sectionName });
    }
  }
  return { format: 'haproxy', file, facts: [], findings, includes: [], extra };
}

function link(instance: InstanceInput): InstanceOutput {
  const findings = instance.files.flatMap((f) => f.findings);
  const facts: PortFact[] = [];
  const noReusePort = instance.files.some((f) => (f.extra as HaproxyExtra | undefined)?.noReusePort);
  for (const f of instance.files) {
    const x = f.extra as HaproxyExtra | undefined;
    if (!x) continue;
    for (const b of x.binds) {
      const ranged = b.portEnd !== b.port;
      facts.push({
        role: 'listen',
        file: f.file,
        span: b.span,
        protocol: b.protocol,
        port: b.port,
        portEnd: b.portEnd,
        family: b.family,
        address: b.address,
        v6only: b.family === 'ipv6' ? b.v6only : undefined,
        program: HAPROXY_PROGRAM,
        instance: instance.root.file,
        context: `bind in ${b.section}`,
        reusePort: noReusePort ? undefined : true,
        detail: `HAProxy listens on ${formatHostPort(b.family, b.address, b.port, b.portEnd)}/${b.protocol}${ranged ? ' (every port of the range)' : ''}${noReusePort ? '' : ' (SO_REUSEPORT)'}`,
      });
    }
    for (const s of x.servers) {
      const ip = parseIp(s.host);
      const known = ip ? [ip] : resolveWellKnownHost(s.host);
      facts.push({
        role: 'upstream',
        file: f.file,
        span: s.span,
        protocol: 'tcp',
        port: s.port,
        portEnd: s.port,
        family: known?.[0]?.family,
        address: known?.[0]?.address ?? (ip ? undefined : s.host),
        program: HAPROXY_PROGRAM,
        instance: instance.root.file,
        context: `server in ${s.section}`,
        upstreamGroup: s.group,
        detail: `HAProxy connects to ${s.host}:${s.port}/tcp (server in ${s.section}; binds nothing)`,
      });
    }
  }
  return { facts, findings };
}

export function isHaproxyPath(p: string): boolean {
  const base = path.posix.basename(p);
  if (base === 'haproxy.cfg') return true;
  return /\.cfg$/.test(base) && /(^|\/)haproxy(\/|$)/.test(path.posix.dirname(p));
}

export function createHaproxyModule(): FormatModule {
  return {
    id: 'haproxy',
    writer: haproxyWriter,
    matchesPath: isHaproxyPath,
    matchesContent: (text) =>
      /^[ \t]*(frontend|backend|listen)[ \t]+\S+/m.test(text) && /^[ \t]+(bind|server)[ \t]+\S/m.test(text) && /^[ \t]*(global|defaults)\b/m.test(text),
    parse: (text, file) => parseHaproxy(text, file),
    link,
  };
}
