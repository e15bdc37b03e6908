/**
 * Apache httpd 2.4 (Debian's /etc/apache2/apache2.conf + ports.conf + sites-enabled/, Red Hat's
 * /etc/httpd/conf/httpd.conf + conf.d/): the sockets `Listen [addr:]port [protocol]` opens, read the
 * way listen.c and apr_parse_addr_port read them, `Include`/`IncludeOptional` (globs and directories,
 * relative to ServerRoot), `<IfModule>` (by the LoadModule lines of the configuration and the modules
 * compiled in), `<IfDefine>` (nothing defined) and `Define` variables. Checked against `apache2 -t`
 * in test/oracle/apache.test.ts.
 *
 * Sockets: Debian's httpd is built with IPv4-mapped addresses, so `Listen 80` and `Listen [::]:80`
 * are one dual-stack IPv6 socket that also serves IPv4, and a `Listen 0.0.0.0:80` beside it is
 * served from that socket (open_listeners skips it).
 */
import * as path from 'path';
import { formatHostPort, parseIp, resolveWellKnownHost, type ParsedAddress } from '../../core/address';
import type { FileParse, Finding, FormatModule, IncludeRef, InstanceInput, InstanceOutput, PortFact, Span } from '../../core/types';
import { lexApache, type ApacheLine, type ApacheWord } from './lexer';

export const APACHE_PROGRAM = 'apache';

/** A condition a directive stands under: `<IfModule [!]name>` or `<IfDefine [!]name>`. */
interface Condition {
  kind: 'module' | 'define';
  name: string;
  negated: boolean;
}

/** What an Include carries to the file it reaches. */
interface ApacheContext {
  conditions: Condition[];
  inVhost: boolean;
  serverRoot: string;
}

interface ApacheListen {
  /** undefined: the wildcard (Listen 80, *:80) — one dual-stack IPv6 socket. */
  addresses: ParsedAddress[] | 'wildcard';
  hostText?: string;
  port: number;
  portSpan: Span;
  span: Span;
  file: string;
  conditions: Condition[];
}

interface ApacheVhost {
  conditions: Condition[];
  span: Span;
  file: string;
  addresses: { text: string; port?: number; span: Span }[];
}

export interface ApacheExtra {
  listens: ApacheListen[];
  vhosts: ApacheVhost[];
  /** Module identifiers LoadModule names (ssl_module) and their source names (mod_ssl.c), with their conditions. */
  modules: { names: string[]; conditions: Condition[] }[];
}

/** Modules Debian's apache2 has compiled in (`apache2 -l`). */
const STATIC_MODULES = ['core', 'mod_so', 'mod_watchdog', 'http_core', 'mod_log_config', 'mod_logio', 'mod_version', 'mod_unixd'];
const STATIC_NAMES = new Set(STATIC_MODULES.flatMap((m) => [`${m}.c`, `${m.replace(/^mod_/, '')}_module`]));

function err(file: string, span: Span, code: 'syntax' | 'invalid-port', message: string): Finding {
  return { file, span, severity: 'error', code, message };
}

function encodeContext(c: ApacheContext): string {
  return JSON.stringify(c);
}

function decodeContext(text: string | undefined, file: string): ApacheContext {
  if (text) {
    try {
      const c = JSON.parse(text) as ApacheContext;
      if (Array.isArray(c.conditions)) return c;
    } catch {
      // fall through: a file read on its own
    }
  }
  return { conditions: [], inVhost: false, serverRoot: path.posix.basename(file) === 'httpd.conf' ? '/etc/httpd' : '/etc/apache2' };
}

/**
 * apr_parse_addr_port(): "port", "host:port", "[v6]:port"; the port 1-65535 in decimal. Undefined
 * fields are what the text leaves out; `bad` when apr refuses it ("Invalid address or port").
 */
