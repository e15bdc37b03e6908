/**
 * nginx: every socket a configuration binds (`listen` in http, stream and mail servers, the implicit
 * *:80 of a server without one) and every socket it points at (proxy_pass and the other *_pass
 * directives, `server` in `upstream {}`), read the way nginx 1.22 reads them on Linux
 * (ngx_parse_url, ngx_http_core_listen, ngx_stream_core_listen, ngx_http_add_addresses), with the
 * parameters newer versions added (quic, multipath, default_server in stream) accepted.
 * Checked against `nginx -t` in test/oracle/nginx.test.ts.
 *
 * parse() reads one file in the context of the include that reached it; link() replays the files of
 * one running nginx in the order nginx reads them (includes spliced in where they stand) and judges
 * what needs the whole configuration: duplicate default servers and listen options, duplicate
 * listens, the implicit *:80 of a server whose listens may come from an included file, and whether
 * `proxy_pass http://NAME` names an `upstream {}` block.
 */
import * as path from 'path';
import { pushAll } from '../../core/arrays';
import { flat } from '../../core/strings';
import { formatHostPort, parseIp, resolveWellKnownHost } from '../../core/address';
import { FileIndex, resolveInclude } from '../../core/includes';
import { LineIndex } from '../../core/lineIndex';
import { MAX_PORT } from '../../core/portRanges';
import { drain } from '../../core/steps';
import { CONFLICT_MESSAGES } from '../../core/conflicts';
import type {
  FileParse,
  Finding,
  FormatModule,
  IncludeRef,
  InstanceInput,
  InstanceOutput,
  IpFamily,
  ParseSteps,
  PortFact,
  Protocol,
  RelatedLocation,
  Span,
} from '../../core/types';
import { confDirOf, nginxMains } from './mains';
import { PortRuns } from './portRuns';
import { nginxWriter, removeListenParameter } from './writer';
import { parseNginxTreeSteps, type NginxDirective, type NginxWord } from './lexer';

/** Where a directive stands; an IncludeRef carries it to the included file. */
export type NginxContext =
  'main' | 'events' | 'http' | 'server' | 'location' | 'upstream' | 'stream' | 'stream-server' | 'stream-upstream' | 'mail' | 'mail-server' | 'other';

type NginxModuleKind = 'http' | 'stream' | 'mail';

const CONTEXTS = new Set<string>([
  'main',
  'events',
  'http',
  'server',
  'location',
  'upstream',
  'stream',
  'stream-server',
  'stream-upstream',
  'mail',
  'mail-server',
  'other',
]);

/** Directives that only stand in the main context: a file holding one of them is a main configuration. */
const MAIN_ONLY = new Set([
  'http',
  'events',
  'stream',
  'mail',
  'worker_processes',
  'user',
  'pid',
  'load_module',
  'worker_rlimit_nofile',
  'daemon',
  'master_process',
  'env',
  'pcre_jit',
  'thread_pool',
  'lock_file',
  'working_directory',
  'worker_cpu_affinity',
  'worker_priority',
  'worker_shutdown_timeout',
  'timer_resolution',
]);
/** Directives of a server block: a stand-alone file that starts with them is a snippet included into a server. */
const SERVER_LEVEL = new Set(['listen', 'server_name', 'location', 'ssl_certificate', 'return', 'root']);

/** A listening address after host resolution: a literal, localhost, an opaque host name, or a unix socket. */
interface ListenAddress {
  family?: IpFamily;
  address?: string;
  /** Host name kept as written (resolved by nginx at start). */
  hostName?: string;
  unixPath?: string;
}

interface ServerEvent {
  kind: 'server';
  id: number;
  module: NginxModuleKind;
  keyword: Span;
  line: number;
  names: string[];
}

/** The server a directive belongs to: a server block of this file, or the one around the include that read this file. */
type ServerRef = number | 'enclosing';

interface ListenEvent {
  kind: 'listen';
  module: NginxModuleKind;
  server: ServerRef;
  /** The port as written (the address when the port is implied). */
  portSpan: Span;
  argText: string;
  addresses: ListenAddress[];
  port: number;
  portEnd: number;
  protocol: Protocol;
  params: string[];
  defaultServer: boolean;
  /** The `default_server` word with the blank before it: what a quick fix removes. */
  defaultRemoval?: Span;
  /** A socket option is set (nginx's lsopt.set): only one listen per address:port may do so. */
  set: boolean;
  /** nginx binds this address with its own bind() (lsopt.bind). */
  bind: boolean;
  ipv6only: boolean;
}

interface IncludeEvent {
  kind: 'include';
  ref: IncludeRef;
  /** For /etc/nginx/REST: REST beside the main config, read when the workspace does not mirror /etc. */
  fallback?: IncludeRef;
  server?: ServerRef;
}

interface PassEvent {
  kind: 'pass';
  module: 'http' | 'stream';
  directive: string;
  server?: ServerRef;
  /** Name of the upstream {} block the `server` line stands in. */
  upstream?: string;
  host: string;
  hostSpan: Span;
  port?: number;
  portSpan?: Span;
  /** Port a scheme implies (http:// 80, https:// 443) when none is written; undefined when a port is required. */
  defaultPort?: number;
  scheme?: string;
}

interface UpstreamEvent {
  kind: 'upstream';
  module: 'http' | 'stream';
  name: string;
}

/** A listen directive stood here, readable or not: nginx marks the server as listening before it parses the address. */
interface ListenSeenEvent {
  kind: 'listen-seen';
  server: ServerRef;
}

type NginxEvent = ServerEvent | ListenEvent | ListenSeenEvent | IncludeEvent | PassEvent | UpstreamEvent;

export interface NginxExtra {
  context: NginxContext;
  events: NginxEvent[];
  /**
   * A site file's text (sites-/streams-available|enabled/X), to count it once when sites-enabled/X links to
   * sites-available/X: the engine's own string for the file, so keeping it here costs nothing.
   */
  siteText?: string;
  /** The stock nginx.conf (mains.ts), which the workspace does not hold: what else it includes is unknown. */
  implicit?: boolean;
}

function finding(
  file: string,
  span: Span,
  code: Finding['code'],
  message: string,
  severity: Finding['severity'] = 'error',
  related?: RelatedLocation[],
): Finding {
  return { file, span, severity, code, message, ...(related ? { related } : {}) };
}

/** A port-conflict nginx itself refuses (nginx -t): `at` listens where `first` already does. */
function nginxConflict(at: ListenAt, port: number, first: ListenAt, messageId: string, message: string, related: RelatedLocation[]): Finding {
  return {
    ...finding(at.file, at.event.portSpan, 'port-conflict', message, 'error', related),
    messageId,
    data: {
      port,
      portEnd: port,
      protocol: at.event.protocol,
      program: 'nginx',
      other: [{ file: first.file, span: first.event.portSpan, program: 'nginx', port }],
    },
  };
}

/** ngx_atoi: decimal digits only, at least one; anything else is an error (undefined). */
function ngxAtoi(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
}

/** ngx_inet_addr: digits and dots, three dots, octets up to 255 (nginx reads "010" as ten, and "1..2.3" as 1.0.2.3). */
function ngxInetAddr(text: string): string | undefined {
  if (!/^[0-9.]+$/.test(text)) return undefined;
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const octets = parts.map((p) => (p === '' ? 0 : Number(p)));
  if (octets.some((o) => o > 255)) return undefined;
  return octets.join('.');
}

