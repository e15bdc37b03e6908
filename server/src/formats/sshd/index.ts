/**
 * sshd_config: Port, ListenAddress, AddressFamily, Include and Match, read the way OpenSSH's
 * servconf.c and misc.c (9.2) read them (checked against `sshd -T` in test/oracle/sshd.test.ts).
 */
import * as ipaddr from 'ipaddr.js';
import { pushAll } from '../../core/arrays';
import { parseIp, resolveWellKnownHost, formatHostPort, type ParsedAddress } from '../../core/address';
import { MAX_PORT } from '../../core/portRanges';
import { matchBlockFixes } from './writer';
import type { FileParse, Finding, FormatModule, InstanceInput, InstanceOutput, PortFact, Span, IpFamily, IncludeRef } from '../../core/types';

export interface Token {
  text: string;
  span: Span;
}

/** One configuration line split the way sshd splits it. */
export interface SshdLine {
  keyword: Token;
  args: Token[];
  /** The line as sshd sees it (trailing whitespace dropped); offsets in it are relative to `lineStart`. */
  text: string;
  lineStart: number;
  /** Offset where the arguments start (what sshd hands to argv_split and to Match). */
  restStart: number;
  /** sshd would reject the line before looking at its keyword: no argument, or an unclosed quote. */
  problem?: { span: Span; message: string };
}

/** Whitespace for strdelim(); argv_split() only splits at space and tab. */
const WHITESPACE = ' \t\r\n';

function skipWhitespace(line: string, i: number): number {
  while (i < line.length && WHITESPACE.includes(line[i])) i++;
  return i;
}

interface Word {
  text: string;
  span: Span;
  /** Where the next word starts; undefined when sshd's cursor becomes NULL. */
  next?: number;
}

/**
 * OpenSSH strdelim(): the next word from `pos`, ending at whitespace, a double quote or '='; one '='
 * (with whitespace around it) is skipped after the word. A word with an unclosed quote is NULL.
 */
function strdelim(line: string, pos: number, offset: number): Word | undefined {
  let q = pos;
  while (q < line.length && !(WHITESPACE.includes(line[q]) || line[q] === '"' || line[q] === '=')) q++;
  if (q >= line.length) return { text: line.slice(pos), span: { start: offset + pos, end: offset + line.length } };
  if (line[q] === '"') {
    const close = line.indexOf('"', q + 1);
    if (close < 0) return undefined;
    return {
      text: line.slice(pos, q) + line.slice(q + 1, close),
      span: { start: offset + pos, end: offset + close + 1 },
      next: skipWhitespace(line, close + 1),
    };
  }
  let next = skipWhitespace(line, q + 1);
  if (line[q] !== '=' && line[next] === '=') next = skipWhitespace(line, next + 1);
  return { text: line.slice(pos, q), span: { start: offset + pos, end: offset + q }, next };
}

/**
 * OpenSSH argv_split() with comments: words split at space and tab, single or double quotes, the
 * escapes \\ \" \' and (outside quotes) "\ ", and '#' at the start of a word ends the line.
 */
function argvSplit(line: string, pos: number, offset: number): { args: Token[]; unclosedQuote?: Span } {
  const args: Token[] = [];
  let i = pos;
  while (i < line.length) {
    if (line[i] === ' ' || line[i] === '\t') {
      i++;
      continue;
    }
    if (line[i] === '#') break;
    const start = i;
    let quote = '';
    let text = '';
    for (; i < line.length; i++) {
      const c = line[i];
      if (c === '\\') {
        const n = line[i + 1];
        if (n === "'" || n === '"' || n === '\\' || (quote === '' && n === ' ')) text += line[++i];
        else text += c;
      } else if (quote === '' && (c === ' ' || c === '\t')) break;
      else if (quote === '' && (c === '"' || c === "'")) quote = c;
      else if (quote !== '' && c === quote) quote = '';
      else text += c;
    }
    const span = { start: offset + start, end: offset + i };
    if (quote !== '') return { args, unclosedQuote: span };
    args.push({ text, span });
  }
  return { args };
}