function parseAddrPort(text: string): { host?: string; hostOffset: number; port?: string; portOffset: number; bad?: boolean } {
  if (/^\d+$/.test(text)) return { port: text, portOffset: 0, hostOffset: 0 };
  let hostEnd: number;
  let host: string;
  let hostOffset = 0;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { bad: true, hostOffset: 0, portOffset: 0 };
    host = text.slice(1, close);
    hostOffset = 1;
    hostEnd = close + 1;
    if (hostEnd < text.length && text[hostEnd] !== ':') return { bad: true, hostOffset, portOffset: 0 };
  } else {
    const colon = text.lastIndexOf(':');
    hostEnd = colon < 0 ? text.length : colon;
    host = text.slice(0, hostEnd);
    // An IPv6 address without brackets and without a port.
    if (colon >= 0 && host.includes(':')) return { host: text, hostOffset: 0, portOffset: 0, bad: !parseIp(text) };
  }
  if (host === '') return { bad: true, hostOffset, portOffset: 0 };
  if (hostEnd >= text.length) return { host, hostOffset, portOffset: 0 };
  const port = text.slice(hostEnd + 1);
  if (!/^\d+$/.test(port)) return { bad: true, host, hostOffset, portOffset: hostEnd + 1 };
  return { host, hostOffset, port, portOffset: hostEnd + 1 };
}

function sub(w: ApacheWord, from: number, length: number, plain: boolean): Span {
  return plain ? { start: w.span.start + from, end: w.span.start + from + length } : w.span;
}

class Reader {
  readonly findings: Finding[] = [];
  readonly includes: IncludeRef[] = [];
  readonly extra: ApacheExtra = { listens: [], vhosts: [], modules: [] };
  private readonly stack: { line: ApacheLine; condition?: Condition; vhost?: boolean }[] = [];
  private readonly defines = new Map<string, string>();

  constructor(
    private readonly file: string,
    private readonly ctx: ApacheContext,
  ) {}

  private conditions(): Condition[] {
    return [...this.ctx.conditions, ...this.stack.flatMap((s) => (s.condition ? [s.condition] : []))];
  }

  private inVhost(): boolean {
    return this.ctx.inVhost || this.stack.some((s) => s.vhost);
  }