/** ngx_parse_size: digits with an optional k/K/m/M suffix. */
const isNgxSize = (text: string) => /^[0-9]+[kKmM]?$/.test(text);

/** ngx_parse_time in seconds: "30", "30s", "1m30s", "1h"... each unit once, largest first. */
function isNgxSeconds(text: string): boolean {
  const m = /^(?:(\d+)y ?)?(?:(\d+)M ?)?(?:(\d+)w ?)?(?:(\d+)d ?)?(?:(\d+)h ?)?(?:(\d+)m ?)?(?:(\d+)s?)?$/.exec(text);
  return !!m && m.slice(1).some((g) => g !== undefined);
}

/** so_keepalive=on|off|[keepidle]:[keepintvl]:[keepcnt] (the tunable form exists on Linux). */
function isKeepalive(value: string): boolean {
  if (value === 'on' || value === 'off') return true;
  const parts = value.split(':');
  if (parts.length > 3) return false;
  const [idle = '', intvl = '', cnt = ''] = parts;
  if (idle && !isNgxSeconds(idle)) return false;
  if (intvl && !isNgxSeconds(intvl)) return false;
  if (cnt && ngxAtoi(cnt) === undefined) return false;
  return !!(idle || intvl || cnt) && !(isZero(idle) && isZero(intvl) && isZero(cnt));
}
const isZero = (t: string) => t === '' || /^0+[a-zA-Z]?$/.test(t);

interface ParsedUrl {
  error?: string;
  /** Span (relative to the text) the error is about. */
  errorAt?: [number, number];
  unix?: string;
  host?: string;
  hostAt?: [number, number];
  port?: number;
  portEnd?: number;
  portAt?: [number, number];
  /** Only the port was written (`listen 8080`). */
  portOnly?: boolean;
}

/** ngx_parse_url as `listen` calls it (u.listen = 1): port ranges, a bare port, no URI. */
/** A parse result (fresh, not shared) with its host: set on it, not spread into a copy (a spread copy is slow and gets a hidden class of its own). */
function withHost(result: ParsedUrl, host: string, hostAt: [number, number]): ParsedUrl {
  result.host = host;
  result.hostAt = hostAt;
  return result;
}

function parseListenUrl(text: string): ParsedUrl {
  const len = text.length;
  if (len >= 5 && text.slice(0, 5).toLowerCase() === 'unix:') {
    if (len === 5) return { error: 'no path in the unix domain socket', errorAt: [0, len] };
    return { unix: text.slice(5) };
  }
  const portRange = (from: number): ParsedUrl => {
    const portText = text.slice(from);
    const dash = portText.indexOf('-');
    const first = dash >= 0 ? portText.slice(0, dash) : portText;
    const last = dash >= 0 ? ngxAtoi(portText.slice(dash + 1)) : undefined;
    const at: [number, number] = [from, len];
    if (dash >= 0 && (last === undefined || last < 1 || last > MAX_PORT)) return { error: 'invalid port', errorAt: at };
    const n = ngxAtoi(first);
    if (n === undefined || n < 1 || n > MAX_PORT) return { error: 'invalid port', errorAt: at };
    if (last !== undefined && n > last) return { error: 'invalid port range', errorAt: at };
    return { port: n, portEnd: last ?? n, portAt: at };
  };
  if (text.startsWith('[')) {
    const close = text.indexOf(']', 1);
    if (close < 0) return { error: 'invalid host', errorAt: [0, len] };
    if (text.indexOf('/', close + 1) >= 0) return { error: 'invalid host', errorAt: [0, len] };
    let result: ParsedUrl = {};
    if (close + 1 < len) {
      if (text[close + 1] !== ':') return { error: 'invalid host', errorAt: [0, len] };
      result = portRange(close + 2);
      if (result.error) return result;
    }
    if (close === 1) return { error: 'no host', errorAt: [0, len] };
    return withHost(result, text.slice(0, close + 1), [0, close + 1]);
  }
  const colon = text.indexOf(':');
  const slash = text.indexOf('/');
  const question = text.indexOf('?');
  if (slash >= 0 || question >= 0) return { error: 'invalid host', errorAt: [0, len] };
  if (colon >= 0) {
    const result = portRange(colon + 1);
    if (result.error) return result;
    if (colon === 0) return { error: 'no host', errorAt: [0, len] };
    return withHost(result, text.slice(0, colon), [0, colon]);
  }
  // No colon: a port alone if it reads as one (a range "8000-8010" too), else a host with the default port.
  const dash = text.indexOf('-');
  const last = dash >= 0 ? ngxAtoi(text.slice(dash + 1)) : undefined;
  if (dash < 0 || last !== undefined) {
    const n = ngxAtoi(dash >= 0 ? text.slice(0, dash) : text);
    if (n !== undefined) {
      if (last !== undefined && (last < 1 || last > MAX_PORT)) return { error: 'invalid port', errorAt: [0, len] };
      if (n < 1 || n > MAX_PORT) return { error: 'invalid port', errorAt: [0, len] };
      if (last !== undefined && n > last) return { error: 'invalid port range', errorAt: [0, len] };
      return { port: n, portEnd: last ?? n, portAt: [0, len], portOnly: true };
    }
  }
  if (len === 0) return { error: 'no host', errorAt: [0, 0] };
  return { host: text, hostAt: [0, len] };
}

/** ngx_parse_url as the *_pass directives and `server` in upstream call it (no ranges; a URI only where allowed). */
function parseUpstreamUrl(text: string, uriAllowed: boolean): ParsedUrl {
  const len = text.length;
  if (len >= 5 && text.slice(0, 5).toLowerCase() === 'unix:') return { unix: text.slice(5) };
  const port = (from: number, to: number): ParsedUrl => {
    const n = ngxAtoi(text.slice(from, to));
    if (n === undefined || n < 1 || n > MAX_PORT) return { error: 'invalid port', errorAt: [from, to] };
    return { port: n, portEnd: n, portAt: [from, to] };
  };
  if (text.startsWith('[')) {
    const close = text.indexOf(']', 1);
    if (close < 0) return { error: 'invalid host', errorAt: [0, len] };
    let end = len;
    const slash = text.indexOf('/', close + 1);
    if (slash >= 0) {
      if (!uriAllowed) return { error: 'invalid host', errorAt: [0, len] };
      end = slash;
    }
    let result: ParsedUrl = {};
    if (close + 1 < end) {
      if (text[close + 1] !== ':') return { error: 'invalid host', errorAt: [0, len] };
      result = port(close + 2, end);
      if (result.error) return result;
    }
    return withHost(result, text.slice(0, close + 1), [0, close + 1]);
  }
  let colon = text.indexOf(':');
  let end = len;
  const slash = text.indexOf('/');
  const question = text.indexOf('?');
  const uri = slash < 0 ? question : question < 0 ? slash : Math.min(slash, question);
  if (uri >= 0) {
    if (!uriAllowed) return { error: 'invalid host', errorAt: [0, len] };
    end = uri;
    if (uri < colon) colon = -1;
  }
  let result: ParsedUrl = {};
  let hostEnd = end;
  if (colon >= 0) {
    result = port(colon + 1, end);
    if (result.error) return result;
    hostEnd = colon;
  }
  if (hostEnd === 0) return { error: 'no host', errorAt: [0, len] };
  return withHost(result, text.slice(0, hostEnd), [0, hostEnd]);
}

