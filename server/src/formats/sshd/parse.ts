/**
 * sshd_config's parser: each line from the lexer goes to the handler of its keyword (DIRECTIVES);
 * the handlers read Port, ListenAddress, AddressFamily, Include and Match the way servconf.c reads
 * them and record what they find in one SshdParseState.
 */
import * as ipaddr from 'ipaddr.js';
import { parseIp, resolveWellKnownHost, type ParsedAddress } from '../../core/address';
import { MAX_PORT } from '../../core/portRanges';
import { looksLikeServiceName, UNKNOWN_SERVICE_MESSAGES, unknownService, type ServiceLookup } from '../../core/serviceNames';
import type { FileParse, Finding, IncludeRef, Span } from '../../core/types';
import { splitSshdLine, strdelim, type SshdLine, type Token } from './lexer';
import { matchBlockFixes } from './writer';

/**
 * OpenSSH a2port(): strtonum(s, 0, 65535), else getservbyname(s, "tcp"); -1 when neither.
 * getservbyname compares names case-sensitively, and /etc/services spells them in lower case.
 */
export function a2port(text: string, serviceToPort: (name: string) => number | undefined): number {
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
  /** The stock sshd_config (index.ts), which the workspace does not hold: it only includes the drop-ins. */
  implicit?: boolean;
}

/** IncludeRef context for an Include inside a Match block: sshd reads that file as part of the block. */
export const SSHD_MATCH_CONTEXT = 'match';

/** A port sshd's a2port refuses: unknown-service when it is written as a name, else invalid-port. */
function badPort(state: SshdParseState, span: Span, text: string, message: string, sshdSays: string): Finding {
  if (!looksLikeServiceName(text)) return err(state.file, span, 'invalid-port', message);
  const lower = text !== text.toLowerCase() && a2port(text.toLowerCase(), state.serviceToPort) >= 0 ? ' (names are case-sensitive)' : '';
  return unknownService(state.file, span, text, `Unknown service "${text}": /etc/services has no such name${lower} (sshd: ${sshdSays}).`, {
    messageId: UNKNOWN_SERVICE_MESSAGES.portName,
    program: 'sshd',
    protocol: 'tcp',
    known: state.serviceToPort.known?.('tcp'),
    rewritable: span.end - span.start === text.length,
  });
}

export function err(file: string, span: Span, code: 'syntax' | 'invalid-port', message: string): Finding {
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

/** What the parser knows while it reads one file, line by line. */
export class SshdParseState {
  readonly findings: Finding[] = [];
  readonly extra: SshdExtra = { ports: [], listens: [] };
  readonly includes: IncludeRef[] = [];
  /**
   * sshd -T and sshd at start-up read Match blocks with no connection: every block is inactive
   * except `Match all`. A file included from inside a Match block never becomes active.
   */
  readonly neverActive: boolean;
  /** Whether the lines read now apply to sshd as a whole (outside Match, or under `Match all`). */
  active: boolean;
  /** Where the first Match line of this file starts: a Port written below it can move above it. */
  firstMatchStart: number | undefined;

  constructor(
    readonly text: string,
    readonly file: string,
    context: string | undefined,
    readonly serviceToPort: ServiceLookup,
  ) {
    this.neverActive = context === SSHD_MATCH_CONTEXT;
    this.active = !this.neverActive;
  }
}

/** One keyword's handler; `globalOnly` names a directive sshd refuses inside a Match block. */
interface DirectiveHandler {
  globalOnly?: string;
  read(line: SshdLine, state: SshdParseState): void;
}

/**
 * match_cfg_line() without a connection: true for `Match all`, false for a valid condition,
 * undefined (with a finding) for one sshd refuses.
 */
function readMatch(line: SshdLine, state: SshdParseState): boolean | undefined {
  const { file, findings, serviceToPort } = state;
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
      findings.push(
        badPort(
          state,
          arg.span,
          arg.text,
          `Bad port number "${arg.text}" in Match LocalPort: sshd accepts 0-65535 or a service name (sshd: Bad Match condition).`,
          'Bad Match condition',
        ),
      );
      return undefined;
    }
  }
  if (attributes === 0) return fail(line.keyword.span, 'Match needs at least one criterion');
  return false;
}