  /** ${VAR} from Define; undefined when a variable is not known here. */
  private expand(text: string): string | undefined {
    let unknown = false;
    const out = text.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
      const v = this.defines.get(name);
      if (v === undefined) unknown = true;
      return v ?? '';
    });
    return unknown ? undefined : out;
  }

  read(text: string): void {
    for (const line of lexApache(text)) {
      if (line.kind === 'open') this.open(line);
      else if (line.kind === 'close') this.close(line);
      else this.directive(line);
    }
    for (const open of this.stack) {
      this.findings.push(err(this.file, open.line.name.span, 'syntax', `<${open.line.name.text}> was not closed (apache2 -t: syntax error).`));
    }
  }

  private open(line: ApacheLine): void {
    const name = line.name.text.toLowerCase();
    if (line.unterminated) {
      this.findings.push(err(this.file, line.span, 'syntax', `<${line.name.text} directive missing closing '>' (apache2 -t: syntax error).`));
      return;
    }
    const arg = line.args[0]?.text ?? '';
    const negated = arg.startsWith('!');
    const entry: { line: ApacheLine; condition?: Condition; vhost?: boolean } = { line };
    if (name === 'ifmodule') entry.condition = { kind: 'module', name: negated ? arg.slice(1) : arg, negated };
    else if (name === 'ifdefine') entry.condition = { kind: 'define', name: negated ? arg.slice(1) : arg, negated };
    else if (name === 'virtualhost') {
      entry.vhost = true;
      this.vhost(line);
    }
    this.stack.push(entry);
  }

  private close(line: ApacheLine): void {
    const top = this.stack[this.stack.length - 1];
    if (!top || top.line.name.text.toLowerCase() !== line.name.text.toLowerCase()) {
      const expected = top ? `</${top.line.name.text}> was expected` : 'no section is open';
      this.findings.push(
        err(
          this.file,
          line.name.span,
          'syntax',
          `</${line.name.text}> without a matching <${line.name.text}> section: ${expected} (apache2 -t: syntax error).`,
        ),
      );
      return;
    }
    this.stack.pop();
  }

  private vhost(line: ApacheLine): void {
    const addresses: ApacheVhost['addresses'] = [];
    for (const w of line.args) {
      const p = parseAddrPort(w.text);
      const port = p.port !== undefined ? Number(p.port) : undefined;
      addresses.push({ text: w.text, port, span: w.span });
    }
    this.extra.vhosts.push({ conditions: this.conditions(), span: line.span, file: this.file, addresses });
  }

  private directive(line: ApacheLine): void {
    const name = line.name.text.toLowerCase();
    if (name === 'define' && line.args.length >= 1) this.defines.set(line.args[0].text, line.args[1]?.text ?? '');
    else if (name === 'serverroot' && line.args.length === 1) this.ctx.serverRoot = line.args[0].text;
    else if (name === 'listen') this.listen(line);
    else if (name === 'include' || name === 'includeoptional') this.include(line);
    else if (name === 'loadmodule' && line.args.length >= 2) {
      const id = line.args[0].text;
      const source = `${path.posix.basename(line.args[1].text).replace(/\.so$/, '')}.c`;
      this.extra.modules.push({ names: [id, source], conditions: this.conditions() });
    }
  }

  private include(line: ApacheLine): void {
    const arg = line.args[0];
    if (!arg) return;
    const pattern = this.expand(arg.text);
    if (pattern === undefined || pattern === '') return;
    const context = encodeContext({ conditions: this.conditions(), inVhost: this.inVhost(), serverRoot: this.ctx.serverRoot });
    const relativeTo = path.posix.isAbsolute(this.ctx.serverRoot) ? this.ctx.serverRoot : 'root-file-dir';
    this.includes.push({ span: arg.span, pattern, relativeTo, context });
    // A directory is read whole (its files in order); a pattern whose last part has no dot or wildcard may name one.
    const last = pattern.replace(/\/+$/, '').split('/').pop() ?? '';
    if (!/[.*?[]/.test(last)) this.includes.push({ span: arg.span, pattern: `${pattern.replace(/\/+$/, '')}/*`, relativeTo, context });
  }

  private listen(line: ApacheLine): void {
    if (this.inVhost()) {
      this.findings.push(err(this.file, line.name.span, 'syntax', 'Listen cannot occur within <VirtualHost> section (apache2 -t: syntax error).'));
      return;
    }
    if (line.args.length < 1 || line.args.length > 2) {
      this.findings.push(
        err(
          this.file,
          line.span,
          'syntax',
          'Listen requires 1 or 2 arguments (a `#` after the port is an argument too: comments stand on lines of their own).',
        ),
      );
      return;
    }
    const w = line.args[0];
    const text = this.expand(w.text);
    if (text === undefined) return;
    const plain = text === w.text && w.span.end - w.span.start === w.text.length && !line.continued;
    const p = parseAddrPort(text);
    const invalid = (message: string, span: Span = w.span) => this.findings.push(err(this.file, span, 'invalid-port', message));
    if (p.bad) return void invalid(`Invalid address or port "${text}" (apache2 -t): write port, address:port or [IPv6]:port, the port 1-65535.`);
    if (p.port === undefined) return void invalid(`Listen ${text}: port must be specified (apache2 -t).`);
    const portSpan = sub(w, p.portOffset, p.port.length, plain);
    const port = Number(p.port);
    if (port < 1 || port > 65535) return void invalid(`Invalid port ${p.port} (apache2 -t): a port is 1-65535.`, portSpan);
    let addresses: ApacheListen['addresses'];
    if (p.host === undefined || p.host === '*') addresses = 'wildcard';
    else {
      const ip = parseIp(p.host);
      // A name resolves on the target machine (apache2 -t fails on one it cannot resolve).
      addresses = ip ? [ip] : (resolveWellKnownHost(p.host) ?? []);
    }
    this.extra.listens.push({ addresses, hostText: p.host, port, portSpan, span: line.span, file: this.file, conditions: this.conditions() });
  }
}

function parseApache(text: string, file: string, context?: string): FileParse {
  const ctx = decodeContext(context, file);
  const reader = new Reader(file, { ...ctx, conditions: [...ctx.conditions] });
  reader.read(text);
  return { format: 'apache', file, facts: [], findings: reader.findings, includes: reader.includes, extra: reader.extra };
}

/** Do the conditions hold, given the modules loaded? Nothing is defined with -D. */
function holds(conditions: Condition[], loaded: Set<string>): boolean {
  return conditions.every((c) => {
    const on = c.kind === 'module' ? loaded.has(c.name) : false;
    return c.negated ? !on : on;
  });
}

function loadedModules(instance: InstanceInput): Set<string> {
  const loaded = new Set(STATIC_NAMES);
  // LoadModule lines may themselves stand under conditions: settle them in a few rounds.
  for (let round = 0; round < 3; round++) {
    for (const f of instance.files) {
      for (const m of (f.extra as ApacheExtra | undefined)?.modules ?? []) if (holds(m.conditions, loaded)) for (const n of m.names) loaded.add(n);
    }
  }
  return loaded;
}