/** What a listen host means: a literal address, localhost, `*`, or a name resolved at start. */
function resolveListenHost(host: string): ListenAddress[] {
  if (host === '*') return [{ family: 'ipv4' }];
  if (host.startsWith('[')) {
    const ip = parseIp(host);
    return ip && ip.family === 'ipv6' ? [{ family: 'ipv6', address: ip.address }] : [];
  }
  const v4 = ngxInetAddr(host);
  if (v4 !== undefined) return [{ family: 'ipv4', address: v4 === '0.0.0.0' ? undefined : v4 }];
  const known = resolveWellKnownHost(host);
  if (known) return known.map((a) => ({ family: a.family, address: a.address }));
  return isPlausibleHostName(host) ? [{ hostName: host.toLowerCase() }] : [];
}

/**
 * A name a resolver could answer: dot-separated labels of letters, digits, '-' and '_'. Digits and
 * dots alone are a mistyped IPv4 address, and a single label that starts with a digit ("8O80",
 * "80x") a mistyped port: nginx finds no such host.
 */
function isPlausibleHostName(host: string): boolean {
  if (!/^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/.test(host)) return false;
  if (/^[0-9.]+$/.test(host)) return false;
  return host.includes('.') || /^[A-Za-z_]/.test(host);
}

function addressKey(a: ListenAddress): string {
  if (a.unixPath !== undefined) return `unix:${a.unixPath}`;
  if (a.hostName !== undefined) return `name:${a.hostName}`;
  return `${a.family}:${a.address ?? '*'}`;
}

/** How nginx prints an address:port in its messages: 0.0.0.0:80, [::]:443, unix:/path. */
function addrText(a: ListenAddress, port: number): string {
  if (a.unixPath !== undefined) return `unix:${a.unixPath}`;
  if (a.hostName !== undefined) return `${a.hostName}:${port}`;
  return formatHostPort(a.family, a.address, port);
}

const PARAM_VALUE = /^([a-z0-9_]+)=(.*)$/s;

/** A Debian site file: sites-available/X, sites-enabled/X (and streams-). */
const SITE_FILE = /(^|\/)(sites|streams?)-(available|enabled)\/([^/]+)$/;