/**
 * Splits one line of sshd_config like servconf.c: leading " \t\r" and trailing whitespace are
 * dropped, the keyword ends at whitespace, a quote or one '=', the rest goes through argv_split.
 * Undefined for blank lines, comments and lines sshd skips silently.
 */
export function splitSshdLine(rawLine: string, offset: number): SshdLine | undefined {
  let end = rawLine.length;
  while (end > 1 && (WHITESPACE + '\f').includes(rawLine[end - 1])) end--;
  const line = rawLine.slice(0, end);
  let start = 0;
  while (start < line.length && ' \t\r'.includes(line[start])) start++;
  if (start >= line.length) return undefined;
  let kw = strdelim(line, start, offset);
  if (kw && kw.text === '' && kw.next !== undefined) kw = strdelim(line, kw.next, offset);
  if (!kw || kw.text === '' || kw.text.startsWith('#')) return undefined;
  const keyword: Token = { text: kw.text, span: kw.span };
  if (kw.next === undefined || kw.next >= line.length) {
    return {
      keyword,
      args: [],
      text: line,
      lineStart: offset,
      restStart: offset + line.length,
      problem: { span: keyword.span, message: `"${kw.text}" needs an argument (sshd: no argument after keyword).` },
    };
  }
  const { args, unclosedQuote } = argvSplit(line, kw.next, offset);
  const result: SshdLine = { keyword, args, text: line, lineStart: offset, restStart: offset + kw.next };
  if (unclosedQuote) result.problem = { span: unclosedQuote, message: 'Unclosed quote (sshd: invalid quotes).' };
  return result;
}

/**
 * OpenSSH a2port(): strtonum(s, 0, 65535), else getservbyname(s, "tcp"); -1 when neither.
 * getservbyname compares names case-sensitively, and /etc/services spells them in lower case.
 */
function a2port(text: string, serviceToPort: (name: string) => number | undefined): number {
  const numeric = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(text);
  if (numeric) {
    const n = Number(numeric[2]) * (numeric[1] === '-' ? -1 : 1);
    if (n >= 0 && n <= MAX_PORT) return n;
  }
  if (text === '' || /[\sA-Z]/.test(text)) return -1;
  return serviceToPort(text) ?? -1;
}

export interface SshdPort {
  port: number;
  span: Span;
  file: string;
}

export interface SshdListen {
  /** Addresses this ListenAddress binds (a hostname other than localhost resolves at run time: none listed). */
  addresses: ParsedAddress[];
  hostText: string;
  hostSpan: Span;
  port?: number;
  portSpan?: Span;
  rdomain?: string;
  /** The host is a name looked up in /etc/hosts or DNS, not an address literal. */
  byName?: boolean;
  file: string;
}

export interface SshdExtra {
  ports: SshdPort[];
  listens: SshdListen[];
  /** The first AddressFamily sshd applies from this file, and where (the first one read wins). */
  addressFamily?: 'any' | 'inet' | 'inet6';
  addressFamilyAt?: number;
}

/** IncludeRef context for an Include inside a Match block: sshd reads that file as part of the block. */
export const SSHD_MATCH_CONTEXT = 'match';

function err(file: string, span: Span, code: 'syntax' | 'invalid-port', message: string): Finding {
  return { file, span, severity: 'error', code, message };
}

/** OpenSSH hpdelim() + cleanhostname(): "[host]:port", "host:port" or "host"; '/' is refused. */
function splitHostPort(text: string): { host: string; hostOffset: number; port?: string; portOffset?: number } | undefined {
  let s: number;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    s = close + 1;
  } else {
    s = text.search(/[:/]/);
    if (s < 0) s = text.length;
  }
  if (s < text.length && text[s] !== ':') return undefined;
  let host = text.slice(0, s);
  let hostOffset = 0;
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    hostOffset = 1;
  }
  if (s >= text.length) return { host, hostOffset };
  return { host, hostOffset, port: text.slice(s + 1), portOffset: s + 1 };
}

