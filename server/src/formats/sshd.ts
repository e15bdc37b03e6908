/**
 * sshd_config: Port, ListenAddress, AddressFamily, Include and Match, read the way OpenSSH's
 * servconf.c reads them (checked against `sshd -T` in test/oracle/sshd.test.ts).
 */
import { parseIp, resolveWellKnownHost, formatHostPort, type ParsedAddress } from '../core/address';
import { MAX_PORT } from '../core/portRanges';
import type { FileParse, Finding, FormatModule, InstanceInput, InstanceOutput, PortFact, Span, IpFamily } from '../core/types';

export interface Token {
  text: string;
  span: Span;
}

interface SshdLine {
  keyword: Token;
  args: Token[];
  inMatch: boolean;
}

/** Splits one line like OpenSSH's argv_split: whitespace or one '=' after the keyword, double quotes, '#' starts a comment at a word start. */
export function tokenizeLine(line: string, offset: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i];
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f' || (ch === '=' && tokens.length === 1)) {
      i++;
      continue;
    }
    if (ch === '#') break;
    const start = i;
    let text = '';
    if (ch === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        text += line[i++];
      }
      i++; // closing quote (or end of line)
    } else {
      while (i < line.length && !/[\s]/.test(line[i]) && !(line[i] === '=' && tokens.length === 0)) {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        text += line[i++];
      }
    }
    tokens.push({ text, span: { start: offset + start, end: offset + Math.min(i, line.length) } });
  }
  return tokens;
}

/** OpenSSH's a2port: a decimal 0-65535 or a TCP service name; 0 and unknown names are errors (<= 0). */
function a2port(text: string, serviceToPort: (name: string) => number | undefined): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= 1 && n <= MAX_PORT ? n : undefined;
  }
  const byName = /^[A-Za-z][A-Za-z0-9-]*$/.test(text) ? serviceToPort(text) : undefined;
  return byName && byName > 0 ? byName : undefined;
}

export interface SshdPort {
  port: number;
  span: Span;
  file: string;
}

export interface SshdListen {
  /** Addresses this ListenAddress binds (a hostname other than localhost resolves at run time: address kept as written). */
  addresses: ParsedAddress[];
  hostText: string;
  hostSpan: Span;
  port?: number;
  portSpan?: Span;
  rdomain?: string;
  file: string;
}

export interface SshdExtra {
  ports: SshdPort[];
  listens: SshdListen[];
  addressFamily?: 'any' | 'inet' | 'inet6';
}

function err(file: string, span: Span, code: 'syntax' | 'invalid-port', message: string): Finding {
  return { file, span, severity: 'error', code, message };
}

/** Splits a ListenAddress argument like OpenSSH's hpdelim(): "[v6]:port", "host:port" or "host". */
function splitHostPort(text: string): { host: string; hostOffset: number; port?: string; portOffset?: number } | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    const host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest === '') return { host, hostOffset: 1 };
    if (!rest.startsWith(':')) return undefined;
    return { host, hostOffset: 1, port: rest.slice(1), portOffset: close + 2 };
  }
  const colon = text.indexOf(':');
  if (colon < 0) return { host: text, hostOffset: 0 };
  return { host: text.slice(0, colon), hostOffset: 0, port: text.slice(colon + 1), portOffset: colon + 1 };
}