export function createNginxModule(): FormatModule {
  function* parseSteps(text: string, file: string, context?: string): ParseSteps {
    const extra: NginxExtra = { context: 'http', events: [], siteText: SITE_FILE.test(file) ? text : undefined };
    const result: FileParse = { format: 'nginx', file, facts: [], findings: [], includes: [], extra };
    // A file claimed by its path alone may be something else (an Apache site, an INI file): say nothing about it.
    if (context === undefined && !looksLikeNginx(text)) return result;
    const tree = yield* parseNginxTreeSteps(text);
    yield;
    for (const e of tree.errors) result.findings.push(finding(file, e.span, 'syntax', e.message));
    const start: NginxContext = context !== undefined && CONTEXTS.has(context) ? (context as NginxContext) : standaloneContext(tree.directives, file);
    extra.context = start;
    const lines = new LineIndex(text);
    // Relative includes resolve against nginx's conf directory: the main config's. A site file read on
    // its own stands for itself, so its conf directory is the parent of sites-enabled/, conf.d/, ...
    const relativeTo = context === undefined && start !== 'main' ? confDirOf(file) : 'root-file-dir';
    const reader = new FileReader(file, result, extra, lines, relativeTo);
    const topServer: ServerRef | undefined =
      start === 'server' || start === 'location' || start === 'stream-server' || start === 'mail-server' ? 'enclosing' : undefined;
    reader.walk(tree.directives, start, topServer, undefined);
    // After a tokenizer error the next word may be misread too: one finding per place is enough.
    const seen = new Set<string>();
    result.findings = result.findings.filter((f) => {
      const key = `${f.span.start}:${f.span.end}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    return result;
  }

  function link(instance: InstanceInput): InstanceOutput {
    return new Linker(instance).run();
  }

  return {
    id: 'nginx',
    writer: nginxWriter,
    matchesPath: isNginxPath,
    mains: nginxMains,
    matchesContent: (text) =>
      looksLikeNginx(text) && (/^[^\S\n]*(http|server|upstream|stream|events)\s*\{/m.test(text) || /^[^\S\n]*listen\s+[^;\n]+;/m.test(text)),
    parse: (text, file, context) => drain(parseSteps(text, file, context)),
    parseSteps,
    link,
  };
}

/** Paths that are plainly nginx's: nginx.conf, files of sites-available and sites-enabled, *.conf under an nginx directory. */
export function isNginxPath(p: string): boolean {
  if (/(^|\/)nginx\.conf$/.test(p)) return true;
  const dir = path.posix.dirname(p);
  const base = path.posix.basename(p);
  if (
    base.startsWith('.') ||
    /\.(md|txt|rst|pem|crt|key|csr|der|p12|json|ya?ml|toml|ini|sh|py|js|ts|html?|lua|bak|old|orig|rej|swp|log|gz|zip|tar|j2|jinja2?|erb|tmpl|tpl|dpkg-[a-z]+|ucf-[a-z]+)$/i.test(
      base,
    )
  )
    return false;
  if (/(^|\/)(apache2?|httpd|lighttpd|lsws|openlitespeed|litespeed|caddy)(\/|$)/i.test(dir)) return false;
  if (/(^|\/)(sites|streams?)-(available|enabled)$/.test(dir)) return true;
  const inNginxDir = /(^|\/)[^/]*nginx[^/]*(\/|$)/i.test(dir);
  if (inNginxDir && (/\.conf$/.test(base) || (/(^|\/)templates$/.test(dir) && /\.conf\.template$/.test(base)))) return true;
  return /\.nginx$/.test(base) || /^nginx[-_.][^/]*\.conf$/.test(base);
}

/** Content that cannot be nginx's: Apache or XML tags, INI sections. */
function looksLikeNginx(text: string): boolean {
  return !/^[ \t]*<\/?[A-Za-z][^>\n]*>[ \t]*\r?$/m.test(text) && !/^[ \t]*\[[^\]\n]+\][ \t]*\r?$/m.test(text);
}

function standaloneContext(directives: NginxDirective[], file: string): NginxContext {
  const names = directives.map((d) => d.name.text);
  if (names.some((n) => MAIN_ONLY.has(n))) return 'main';
  if (/(^|\/)(streams?-(available|enabled)|stream\.d)\/[^/]+$/.test(file)) return 'stream';
  if (/(^|\/)(sites-(available|enabled)|conf\.d)\/[^/]+$/.test(file)) return 'http';
  if (!names.includes('server') && !names.includes('upstream') && names.some((n) => SERVER_LEVEL.has(n))) return 'server';
  return 'http';
}

/** Reads the directive tree of one file into events, findings and include references. */
class FileReader {
  private nextServer = 0;
  private readonly serverEvents = new Map<number, ServerEvent>();

  constructor(
    private readonly file: string,
    private readonly out: FileParse,
    private readonly extra: NginxExtra,
    private readonly lines: LineIndex,
    private readonly relativeTo: string,
  ) {}

  walk(directives: NginxDirective[], ctx: NginxContext, server: ServerRef | undefined, upstream: string | undefined): void {
    for (const d of directives) this.directive(d, ctx, server, upstream);
  }

  private directive(d: NginxDirective, ctx: NginxContext, server: ServerRef | undefined, upstream: string | undefined): void {
    const name = d.name.text;
    if (name === 'include') {
      if (d.block || d.args.length !== 1) {
        this.syntax(d.name.span, 'include takes exactly one file name or glob (nginx: invalid number of arguments).');
        return;
      }
      const ref: IncludeRef = { span: d.args[0].span, pattern: d.args[0].text, relativeTo: this.relativeTo, context: ctx };
      this.out.includes.push(ref);
      // Debian's and the Docker image's nginx both have /etc/nginx as conf directory: a repository that
      // keeps nginx.conf and conf.d/ side by side (mounted there) answers /etc/nginx/conf.d/*.conf.
      const rest = /^\/etc\/nginx\/(.+)$/.exec(ref.pattern)?.[1];
      const fallback: IncludeRef | undefined = rest ? { ...ref, pattern: rest } : undefined;
      if (fallback) this.out.includes.push(fallback);
      this.extra.events.push({ kind: 'include', ref, fallback, server });
      return;
    }
    if (d.block) {
      this.block(d, ctx, server, upstream);
      return;
    }
    switch (ctx) {
      case 'server':
      case 'location':
        if (name === 'listen' && ctx === 'server') this.listen(d, 'http', server);
        else if (name === 'server_name' && ctx === 'server') this.serverName(d, server);
        else if (HTTP_PASS.has(name)) this.pass(d, 'http', server);
        return;
      case 'stream-server':
        if (name === 'listen') this.listen(d, 'stream', server);
        else if (name === 'proxy_pass') this.pass(d, 'stream', server);
        return;
      case 'mail-server':
        if (name === 'listen') this.listen(d, 'mail', server);
        else if (name === 'server_name') this.serverName(d, server);
        return;
      case 'upstream':
      case 'stream-upstream':
        if (name === 'server') this.upstreamServer(d, ctx === 'upstream' ? 'http' : 'stream', upstream);
        return;
      default:
        return;
    }
  }

  private block(d: NginxDirective, ctx: NginxContext, server: ServerRef | undefined, upstream: string | undefined): void {
    const name = d.name.text;
    const inner = d.block ?? [];
    const child = (next: NginxContext, s = server, u = upstream) => this.walk(inner, next, s, u);
    switch (ctx) {
      case 'main':
        if (name === 'http' || name === 'stream' || name === 'mail' || name === 'events') return child(name);
        return child('other');
      case 'http':
      case 'stream':
      case 'mail':
        if (name === 'server') return this.server(d, ctx);
        if (name === 'upstream' && ctx !== 'mail') {
          const upstreamName = d.args[0]?.text ?? '';
          this.extra.events.push({ kind: 'upstream', module: ctx, name: upstreamName.toLowerCase() });
          return child(ctx === 'http' ? 'upstream' : 'stream-upstream', undefined, upstreamName);
        }
        return child('other');
      case 'server':
      case 'location':
        if (name === 'location' || name === 'if' || name === 'limit_except') return child('location');
        return child('other');
      default:
        return child('other');
    }
  }

  private server(d: NginxDirective, module: NginxModuleKind): void {
    const id = this.nextServer++;
    const event: ServerEvent = { kind: 'server', id, module, keyword: d.name.span, line: this.lines.position(d.name.span.start).line + 1, names: [] };
    this.extra.events.push(event);
    this.serverEvents.set(id, event);
    const ctx: NginxContext = module === 'http' ? 'server' : module === 'stream' ? 'stream-server' : 'mail-server';
    this.walk(d.block ?? [], ctx, id, undefined);
  }

  private serverName(d: NginxDirective, server: ServerRef | undefined): void {
    if (typeof server === 'number') this.serverEvents.get(server)?.names.push(...d.args.map((a) => a.text));
  }

  private syntax(span: Span, message: string, severity: Finding['severity'] = 'error'): void {
    this.out.findings.push(finding(this.file, span, 'syntax', message, severity));
  }

  private listen(d: NginxDirective, module: NginxModuleKind, server: ServerRef | undefined): void {
    const arg = d.args[0];
    if (!arg) {
      this.syntax(d.name.span, 'listen needs an address or port (nginx: invalid number of arguments in "listen" directive).');
      return;
    }
    this.extra.events.push({ kind: 'listen-seen', server: server ?? 'enclosing' });
    const at = (range: [number, number]): Span => spanIn(arg, range);
    if (arg.text.includes('$')) {
      this.out.findings.push(
        finding(
          this.file,
          arg.span,
          'invalid-port',
          `The port is a variable ("${arg.text}"): not checked. nginx does not expand variables in listen; a template tool must replace it first.`,
          'information',
        ),
      );
      return;
    }
    const url = parseListenUrl(arg.text);
    if (url.error) {
      this.out.findings.push(
        finding(
          this.file,
          at(url.errorAt!),
          'invalid-port',
          `${capitalize(url.error)} in "${arg.text}" of the listen directive${url.error === 'invalid port' ? ': a port is 1-65535' : ''} (nginx -t rejects it).`,
        ),
      );
      return;
    }
    // nginx resolves the address before it reads the parameters.
    const addresses: ListenAddress[] = url.unix !== undefined ? [{ unixPath: url.unix }] : url.portOnly ? [{ family: 'ipv4' }] : resolveListenHost(url.host!);
    if (addresses.length === 0) {
      const why = url.host!.startsWith('[')
        ? `Invalid IPv6 address in "${arg.text}"`
        : `Host not found in "${arg.text}": "${url.host}" is neither an address, a port nor a host name`;
      this.out.findings.push(finding(this.file, at(url.hostAt!), 'invalid-port', `${why} (nginx -t rejects the listen).`));
      return;
    }
    const params = this.listenParams(d.args.slice(1), module, arg.span.end);
    if (!params) return;
    // A unix socket has no port; stream and mail have no default port (nginx binds port 0, the kernel picks one).
    const port = url.unix !== undefined ? 0 : (url.port ?? (module === 'http' ? 80 : 0));
    const portEnd = url.portEnd ?? port;
    const portSpan = url.portAt ? at(url.portAt) : arg.span;
    this.extra.events.push({ kind: 'listen', module, server: server ?? 'enclosing', portSpan, argText: arg.text, addresses, port, portEnd, ...params });
  }

  /** The parameters after the address, as ngx_*_core_listen reads them on Linux; undefined after an error. */
  private listenParams(
    args: NginxWord[],
    module: NginxModuleKind,
    addressEnd: number,
  ): Pick<ListenEvent, 'protocol' | 'params' | 'defaultServer' | 'defaultRemoval' | 'set' | 'bind' | 'ipv6only'> | undefined {
    const p = {
      protocol: 'tcp' as Protocol,
      params: [] as string[],
      defaultServer: false,
      defaultRemoval: undefined as Span | undefined,
      set: false,
      bind: false,
      ipv6only: true,
    };
    let previousEnd = addressEnd;
    const seen = new Map<string, NginxWord>();
    const bad = (w: NginxWord, message: string) => {
      this.syntax(w.span, message);
      return undefined;
    };
    const invalid = (w: NginxWord) =>
      bad(
        w,
        module === 'http'
          ? `Invalid parameter "${w.text}" of listen (nginx -t rejects it).`
          : `The invalid "${w.text}" parameter of a ${module} listen (nginx -t rejects it).`,
      );
    for (const w of args) {
      const blankBefore = previousEnd;
      previousEnd = w.span.end;
      const t = w.text;
      const kv = PARAM_VALUE.exec(t);
      const key = kv ? kv[1] + '=' : t;
      const value = kv ? kv[2] : '';
      const option = () => {
        p.set = true;
        p.bind = true;
      };
      switch (key) {
        case 'default_server':
        case 'default':
          // "default" is the old spelling, http only; stream knows default_server since nginx 1.25.5.
          if (module === 'mail' || (module === 'stream' && t === 'default')) return invalid(w);
          p.defaultServer = true;
          p.defaultRemoval = { start: blankBefore, end: w.span.end };
          break;
        case 'bind':
          option();
          break;
        case 'udp':
          if (module !== 'stream') return invalid(w);
          p.protocol = 'udp';
          break;
        case 'quic':
          if (module !== 'http') return invalid(w);
          p.protocol = 'udp';
          break;
        case 'ssl':
          break;
        case 'http2':
          if (module !== 'http') return invalid(w);
          break;
        case 'proxy_protocol':
          break;
        case 'reuseport':
        case 'deferred':
        case 'multipath':
          if (module === 'mail') return invalid(w);
          option();
          break;
        case 'backlog=':
          if ((ngxAtoi(value) ?? 0) === 0) return bad(w, `Invalid backlog "${t}": a positive number (nginx -t rejects it).`);
          option();
          break;
        case 'rcvbuf=':
        case 'sndbuf=':
          if (!isNgxSize(value)) return bad(w, `Invalid ${kv![1]} "${t}": a size such as 64k (nginx -t rejects it).`);
          option();
          break;
        case 'fastopen=':
          if (module === 'mail') return invalid(w);
          if (ngxAtoi(value) === undefined) return bad(w, `Invalid fastopen "${t}": a number (nginx -t rejects it).`);
          option();
          break;
        case 'ipv6only=':
          if (value !== 'on' && value !== 'off') return bad(w, `Invalid ipv6only flags "${value}": on or off (nginx -t rejects it).`);
          p.ipv6only = value === 'on';
          option();
          break;
        case 'so_keepalive=':
          if (!isKeepalive(value)) return bad(w, `Invalid so_keepalive value "${value}": on, off or [keepidle]:[keepintvl]:[keepcnt] (nginx -t rejects it).`);
          option();
          break;
        case 'accept_filter=':
          if (module === 'mail') return invalid(w);
          // FreeBSD only: nginx on Linux says so and goes on.
          this.syntax(w.span, 'accept_filter is FreeBSD-only: nginx on Linux ignores it.', 'warning');
          break;
        case 'setfib=':
          // FreeBSD only: on Linux nginx does not know the parameter at all.
          return bad(w, `Invalid parameter "${t}": setfib is FreeBSD-only, nginx on Linux rejects it.`);
        default:
          return invalid(w);
      }
      if (!seen.has(key)) p.params.push(kv ? t : key);
      seen.set(key, w);
    }
    // Parameters that make no sense on a UDP socket (nginx's "incompatible" checks).
    if (p.protocol === 'udp') {
      const udpWord = module === 'http' ? 'quic' : 'udp';
      const incompatible = [
        'backlog=',
        'fastopen=',
        'deferred',
        'accept_filter=',
        'multipath',
        'ssl',
        'so_keepalive=',
        'proxy_protocol',
        ...(module === 'http' ? ['http2'] : []),
      ];
      for (const k of incompatible) {
        const w = seen.get(k);
        if (w) return bad(w, `The "${k.replace('=', '')}" parameter is incompatible with "${udpWord}" (nginx -t rejects it).`);
      }
    }
    return p;
  }

  private pass(d: NginxDirective, module: 'http' | 'stream', server: ServerRef | undefined): void {
    const arg = d.args[0];
    const name = d.name.text;
    if (!arg || arg.text.includes('$')) return; // variables are resolved per request
    let text = arg.text;
    let offset = 0;
    let defaultPort: number | undefined;
    let scheme: string | undefined;
    if (module === 'http') {
      const m = /^([a-z]+):\/\//i.exec(text);
      const allowed = HTTP_PASS.get(name)!;
      if (m && allowed.schemes.has(m[1].toLowerCase())) {
        scheme = m[1].toLowerCase();
        defaultPort = allowed.schemes.get(scheme);
        offset = m[0].length;
        text = text.slice(offset);
      } else if (allowed.schemeRequired) {
        return; // nginx: invalid URL prefix (not a port matter)
      }
    }
    const uriAllowed = module === 'http' && name === 'proxy_pass';
    const url = parseUpstreamUrl(text, uriAllowed);
    const at = (r: [number, number]): Span => spanIn(arg, [r[0] + offset, r[1] + offset]);
    if (url.unix !== undefined) return;
    if (url.error) {
      if (url.error === 'invalid port')
        this.out.findings.push(
          finding(this.file, at(url.errorAt!), 'invalid-port', `Invalid port in upstream "${text}" of ${name}: a port is 1-65535 (nginx -t rejects it).`),
        );
      return;
    }
    this.extra.events.push({
      kind: 'pass',
      module,
      directive: name,
      server,
      host: url.host!,
      hostSpan: at(url.hostAt!),
      port: url.port,
      portSpan: url.portAt ? at(url.portAt) : undefined,
      defaultPort,
      scheme,
    });
  }

  private upstreamServer(d: NginxDirective, module: 'http' | 'stream', upstream: string | undefined): void {
    const arg = d.args[0];
    if (!arg || arg.text.includes('$')) return;
    const url = parseUpstreamUrl(arg.text, false);
    if (url.unix !== undefined) return;
    if (url.error) {
      if (url.error === 'invalid port')
        this.out.findings.push(
          finding(this.file, spanIn(arg, url.errorAt!), 'invalid-port', `Invalid port in upstream "${arg.text}": a port is 1-65535 (nginx -t rejects it).`),
        );
      return;
    }
    if (module === 'stream' && url.port === undefined) {
      this.out.findings.push(
        finding(this.file, arg.span, 'invalid-port', `No port in upstream "${arg.text}": a stream upstream server needs one (nginx -t rejects it).`),
      );
      return;
    }
    this.extra.events.push({
      kind: 'pass',
      module,
      directive: 'server',
      upstream,
      host: url.host!,
      hostSpan: spanIn(arg, url.hostAt!),
      port: url.port,
      portSpan: url.portAt ? spanIn(arg, url.portAt) : undefined,
      defaultPort: module === 'http' ? 80 : undefined,
    });
  }
}

/** The *_pass directives of http: which schemes they accept and the port each implies. */
const HTTP_PASS = new Map<string, { schemes: Map<string, number | undefined>; schemeRequired: boolean }>([
  [
    'proxy_pass',
    {
      schemes: new Map([
        ['http', 80],
        ['https', 443],
      ]),
      schemeRequired: true,
    },
  ],
  ['fastcgi_pass', { schemes: new Map(), schemeRequired: false }],
  ['scgi_pass', { schemes: new Map(), schemeRequired: false }],
  ['memcached_pass', { schemes: new Map(), schemeRequired: false }],
  // grpc:// and uwsgi:// imply no port: nginx wants one written.
  [
    'uwsgi_pass',
    {
      schemes: new Map([
        ['uwsgi', undefined],
        ['suwsgi', undefined],
      ]),
      schemeRequired: false,
    },
  ],
  [
    'grpc_pass',
    {
      schemes: new Map([
        ['grpc', undefined],
        ['grpcs', undefined],
      ]),
      schemeRequired: false,
    },
  ],
]);

/** A span inside a word, from offsets into its value; quotes and escapes shift them, so fall back to the whole word. */
function spanIn(word: NginxWord, [from, to]: [number, number]): Span {
  const raw = word.span.end - word.span.start;
  const inner = word.quoted ? raw - 2 : raw;
  if (inner !== word.text.length) return word.span;
  const base = word.span.start + (word.quoted ? 1 : 0);
  return { start: base + from, end: base + to };
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

interface ServerState {
  event: ServerEvent;
  file: string;
  hasListen: boolean;
  /** An include inside it reached no file in the workspace: its listens may be there. */
  unknownInclude: boolean;
  /** Protocols its listens use (stream: which upstream blocks carry UDP). */
  protocols: Set<Protocol>;
}

interface ListenAt {
  event: ListenEvent;
  file: string;
  server: string;
}

/** One address:port of http, as ngx_http_conf_addr_t collects it. */
interface HttpAddrEntry {
  servers: Map<string, ListenAt>;
  setBy?: ListenAt;
  defaultBy?: ListenAt;
  bind: boolean;
  ipv6only: boolean;
}

/** Beyond this many runs of address:port pairs judged per instance, further duplicates are not checked. */
const MAX_PAIRS = 1_000_000;
/** Snippets including snippets twice over grow exponentially: stop replaying after this many events. */
const MAX_VISITED_EVENTS = 200_000;
/** Include contexts whose content belongs to the enclosing block: read again for every include. */
const ATTACHED_CONTEXTS = new Set(['server', 'location', 'upstream', 'stream-server', 'stream-upstream', 'mail-server']);

class Linker {
  private readonly facts: PortFact[] = [];
  private readonly findings: Finding[] = [];
  private readonly servers = new Map<string, ServerState>();
  /** http's entries per address (pairKey), as runs of ports with one history. */
  private readonly http = new Map<string, PortRuns<HttpAddrEntry>>();
  /** stream and mail: the first listen of each address:port, as runs of ports. */
  private readonly streamOrMail = new Map<string, PortRuns<ListenAt>>();
  private readonly listenFacts: { fact: PortFact; entryKey?: string }[] = [];
  private readonly passes: { event: PassEvent; file: string; server?: string }[] = [];
  private readonly upstreamNames = { http: new Set<string>(), stream: new Set<string>() };
  private readonly byPath = new Map<string, FileParse>();
  private readonly index: FileIndex;
  private readonly visited = new Set<FileParse>();
  private budget = MAX_VISITED_EVENTS;
  /** `sites/X` -> the site files of that name read so far, with their texts. */
  private readonly seenSiteFiles = new Map<string, { file: string; text: string | undefined }[]>();
  private pairs = 0;
  private complete = true;
  /**
   * The running nginx these binds belong to: the main config, or for a site file read on its own the
   * nginx.conf of its conf directory (the nginx that would include it), so that a site file that is
   * also reached through sites-enabled/ never looks like a second nginx.
   */
  private readonly instanceId: string;

  constructor(private readonly instance: InstanceInput) {
    const root = instance.root;
    this.instanceId = (root.extra as NginxExtra | undefined)?.context === 'main' ? root.file : path.posix.join(confDirOf(root.file), 'nginx.conf');
    for (const f of instance.files) this.byPath.set(f.file, f);
    // The engine reads each file once; nginx reads a snippet again at every include (two servers may
    // include the same listen file), so includes are resolved again here, over the files reached.
    this.index = new FileIndex(this.byPath.keys());
  }

  run(): InstanceOutput {
    const root = this.instance.root;
    const rootExtra = root.extra as NginxExtra | undefined;
    for (const f of this.instance.files) pushAll(this.findings, f.findings);
    if (!rootExtra) return { facts: [], findings: this.findings };
    // A snippet read on its own: its listens belong to a server we do not see.
    const rootServer =
      rootExtra.context === 'server' || rootExtra.context === 'stream-server' || rootExtra.context === 'mail-server' || rootExtra.context === 'location'
        ? this.syntheticServer(root, rootExtra.context)
        : undefined;
    this.visit(root, rootServer, new Set([root]));
    this.finishListens();
    this.implicitListens();
    this.upstreamFacts(rootExtra.context === 'main' && !rootExtra.implicit);
    return { facts: this.facts, findings: this.findings, program: this.instanceId };
  }

  /**
   * `instance` also says which binds nginx may serve from one socket: http, stream and mail keep
   * sockets of their own, so the same port in two of them collides at start (nginx -t misses it).
   */
  private sharingGroup(module: NginxModuleKind): string {
    return module === 'http' ? this.instanceId : `${this.instanceId} (${module})`;
  }

  private syntheticServer(root: FileParse, ctx: NginxContext): string {
    const id = `${root.file}#snippet`;
    const module: NginxModuleKind = ctx === 'stream-server' ? 'stream' : ctx === 'mail-server' ? 'mail' : 'http';
    this.servers.set(id, {
      event: { kind: 'server', id: -1, module, keyword: { start: 0, end: 0 }, line: 0, names: [] },
      file: root.file,
      hasListen: false,
      unknownInclude: true,
      protocols: new Set(),
    });
    return id;
  }

  /**
   * Replays one file's events, descending into included files where the include stands. A file that
   * adds servers (http or stream level) counts once however often it is reached; a snippet inside a
   * server or upstream block counts for every block that includes it. `stack` stops include cycles.
   */
  private visit(file: FileParse, enclosing: string | undefined, stack: Set<FileParse>): void {
    this.visited.add(file);
    const extra = file.extra as NginxExtra | undefined;
    if (!extra) return;
    this.budget -= extra.events.length + 1;
    if (this.budget < 0) return;
    const serverId = (ref: ServerRef | undefined) => (ref === undefined ? undefined : ref === 'enclosing' ? enclosing : `${file.file}#${ref}`);
    for (const ev of extra.events) {
      switch (ev.kind) {
        case 'server':
          this.servers.set(`${file.file}#${ev.id}`, { event: ev, file: file.file, hasListen: false, unknownInclude: false, protocols: new Set() });
          break;
        case 'listen': {
          const sid = serverId(ev.server);
          if (sid) this.listen({ event: ev, file: file.file, server: sid });
          break;
        }
        case 'listen-seen': {
          const s = this.servers.get(serverId(ev.server) ?? '');
          if (s) s.hasListen = true;
          break;
        }
        case 'include': {
          const sid = serverId(ev.server);
          const where = { includingFile: file.file, rootFile: this.instance.root.file };
          let found = resolveInclude(this.index, ev.ref, where);
          if (found.length === 0 && ev.fallback) found = resolveInclude(this.index, ev.fallback, where);
          const targets = found.map((p) => this.byPath.get(p)!);
          if (targets.length === 0 && !/[*?[]/.test(ev.ref.pattern)) {
            // Not in the workspace: what it holds (listens, upstream blocks) is unknown.
            this.complete = false;
            const s = sid ? this.servers.get(sid) : undefined;
            if (s) s.unknownInclude = true;
          }
          const insideBlock = ATTACHED_CONTEXTS.has(ev.ref.context ?? '');
          for (const t of targets) {
            if (stack.has(t)) continue;
            if (!insideBlock && (this.visited.has(t) || this.isSecondCopy(t))) continue;
            this.visit(t, sid, new Set([...stack, t]));
          }
          break;
        }
        case 'pass':
          this.passes.push({ event: ev, file: file.file, server: serverId(ev.server) });
          break;
        case 'upstream':
          this.upstreamNames[ev.module].add(ev.name);
          break;
      }
    }
  }

  /**
   * Debian links sites-enabled/X to sites-available/X, and the workspace holds both paths. When one
   * nginx reaches both (a glob over each directory), the same text under the same name counts once.
   */
  private isSecondCopy(file: FileParse): boolean {
    const m = SITE_FILE.exec(file.file);
    if (!m) return false;
    const key = `${m[2]}/${m[4]}`;
    const text = (file.extra as NginxExtra | undefined)?.siteText;
    const seen = this.seenSiteFiles.get(key);
    const first = seen?.find((s) => s.text === text);
    if (first === undefined) {
      if (seen) seen.push({ file: file.file, text });
      else this.seenSiteFiles.set(key, [{ file: file.file, text }]);
      return false;
    }
    return first.file !== file.file;
  }

  private listen(at: ListenAt): void {
    const server = this.servers.get(at.server);
    const ev = at.event;
    if (server) {
      server.hasListen = true;
      server.protocols.add(ev.protocol);
    }
    this.checkPairs(at);
    const context = this.contextOf(at.server, at.file);
    for (const a of ev.addresses) {
      if (a.unixPath !== undefined || ev.port === 0) continue;
      const where =
        a.hostName !== undefined
          ? `${a.hostName}:${ev.port === ev.portEnd ? ev.port : `${ev.port}-${ev.portEnd}`}`
          : formatHostPort(a.family, a.address, ev.port, ev.portEnd);
      const fact: PortFact = {
        role: 'listen',
        file: at.file,
        span: ev.portSpan,
        protocol: ev.protocol,
        port: ev.port,
        portEnd: ev.portEnd,
        family: a.family,
        address: a.hostName ?? a.address,
        v6only: a.family === 'ipv6' ? ev.ipv6only : undefined,
        program: 'nginx',
        context,
        instance: this.sharingGroup(ev.module),
        separateBind: ev.bind || undefined,
        reusePort: ev.params.includes('reuseport') || undefined,
        detail: flat(`nginx listens on ${where}/${ev.protocol}${ev.params.length ? ` (${ev.params.join(', ')})` : ''}`),
      };
      this.facts.push(fact);
      this.listenFacts.push({ fact, entryKey: ev.module === 'http' ? pairKey(ev, a) : undefined });
    }
  }

  /**
   * Judges every address:port of a listen as nginx does, port by port and address by address, stopping at
   * the first problem (nginx stops there). Ports with one history are judged once, as a run: the first
   * port of a run is where nginx would stop.
   */
  private checkPairs(at: ListenAt): void {
    const ev = at.event;
    const http = ev.module === 'http';
    const runsOf = ev.addresses.map((a) => {
      const key = pairKey(ev, a);
      const table: Map<string, PortRuns<HttpAddrEntry> | PortRuns<ListenAt>> = http ? this.http : this.streamOrMail;
      let runs = table.get(key);
      if (!runs) table.set(key, (runs = http ? new PortRuns<HttpAddrEntry>(cloneHttpEntry) : new PortRuns<ListenAt>((first) => first)));
      return runs;
    });
    const cuts = new Set<number>([ev.port]);
    for (const runs of runsOf) runs.boundariesWithin(ev.port, ev.portEnd, cuts);
    const starts = [...cuts].sort((x, y) => x - y);
    for (let k = 0; k < starts.length; k++) {
      const lo = starts[k];
      const hi = k + 1 < starts.length ? starts[k + 1] - 1 : ev.portEnd;
      for (let i = 0; i < ev.addresses.length; i++) {
        if (++this.pairs > MAX_PAIRS) return;
        const shown = `${addrText(ev.addresses[i], lo)}${ev.protocol === 'udp' ? '/udp' : ''}`;
        const problem = http
          ? judgeRun(
              runsOf[i] as PortRuns<HttpAddrEntry>,
              lo,
              hi,
              () => newHttpEntry(at),
              cloneHttpEntry,
              (entry) => this.httpPair(entry, shown, at, lo),
            )
          : judgeRun(
              runsOf[i] as PortRuns<ListenAt>,
              lo,
              hi,
              () => at,
              (first) => first,
              (first) => this.streamPair(first, shown, at, lo),
            );
        if (problem) {
          this.findings.push(problem);
          return;
        }
      }
    }
  }

  /** ngx_http_add_addresses: one server per address:port, socket options once, one default server. */
  private httpPair(entry: HttpAddrEntry, shown: string, at: ListenAt, port: number): Finding | undefined {
    const ev = at.event;
    const same = entry.servers.get(at.server);
    if (same) {
      return nginxConflict(
        at,
        port,
        same,
        CONFLICT_MESSAGES.nginxDuplicateListen,
        `A duplicate listen ${shown}: this server already listens there (nginx -t rejects it).`,
        [related(same, `first listen on ${shown} in this server`)],
      );
    }
    entry.servers.set(at.server, at);
    if (ev.set) {
      if (entry.setBy) {
        return finding(
          at.file,
          ev.portSpan,
          'duplicate-listen-options',
          `Duplicate listen options for ${shown}: socket options (${optionParams(ev)}) may be set by one listen per address:port only, and ${this.contextOf(entry.setBy.server, entry.setBy.file)} already sets them (nginx -t rejects it).`,
          'error',
          [related(entry.setBy, `listen options for ${shown} first set here`)],
        );
      }
      entry.setBy = at;
      entry.bind = ev.bind;
      entry.ipv6only = ev.ipv6only;
    }
    if (ev.defaultServer) {
      if (entry.defaultBy) {
        const duplicate = finding(
          at.file,
          ev.portSpan,
          'duplicate-default-server',
          `A duplicate default server for ${shown}: ${this.contextOf(entry.defaultBy.server, entry.defaultBy.file)} already is the default (nginx -t rejects it).`,
          'error',
          [related(entry.defaultBy, `default server for ${shown}`)],
        );
        // The repair nginx itself asks for: one default per address:port, so this listen drops its claim.
        if (ev.defaultRemoval)
          duplicate.fixes = [
            {
              title: `Remove default_server here (${this.contextOf(entry.defaultBy.server, entry.defaultBy.file)} stays the default for ${shown})`,
              edits: [removeListenParameter(at.file, ev.defaultRemoval)],
              preferred: true,
            },
          ];
        return duplicate;
      }
      entry.defaultBy = at;
    }
    return undefined;
  }

  /** stream and mail (nginx 1.22): every address:port once across all servers. */
  private streamPair(first: ListenAt, shown: string, at: ListenAt, port: number): Finding | undefined {
    return nginxConflict(
      at,
      port,
      first,
      CONFLICT_MESSAGES.nginxDuplicatePair,
      `Duplicate "${shown}" address and port pair: ${this.contextOf(first.server, first.file)} already listens there (nginx -t rejects it).`,
      [related(first, `first listen on ${shown}`)],
    );
  }

  /** Socket options belong to the address:port: the listen that set them decides bind and ipv6only for all. */
  private finishListens(): void {
    for (const { fact, entryKey } of this.listenFacts) {
      const entry = entryKey ? this.http.get(entryKey)?.at(fact.port) : undefined;
      if (!entry) continue;
      fact.separateBind = entry.bind || undefined;
      fact.reusePort = entry.setBy?.event.params.includes('reuseport') || undefined;
      if (fact.family === 'ipv6') fact.v6only = entry.ipv6only;
    }
  }

  /** A server{} of http without any listen listens on *:80 (nginx running as root; *:8000 otherwise). */
  private implicitListens(): void {
    for (const [id, s] of this.servers) {
      if (s.event.module === 'http' && !s.hasListen && !s.unknownInclude && s.event.id >= 0) {
        this.facts.push({
          role: 'listen',
          file: s.file,
          span: s.event.keyword,
          protocol: 'tcp',
          port: 80,
          portEnd: 80,
          family: 'ipv4',
          program: 'nginx',
          context: this.contextOf(id, s.file),
          instance: this.instanceId,
          implicit: true,
          detail: 'nginx listens on 0.0.0.0:80/tcp (no listen in this server: the default, *:8000 when nginx does not run as root)',
        });
      }
      if (s.event.module !== 'http' && !s.hasListen && !s.unknownInclude && s.event.id >= 0) {
        this.findings.push(finding(s.file, s.event.keyword, 'syntax', `No "listen" is defined for this ${s.event.module} server (nginx -t rejects it).`));
      }
    }
  }

  /** proxy_pass and friends, `server` in upstream {}: sockets nginx connects to. */
  private upstreamFacts(isMainConfig: boolean): void {
    // Stream upstream blocks carry UDP when only UDP servers use them.
    const streamUse = new Map<string, Set<Protocol>>();
    for (const p of this.passes) {
      if (p.event.module !== 'stream' || p.event.directive !== 'proxy_pass' || p.event.port !== undefined) continue;
      const protocols = (p.server && this.servers.get(p.server)?.protocols) || new Set<Protocol>(['tcp']);
      const set = streamUse.get(p.event.host.toLowerCase()) ?? new Set<Protocol>();
      for (const proto of protocols) set.add(proto);
      streamUse.set(p.event.host.toLowerCase(), set);
    }
    for (const { event: ev, file, server } of this.passes) {
      const hostKey = ev.host.toLowerCase();
      if (ev.port === undefined && ev.directive !== 'server' && this.upstreamNames[ev.module].has(hostKey)) continue; // names an upstream {} block
      let protocol: Protocol = 'tcp';
      if (ev.module === 'stream') {
        const used = ev.upstream !== undefined ? streamUse.get(ev.upstream.toLowerCase()) : server ? this.servers.get(server)?.protocols : undefined;
        if (used && used.size === 1 && used.has('udp')) protocol = 'udp';
      }
      const port = ev.port ?? ev.defaultPort;
      if (port === undefined) {
        // A name might be an upstream block in a file we do not see; an address never is.
        const isAddress = parseIp(ev.host) !== undefined || ngxInetAddr(ev.host) !== undefined;
        if (isAddress || (isMainConfig && this.complete)) {
          this.findings.push(
            finding(
              file,
              ev.hostSpan,
              'invalid-port',
              `No port in upstream "${ev.host}": ${ev.directive} needs host:port${ev.module === 'http' ? '' : ''} (nginx -t rejects it).`,
            ),
          );
        }
        continue;
      }
      const ip = ev.host.startsWith('[')
        ? parseIp(ev.host)
        : ngxInetAddr(ev.host) !== undefined
          ? { family: 'ipv4' as const, address: ngxInetAddr(ev.host) }
          : undefined;
      const shownHost = ip ? formatHostPort(ip.family, ip.address ?? (ip.family === 'ipv4' ? '0.0.0.0' : '::'), port).replace(/:\d+$/, '') : ev.host;
      const implied = ev.port === undefined;
      const where = ev.directive === 'server' ? `server in upstream ${ev.upstream ?? ''}`.trim() : `${ev.directive} in ${this.contextOf(server, file)}`;
      this.facts.push({
        role: 'upstream',
        file,
        span: ev.portSpan ?? ev.hostSpan,
        protocol,
        port,
        portEnd: port,
        family: ip?.family,
        address: ip ? (ip.address ?? (ip.family === 'ipv4' ? '0.0.0.0' : '::')) : ev.host,
        program: 'nginx',
        context: flat(where),
        instance: this.instanceId,
        implicit: implied || undefined,
        upstreamGroup: ev.directive === 'server' ? ev.upstream : undefined,
        detail: flat(
          `nginx connects to ${shownHost}:${port}/${protocol} (${ev.directive === 'server' ? `server of upstream ${ev.upstream ?? ''}`.trim() : ev.directive}${implied ? `, ${ev.scheme ? `${ev.scheme}:// ` : ''}default port` : ''}; binds nothing)`,
        ),
      });
    }
  }

  private contextOf(serverId: string | undefined, file: string): string {
    const s = serverId ? this.servers.get(serverId) : undefined;
    if (!s || s.event.id < 0) return `included into a server (${path.posix.basename(file)})`;
    const kind = s.event.module === 'http' ? 'server block' : `${s.event.module} server`;
    const names = s.event.names.filter((n) => n !== '');
    const label = names.length ? ` (server_name ${names.slice(0, 2).join(' ')}${names.length > 2 ? ' …' : ''})` : '';
    const inFile = s.file !== this.instance.root.file ? ` of ${path.posix.basename(s.file)}` : '';
    return flat(`${kind} at line ${s.event.line}${inFile}${label}`);
  }
}

function related(at: ListenAt, message: string): RelatedLocation {
  return { file: at.file, span: at.event.portSpan, message };
}

function optionParams(ev: ListenEvent): string {
  return ev.params.filter((p) => /=|^(bind|reuseport|deferred|multipath)$/.test(p)).join(', ');
}

/** nginx keeps one entry per socket type, address and port: this names the socket type and address. */
function pairKey(ev: ListenEvent, a: ListenAddress): string {
  return `${ev.module}|${ev.protocol}|${addressKey(a)}`;
}

function newHttpEntry(at: ListenAt): HttpAddrEntry {
  const ev = at.event;
  return {
    servers: new Map([[at.server, at]]),
    setBy: ev.set ? at : undefined,
    defaultBy: ev.defaultServer ? at : undefined,
    bind: ev.bind,
    ipv6only: ev.ipv6only,
  };
}

function cloneHttpEntry(entry: HttpAddrEntry): HttpAddrEntry {
  return { ...entry, servers: new Map(entry.servers) };
}

/**
 * One run lo..hi of an address (no listen so far begins or ends inside it): a new entry where no listen
 * was, else `judge` on the run's entry. A problem stops nginx at port lo, so lo+1..hi keep the entry they
 * had before it.
 */
function judgeRun<T>(
  runs: PortRuns<T>,
  lo: number,
  hi: number,
  fresh: () => T,
  clone: (value: T) => T,
  judge: (value: T) => Finding | undefined,
): Finding | undefined {
  runs.split(lo);
  runs.split(hi + 1);
  const run = runs.startingAt(lo);
  if (!run) {
    runs.insert(lo, hi, fresh());
    return undefined;
  }
  const before = hi > lo ? clone(run.value) : undefined;
  const problem = judge(run.value);
  if (problem && before !== undefined) {
    run.hi = lo;
    runs.insert(lo + 1, hi, before);
  }
  return problem;
}