function link(instance: InstanceInput): InstanceOutput {
  const findings = instance.files.flatMap((f) => f.findings);
  const loaded = loadedModules(instance);
  const facts: PortFact[] = [];
  const seen = new Map<string, ApacheListen>();
  const wildcardPorts = new Set<number>();
  const active: { l: ApacheListen; family: 'ipv4' | 'ipv6' | undefined; address: string | undefined }[] = [];
  for (const f of instance.files) {
    for (const l of (f.extra as ApacheExtra | undefined)?.listens ?? []) {
      if (!holds(l.conditions, loaded)) continue;
      const socks: { family: 'ipv4' | 'ipv6' | undefined; address: string | undefined }[] =
        l.addresses === 'wildcard'
          ? [{ family: 'ipv6', address: undefined }]
          : l.addresses.length === 0
            ? [{ family: undefined, address: l.hostText }]
            : l.addresses.map((a) => ({ family: a.family, address: a.address }));
      let duplicate = false;
      // apache2 -t compares Listens as written: `Listen 80` and `Listen [::]:80` pass (and are one socket).
      const written = l.addresses === 'wildcard' ? 'wildcard' : 'address';
      for (const s of socks) {
        const key = `${written}|${s.family}|${s.address}|${l.port}`;
        const before = seen.get(key);
        if (before) {
          duplicate = true;
          findings.push({
            ...err(
              l.file,
              l.span,
              'syntax',
              `Cannot define multiple Listeners on the same IP:port (apache2 -t): ${formatHostPort(s.family, s.address, l.port)} is already a Listen.`,
            ),
            related: [{ file: before.file, span: before.span, message: 'the first Listen' }],
          });
          break;
        }
      }
      if (duplicate) continue;
      for (const s of socks) {
        seen.set(`${written}|${s.family}|${s.address}|${l.port}`, l);
        if (s.family === 'ipv6' && s.address === undefined) wildcardPorts.add(l.port);
        active.push({ l, ...s });
      }
    }
  }
  const emitted = new Set<string>();
  for (const { l, family, address } of active) {
    // open_listeners: 0.0.0.0:P is served from a dual-stack [::]:P socket.
    if (family === 'ipv4' && address === undefined && wildcardPorts.has(l.port)) continue;
    const key = `${family}|${address}|${l.port}`;
    if (emitted.has(key)) continue;
    emitted.add(key);
    const dual = family === 'ipv6' && address === undefined;
    facts.push({
      role: 'listen',
      file: l.file,
      span: l.portSpan,
      protocol: 'tcp',
      port: l.port,
      portEnd: l.port,
      family,
      address,
      v6only: dual ? false : family === 'ipv6' ? true : undefined,
      program: APACHE_PROGRAM,
      instance: instance.root.file,
      context: `Listen ${l.hostText ? `${l.hostText}:` : ''}${l.port}`,
      detail: `Apache listens on ${dual ? `*:${l.port} (one IPv6 socket that also takes IPv4)` : formatHostPort(family, address, l.port)}/tcp`,
    });
  }
  return { facts, findings };
}

const APACHE_DIR = /(^|\/)(apache2?|httpd)(\/|$)/;

export function isApachePath(p: string): boolean {
  const base = path.posix.basename(p);
  if (base === 'apache2.conf' || base === 'httpd.conf') return true;
  const dir = path.posix.dirname(p);
  if (!APACHE_DIR.test(dir) || base.startsWith('.')) return false;
  if (/(^|\/)(sites|conf|mods)-(available|enabled)$/.test(dir)) return /\.(conf|load)$/.test(base) || (/sites-/.test(dir) && !base.includes('.'));
  return /\.conf$/.test(base);
}

export function createApacheModule(): FormatModule {
  return {
    id: 'apache',
    matchesPath: isApachePath,
    matchesContent: (text) =>
      /^[ \t]*<VirtualHost[ \t][^>\n]*>/im.test(text) || (/^[ \t]*(ServerRoot|DocumentRoot)[ \t]/im.test(text) && /^[ \t]*Listen[ \t]/im.test(text)),
    parse: parseApache,
    link,
  };
}