export function createSshdModule(serviceToPort: (name: string) => number | undefined): FormatModule {
  function parse(text: string, file: string): FileParse {
    const findings: Finding[] = [];
    const extra: SshdExtra = { ports: [], listens: [] };
    const includes: FileParse['includes'] = [];
    let inMatch = false;
    let offset = 0;
    for (const rawLine of text.split('\n')) {
      const lineStart = offset;
      offset += rawLine.length + 1;
      const tokens = tokenizeLine(rawLine, lineStart);
      if (tokens.length === 0) continue;
      const [keyword, ...args] = tokens;
      const line: SshdLine = { keyword, args, inMatch };
      const kw = keyword.text.toLowerCase();
      if (kw === 'match') {
        inMatch = true;
        continue;
      }
      if (kw === 'include') {
        if (args.length === 0) findings.push(err(file, keyword.span, 'syntax', 'Include needs at least one path.'));
        for (const arg of args) includes.push({ span: arg.span, pattern: arg.text, relativeTo: '/etc/ssh' });
        continue;
      }
      if (kw === 'port') parsePort(line, file, extra, findings);
      else if (kw === 'listenaddress') parseListenAddress(line, file, extra, findings);
      else if (kw === 'addressfamily' && !inMatch && !extra.addressFamily) {
        const v = args[0]?.text.toLowerCase();
        if (v === 'any' || v === 'inet' || v === 'inet6') extra.addressFamily = v;
        else findings.push(err(file, args[0]?.span ?? keyword.span, 'syntax', `Bad AddressFamily "${args[0]?.text ?? ''}": sshd accepts any, inet or inet6.`));
      }
    }
    return { format: 'sshd', file, facts: [], findings, includes, extra };
  }

  function notInMatch(line: SshdLine, file: string, findings: Finding[], name: string): boolean {
    if (!line.inMatch) return true;
    findings.push(err(file, line.keyword.span, 'syntax', `Directive '${name}' is not allowed within a Match block (sshd refuses to start).`));
    return false;
  }

  function parsePort(line: SshdLine, file: string, extra: SshdExtra, findings: Finding[]): void {
    if (!notInMatch(line, file, findings, 'Port')) return;
    const arg = line.args[0];
    if (!arg) {
      findings.push(err(file, line.keyword.span, 'invalid-port', 'Port needs a port number (sshd: missing argument).'));
      return;
    }
    const port = a2port(arg.text, serviceToPort);
    if (port === undefined) {
      findings.push(err(file, arg.span, 'invalid-port', `Badly formatted port number "${arg.text}": sshd accepts 1-65535 or a service name.`));
    } else {
      extra.ports.push({ port, span: arg.span, file });
    }
    if (line.args.length > 1) findings.push(err(file, line.args[1].span, 'syntax', 'Port takes one port; write one Port line per port (sshd: garbage at end of line).'));
  }

  function parseListenAddress(line: SshdLine, file: string, extra: SshdExtra, findings: Finding[]): void {
    if (!notInMatch(line, file, findings, 'ListenAddress')) return;
    const arg = line.args[0];
    if (!arg) {
      findings.push(err(file, line.keyword.span, 'syntax', 'ListenAddress needs an address (sshd: missing address).'));
      return;
    }
    let rdomain: string | undefined;
    if (line.args.length >= 2) {
      if (line.args[1].text.toLowerCase() !== 'rdomain' || line.args.length !== 3) {
        findings.push(err(file, line.args[1].span, 'syntax', 'Unexpected text after ListenAddress: only "rdomain NAME" may follow the address.'));
        return;
      }
      rdomain = line.args[2].text;
    }
    const text = arg.text;
    // A bare IPv6 address: no brackets and two or more colons; it takes every Port.
    const firstColon = text.indexOf(':');
    if (!text.includes('[') && firstColon >= 0 && text.indexOf(':', firstColon + 1) >= 0) {
      const ip = parseIp(text);
      if (!ip || ip.family !== 'ipv6') {
        findings.push(err(file, arg.span, 'syntax', `"${text}" is not a valid IPv6 address; write [address]:port to give a port.`));
        return;
      }
      extra.listens.push({ addresses: [ip], hostText: text, hostSpan: arg.span, rdomain, file });
      return;
    }
    const parts = splitHostPort(text);
    if (!parts || parts.host === '') {
      findings.push(err(file, arg.span, 'syntax', `Bad address:port usage in "${text}".`));
      return;
    }
    const hostSpan = { start: arg.span.start + parts.hostOffset, end: arg.span.start + parts.hostOffset + parts.host.length };
    const addresses = resolveHost(parts.host);
    if (!addresses) {
      findings.push(err(file, hostSpan, 'syntax', `"${parts.host}" is not an IP address or host name.`));
      return;
    }
    const listen: SshdListen = { addresses, hostText: parts.host, hostSpan, rdomain, file };
    if (parts.port !== undefined) {
      const portSpan = { start: arg.span.start + parts.portOffset!, end: arg.span.end };
      const port = a2port(parts.port, serviceToPort);
      if (port === undefined) {
        findings.push(err(file, portSpan, 'invalid-port', `Bad port number "${parts.port}" in ListenAddress: sshd accepts 1-65535 or a service name.`));
        return;
      }
      listen.port = port;
      listen.portSpan = portSpan;
    }
    extra.listens.push(listen);
  }

  function resolveHost(host: string): ParsedAddress[] | undefined {
    const ip = parseIp(host);
    if (ip) return [ip];
    const known = resolveWellKnownHost(host);
    if (known) return known;
    // Other host names resolve at run time; keep them as opaque addresses of unknown family.
    if (/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host) && /[A-Za-z]/.test(host)) return [];
    return undefined;
  }

  /** The binds of one sshd: every ListenAddress x Port, defaults filled in as sshd fills them. */
  function link(instance: InstanceInput): InstanceOutput {
    const fragmentOnly = isFragment(instance.root.file);
    const ports: SshdPort[] = [];
    const listens: SshdListen[] = [];
    let addressFamily: SshdExtra['addressFamily'];
    for (const f of instance.files) {
      const x = f.extra as SshdExtra | undefined;
      if (!x) continue;
      ports.push(...x.ports);
      listens.push(...x.listens);
      addressFamily ??= x.addressFamily;
    }
    const facts: PortFact[] = [];
    const implicitPort = ports.length === 0;
    // A stand-alone sshd_config.d fragment assumes no default port: the main config may set one.
    const effectivePorts: SshdPort[] = implicitPort
      ? fragmentOnly
        ? []
        : [{ port: 22, span: listens[0]?.hostSpan ?? { start: 0, end: 0 }, file: listens[0]?.file ?? instance.root.file }]
      : ports;
    const allowed = (fam: IpFamily) => !addressFamily || addressFamily === 'any' || (addressFamily === 'inet') === (fam === 'ipv4');
    const make = (port: SshdPort | { port: number; span: Span; file: string }, fam: IpFamily | undefined, address: string | undefined, context: string, implicit: boolean): PortFact => ({
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
      const targets = l.port !== undefined ? [{ port: l.port, span: l.portSpan!, file: l.file }] : effectivePorts;
      const where = l.rdomain ? `ListenAddress ${l.hostText} rdomain ${l.rdomain}` : `ListenAddress ${l.hostText}`;
      for (const p of targets) {
        if (l.addresses.length === 0) {
          // Unresolved host name: a specific address whose family is not known until run time.
          facts.push({ ...make(p, undefined, l.hostText, where, implicitPort && l.port === undefined), detail: `sshd listens on ${l.hostText}:${p.port}` });
        }
        for (const a of l.addresses) {
          if (allowed(a.family)) facts.push(make(p, a.family, a.address, where, implicitPort && l.port === undefined));
        }
      }
    }
    return { facts, findings: instance.files.flatMap((f) => f.findings) };
  }

  function isFragment(path: string): boolean {
    return /(^|\/)sshd_config\.d\//.test(path);
  }

  return {
    id: 'sshd',
    matchesPath: (path) => /(^|\/)sshd_config$/.test(path) || isFragment(path),
    matchesContent: (text) => /^\s*(Port|ListenAddress|PermitRootLogin|PasswordAuthentication|HostKey|Subsystem|UsePAM)\s/im.test(text) && !/[{};]\s*$/m.test(text),
    parse,
    link,
    isFragment,
  };
}