function readInclude(line: SshdLine, state: SshdParseState): void {
  const { file, findings, includes, active } = state;
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

/** The directive's first argument, or a finding (with `message`) when it is missing or empty. */
function firstArgument(line: SshdLine, state: SshdParseState, message: string): Token | undefined {
  const arg = line.args[0];
  if (arg && arg.text !== '') return arg;
  state.findings.push(err(state.file, arg?.span ?? line.keyword.span, 'syntax', message));
  return undefined;
}

function readPort(line: SshdLine, state: SshdParseState): void {
  const { file, extra, findings, serviceToPort } = state;
  const arg = firstArgument(line, state, 'Port needs a port number (sshd: missing port number).');
  if (!arg) return;
  const port = a2port(arg.text, serviceToPort);
  if (port <= 0) {
    findings.push(
      badPort(state, arg.span, arg.text, `Badly formatted port number "${arg.text}": sshd accepts 1-65535 or a service name.`, 'Badly formatted port number'),
    );
    return;
  }
  extra.ports.push({ port, span: arg.span, file });
  extraArguments(line, 1, file, findings, 'Port takes one port; write one Port line per port');
}

function readListenAddress(line: SshdLine, state: SshdParseState): void {
  const { file, extra, findings, serviceToPort } = state;
  const arg = firstArgument(line, state, 'ListenAddress needs an address (sshd: missing address).');
  if (!arg) return;
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
          badPort(
            state,
            portSpan.end > portSpan.start ? portSpan : arg.span,
            parts.port,
            `Bad port number "${parts.port}" in ListenAddress: sshd accepts 1-65535 or a service name.`,
            'bad port number',
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

function readAddressFamily(line: SshdLine, state: SshdParseState): void {
  const { file, extra, findings } = state;
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

/** The keywords (lower case) Portolan reads; sshd's other keywords do not bind or include anything. */
const DIRECTIVES = new Map<string, DirectiveHandler>([
  [
    'match',
    {
      read(line, state) {
        state.firstMatchStart ??= line.lineStart;
        // A condition sshd refuses stops sshd; read what follows as an inactive block.
        state.active = (readMatch(line, state) ?? false) && !state.neverActive;
      },
    },
  ],
  ['include', { read: readInclude }],
  ['port', { globalOnly: 'Port', read: readPort }],
  ['listenaddress', { globalOnly: 'ListenAddress', read: readListenAddress }],
  ['addressfamily', { globalOnly: 'AddressFamily', read: readAddressFamily }],
]);

/** A global-only directive inside a Match block: sshd refuses to start. */
function refuseInMatch(name: string, line: SshdLine, rawLine: string, state: SshdParseState): void {
  const finding = err(
    state.file,
    line.keyword.span,
    'syntax',
    `${name} is not allowed inside a Match block: sshd refuses to start (Directive '${line.keyword.text}' is not allowed within a Match block).`,
  );
  finding.fixes = matchBlockFixes(state.file, state.text, line.lineStart, rawLine, state.firstMatchStart);
  state.findings.push(finding);
}

export function parseSshd(text: string, file: string, context: string | undefined, serviceToPort: ServiceLookup): FileParse {
  const state = new SshdParseState(text, file, context, serviceToPort);
  let offset = 0;
  for (const rawLine of text.split('\n')) {
    const lineStart = offset;
    offset += rawLine.length + 1;
    const line = splitSshdLine(rawLine, lineStart);
    if (!line) continue;
    if (line.problem) {
      state.findings.push(err(file, line.problem.span, 'syntax', line.problem.message));
      continue;
    }
    const handler = DIRECTIVES.get(line.keyword.text.toLowerCase());
    if (!handler) continue;
    if (handler.globalOnly && !state.active) refuseInMatch(handler.globalOnly, line, rawLine, state);
    else handler.read(line, state);
  }
  return { format: 'sshd', file, facts: [], findings: state.findings, includes: state.includes, extra: state.extra };
}