/**
 * The addresses getaddrinfo() gives sshd for a ListenAddress host: IPv4 in every inet_aton form
 * (127.1, 0x7f.0.0.1, 2130706433), IPv6 with an optional zone, and the loopback names of
 * /etc/hosts. Other host names resolve only on the target machine: [] (address unknown here).
 * Undefined when the text cannot be an address or a host name.
 */
function resolveListenHost(host: string): ParsedAddress[] | undefined {
  if (host === '') return undefined;
  if (ipaddr.IPv4.isValid(host)) return [parseIp(ipaddr.IPv4.parse(host).toString())!];
  const ip = parseIp(host);
  if (ip && ip.family === 'ipv6') return [ip];
  const known = resolveWellKnownHost(host);
  if (known) return known;
  if (/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/.test(host) && /[A-Za-z_]/.test(host)) return [];
  return undefined;
}

const MATCH_CRITERIA = new Set(['user', 'group', 'host', 'address', 'localaddress', 'localport', 'rdomain']);

export function createSshdModule(serviceToPort: (name: string) => number | undefined): FormatModule {
  function parse(text: string, file: string, context?: string): FileParse {
    const findings: Finding[] = [];
    const extra: SshdExtra = { ports: [], listens: [] };
    const includes: IncludeRef[] = [];
    // sshd -T and sshd at start-up read Match blocks with no connection: every block is inactive
    // except `Match all`. A file included from inside a Match block never becomes active.
    const neverActive = context === SSHD_MATCH_CONTEXT;
    let active = !neverActive;
    // Where the first Match line of this file starts: a Port written below it can move above it.
    let firstMatchStart: number | undefined;
    let offset = 0;
    for (const rawLine of text.split('\n')) {
      const lineStart = offset;
      offset += rawLine.length + 1;
      const line = splitSshdLine(rawLine, lineStart);
      if (!line) continue;
      if (line.problem) {
        findings.push(err(file, line.problem.span, 'syntax', line.problem.message));
        continue;
      }
      const kw = line.keyword.text.toLowerCase();
      if (kw === 'match') {
        firstMatchStart ??= lineStart;
        // A condition sshd refuses stops sshd; read what follows as an inactive block.
        active = (readMatch(line, file, findings) ?? false) && !neverActive;
        continue;
      }
      if (kw === 'include') {
        readInclude(line, file, findings, includes, active);
        continue;
      }
      if (kw !== 'port' && kw !== 'listenaddress' && kw !== 'addressfamily') continue;
      if (!active) {
        const name = kw === 'port' ? 'Port' : kw === 'listenaddress' ? 'ListenAddress' : 'AddressFamily';
        const finding = err(
          file,
          line.keyword.span,
          'syntax',
          `${name} is not allowed inside a Match block: sshd refuses to start (Directive '${line.keyword.text}' is not allowed within a Match block).`,
        );
        finding.fixes = matchBlockFixes(file, text, lineStart, rawLine, firstMatchStart);
        findings.push(finding);
        continue;
      }
      if (kw === 'port') readPort(line, file, extra, findings);
      else if (kw === 'listenaddress') readListenAddress(line, file, extra, findings);
      else readAddressFamily(line, file, extra, findings);
    }
    return { format: 'sshd', file, facts: [], findings, includes, extra };
  }

  /**
   * match_cfg_line() without a connection: true for `Match all`, false for a valid condition,
   * undefined (with a finding) for one sshd refuses.
   */
  function readMatch(line: SshdLine, file: string, findings: Finding[]): boolean | undefined {
    const { text, lineStart } = line;
    let pos: number | undefined = line.restStart - lineStart;
    let attributes = 0;
    const fail = (span: Span, message: string, code: 'syntax' | 'invalid-port' = 'syntax') => {
      findings.push(err(file, span, code, `${message} (sshd: Bad Match condition).`));
      return undefined;
    };
    const word = () => {
      if (pos === undefined || pos >= text.length) return undefined;
      const w = strdelim(text, pos, lineStart);
      pos = w?.next;
      return w;
    };
    for (;;) {
      const attrib = word();
      if (!attrib || attrib.text === '' || attrib.text.startsWith('#')) break;
      attributes++;
      const name = attrib.text.toLowerCase();
      if (name === 'all') {
        const after = word();
        if (attributes > 1 || (after && after.text !== '' && !after.text.startsWith('#')))
          return fail(attrib.span, "'all' cannot be combined with other Match criteria");
        return true;
      }
      const arg = word();
      if (!arg || arg.text === '' || arg.text.startsWith('#')) return fail(attrib.span, `Match ${attrib.text} needs a value`);
      if (!MATCH_CRITERIA.has(name)) return fail(attrib.span, `Unknown Match criterion "${attrib.text}"`);
      if (name === 'localport' && a2port(arg.text, serviceToPort) < 0) {
        return fail(arg.span, `Bad port number "${arg.text}" in Match LocalPort: sshd accepts 0-65535 or a service name`, 'invalid-port');
      }
    }
    if (attributes === 0) return fail(line.keyword.span, 'Match needs at least one criterion');
    return false;
  }

  function readInclude(line: SshdLine, file: string, findings: Finding[], includes: IncludeRef[], active: boolean): void {
    if (line.args.length === 0) {
      findings.push(err(file, line.keyword.span, 'syntax', 'Include needs at least one path.'));
      return;
    }
    for (const arg of line.args) {
      if (arg.text === '') {
        findings.push(err(file, arg.span, 'syntax', 'Empty Include path (sshd: empty argument).'));
        return;
      }
      // sshd resolves a relative path under /etc/ssh, whatever file it is written in.
      includes.push({ span: arg.span, pattern: arg.text, relativeTo: '/etc/ssh', context: active ? undefined : SSHD_MATCH_CONTEXT });
    }
  }

  function extraArguments(line: SshdLine, from: number, file: string, findings: Finding[], hint: string): void {
    const first = line.args[from];
    if (!first) return;
    findings.push(
      err(
        file,
        { start: first.span.start, end: line.args[line.args.length - 1].span.end },
        'syntax',
        `Unexpected text after ${line.keyword.text}: ${hint} (sshd: extra arguments at end of line).`,
      ),
    );
  }

  function readPort(line: SshdLine, file: string, extra: SshdExtra, findings: Finding[]): void {
    const arg = line.args[0];
    if (!arg || arg.text === '') {
      findings.push(err(file, arg?.span ?? line.keyword.span, 'syntax', 'Port needs a port number (sshd: missing port number).'));
      return;
    }
    const port = a2port(arg.text, serviceToPort);
    if (port <= 0) {
      findings.push(err(file, arg.span, 'invalid-port', `Badly formatted port number "${arg.text}": sshd accepts 1-65535 or a service name.`));
      return;
    }
    extra.ports.push({ port, span: arg.span, file });
    extraArguments(line, 1, file, findings, 'Port takes one port; write one Port line per port');
  }

  function readListenAddress(line: SshdLine, file: string, extra: SshdExtra, findings: Finding[]): void {
    const arg = line.args[0];
    if (!arg || arg.text === '') {
      findings.push(err(file, arg?.span ?? line.keyword.span, 'syntax', 'ListenAddress needs an address (sshd: missing address).'));
      return;
    }
    const text = arg.text;
    // Offsets inside the argument hold only when it is written without quotes or escapes.
    const plain = arg.span.end - arg.span.start === text.length;
    const sub = (from: number, length: number): Span => (plain ? { start: arg.span.start + from, end: arg.span.start + from + length } : arg.span);
    let host: string;
    let hostSpan: Span;
    let port: number | undefined;
    let portSpan: Span | undefined;
    const firstColon = text.indexOf(':');
    if (!text.includes('[') && firstColon >= 0 && text.includes(':', firstColon + 1)) {
      // A bare IPv6 address: no brackets and two or more colons; it takes every Port.
      host = text;
      hostSpan = arg.span;
    } else {
      const parts = splitHostPort(text);
      if (!parts) {
        findings.push(
          err(file, arg.span, 'invalid-port', `Malformed ListenAddress "${text}": write host, host:port or [address]:port (sshd: bad address:port usage).`),
        );
        return;
      }
      host = parts.host;
      hostSpan = sub(parts.hostOffset, parts.host.length);
      if (parts.port !== undefined) {
        portSpan = sub(parts.portOffset!, parts.port.length);
        port = a2port(parts.port, serviceToPort);
        if (port <= 0) {
          findings.push(
            err(
              file,
              portSpan.end > portSpan.start ? portSpan : arg.span,
              'invalid-port',
              `Bad port number "${parts.port}" in ListenAddress: sshd accepts 1-65535 or a service name.`,
            ),
          );
          return;
        }
      }
    }
    let rdomain: string | undefined;
    if (line.args.length >= 2) {
      if (line.args[1].text !== 'rdomain' || line.args.length < 3) {
        findings.push(
          err(
            file,
            line.args[1].span,
            'syntax',
            'Unexpected text after ListenAddress: only "rdomain NAME" may follow the address (sshd: bad ListenAddress syntax).',
          ),
        );
        return;
      }
      rdomain = line.args[2].text;
      extraArguments(line, 3, file, findings, 'only "rdomain NAME" may follow the address');
    }
    const addresses = resolveListenHost(host);
    const byName = addresses !== undefined && !ipaddr.IPv4.isValid(host) && !parseIp(host);
    if (!addresses) {
      findings.push(
        err(file, host === '' ? arg.span : hostSpan, 'invalid-port', `"${host}" is not an IP address or host name: sshd refuses to start (bad addr or host).`),
      );
      return;
    }
    extra.listens.push({ addresses, hostText: host, hostSpan, port, portSpan, rdomain, byName: byName || undefined, file });
  }

  function readAddressFamily(line: SshdLine, file: string, extra: SshdExtra, findings: Finding[]): void {
    const arg = line.args[0];
    const value = arg?.text.toLowerCase();
    if (value !== 'any' && value !== 'inet' && value !== 'inet6') {
      findings.push(err(file, arg?.span ?? line.keyword.span, 'syntax', `Bad AddressFamily "${arg?.text ?? ''}": sshd accepts any, inet or inet6.`));
      return;
    }
    // The first AddressFamily sshd reads wins.
    if (!extra.addressFamily) {
      extra.addressFamily = value;
      extra.addressFamilyAt = line.keyword.span.start;
    }
    extraArguments(line, 1, file, findings, 'AddressFamily takes one value');
  }

  /** The AddressFamily sshd applies: the first one it reads, Include files read where they are included. */
  function effectiveAddressFamily(instance: InstanceInput): SshdExtra['addressFamily'] {
    const targets = new Map<IncludeRef, FileParse[]>();
    for (const e of instance.edges) targets.set(e.ref, [...(targets.get(e.ref) ?? []), e.to]);
    const seen = new Set<FileParse>();
    const visit = (f: FileParse): SshdExtra['addressFamily'] => {
      if (seen.has(f)) return undefined;
      seen.add(f);
      const x = f.extra as SshdExtra | undefined;
      const at = x?.addressFamily ? x.addressFamilyAt! : Infinity;
      for (const ref of f.includes) {
        if (ref.span.start > at) break;
        for (const to of targets.get(ref) ?? []) {
          const found = visit(to);
          if (found) return found;
        }
      }
      return x?.addressFamily;
    };
    return visit(instance.root);
  }

  /**
   * What getaddrinfo() answers for the host under AddressFamily. glibc reads an /etc/hosts line
   * for ::1 as 127.0.0.1 when asked for IPv4 only, so a loopback name keeps an IPv4 answer.
   */
  function familyAnswers(l: SshdListen, addressFamily: SshdExtra['addressFamily']): ParsedAddress[] {
    if (addressFamily !== 'inet' || !l.byName) return l.addresses;
    const mapped = l.addresses.map((a) => (a.family === 'ipv6' && a.address === '::1' ? { family: 'ipv4' as const, address: '127.0.0.1' } : a));
    return mapped.filter((a, i) => mapped.findIndex((b) => b.family === a.family && b.address === a.address) === i);
  }

  /** The binds of one sshd: every ListenAddress x Port, defaults filled in as sshd fills them. */
  function link(instance: InstanceInput): InstanceOutput {
    const fragmentOnly = isFragment(instance.root.file);
    const ports: SshdPort[] = [];
    const listens: SshdListen[] = [];
    for (const f of instance.files) {
      const x = f.extra as SshdExtra | undefined;
      if (!x) continue;
      pushAll(ports, x.ports);
      pushAll(listens, x.listens);
    }
    const addressFamily = effectiveAddressFamily(instance);
    const facts: PortFact[] = [];
    const findings: Finding[] = instance.files.flatMap((f) => f.findings);
    for (const c of instance.cycles ?? []) {
      findings.push(
        err(
          c.from.file,
          c.ref.span,
          'syntax',
          `Include "${c.ref.pattern}" leads back to ${c.target}, which is being read: sshd refuses to start (Too many recursive configuration includes).`,
        ),
      );
    }
    const implicitPort = ports.length === 0;
    // A stand-alone sshd_config.d fragment assumes no default port: the main config may set one.
    const effectivePorts: SshdPort[] = implicitPort
      ? fragmentOnly
        ? []
        : [{ port: 22, span: listens[0]?.hostSpan ?? { start: 0, end: 0 }, file: listens[0]?.file ?? instance.root.file }]
      : ports;
    const allowed = (fam: IpFamily) => !addressFamily || addressFamily === 'any' || (addressFamily === 'inet') === (fam === 'ipv4');
    const make = (
      port: SshdPort | { port: number; span: Span; file: string },
      fam: IpFamily | undefined,
      address: string | undefined,
      context: string,
      implicit: boolean,
    ): PortFact => ({
      role: 'listen',
      file: port.file,
      span: port.span,
      protocol: 'tcp',
      port: port.port,
      portEnd: port.port,
      family: fam,
      address,
      v6only: fam === 'ipv6' ? true : undefined,
      program: 'sshd',
      instance: instance.root.file,
      context,
      implicit: implicit || undefined,
      detail: `sshd listens on ${formatHostPort(fam, address, port.port)}${implicit ? ' (default port: no Port directive)' : ''}`,
    });
    if (listens.length === 0) {
      for (const p of effectivePorts) {
        for (const fam of ['ipv4', 'ipv6'] as const) {
          if (allowed(fam)) facts.push(make(p, fam, undefined, 'sshd (no ListenAddress: all addresses)', implicitPort));
        }
      }
    }
    for (const l of listens) {
      const addresses = familyAnswers(l, addressFamily).filter((a) => allowed(a.family));
      if (l.addresses.length > 0 && addresses.length === 0) {
        const wanted = addressFamily === 'inet' ? 'IPv4' : 'IPv6';
        findings.push(
          err(
            l.file,
            l.hostSpan,
            'invalid-port',
            `"${l.hostText}" has no ${wanted} address, but AddressFamily is ${addressFamily}: sshd refuses to start (bad addr or host).`,
          ),
        );
        continue;
      }
      const targets = l.port !== undefined ? [{ port: l.port, span: l.portSpan!, file: l.file }] : effectivePorts;
      const where = l.rdomain ? `ListenAddress ${l.hostText} rdomain ${l.rdomain}` : `ListenAddress ${l.hostText}`;
      for (const p of targets) {
        if (l.addresses.length === 0) {
          // Unresolved host name: a specific address whose family is not known until run time.
          facts.push({ ...make(p, undefined, l.hostText, where, implicitPort && l.port === undefined), detail: `sshd listens on ${l.hostText}:${p.port}` });
        }
        for (const a of addresses) facts.push(make(p, a.family, a.address, where, implicitPort && l.port === undefined));
      }
    }
    return { facts, findings };
  }

  function isFragment(path: string): boolean {
    return /(^|\/)sshd_config\.d\//.test(path);
  }

  return {
    id: 'sshd',
    matchesPath: (path) => /(^|\/)sshd_config$/.test(path) || isFragment(path),
    matchesContent: (text) =>
      /^[^\S\n]*(Port|ListenAddress|PermitRootLogin|PasswordAuthentication|HostKey|Subsystem|UsePAM)\s/im.test(text) && !/[{};]\s*$/m.test(text),
    parse,
    link,
    isFragment,
  };
}
