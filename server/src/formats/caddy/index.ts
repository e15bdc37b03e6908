/**
 * Caddy (`Caddyfile`): the sockets a Caddyfile's sites make Caddy 2.6 listen on, and its
 * reverse_proxy upstreams. A site address (`:8080`, `example.com`, `http://host:port`, ...) names
 * the port; the host in it is a matcher, not a bind address (`bind` or the global `default_bind`
 * sets that; else Go's wildcard, one dual-stack socket). A site without a port listens on the
 * global `https_port` (443) when it is HTTPS (a host, or `https://`) and on `http_port` (80) for
 * `http://`; an HTTPS site also gets HTTP/3 on UDP of its port, and Caddy's automatic redirects open
 * http_port (unless `auto_https off` / `disable_redirects`). Checked against `caddy adapt` in
 * test/oracle/caddy.test.ts (its listen addresses; the redirect and HTTP/3 sockets are made at run time).
 *
 * Only a Caddyfile under /etc/caddy (where Debian's caddy service reads it) is the host's: one
 * elsewhere in a repository is usually mounted into a container, so its sockets are read as
 * container ports (hover, no host conflicts).
 */
import * as path from 'path';
import { formatHostPort, parseIp, resolveWellKnownHost } from '../../core/address';
import type { FileParse, Finding, FormatModule, InstanceInput, InstanceOutput, PortFact, Protocol, Span } from '../../core/types';
import { lexCaddyfile, type CaddyToken } from './lexer';
import { caddyWriter } from './writer';

export const CADDY_PROGRAM = 'caddy';

interface SiteKey {
  scheme: '' | 'http' | 'https';
  host: string;
  port?: number;
  token: CaddyToken;
  portSpan?: Span;
}

interface Site {
  keys: SiteKey[];
  binds: CaddyToken[];
}

interface Upstream {
  host: string;
  port: number;
  span: Span;
  scheme: string;
}

export interface CaddyExtra {
  sites: Site[];
  upstreams: Upstream[];
  httpPort: number;
  httpsPort: number;
  autoHttps: 'on' | 'off' | 'disable_redirects';
  defaultBind: CaddyToken[];
}

function err(file: string, span: Span, message: string): Finding {
  return { file, span, severity: 'error', code: 'invalid-port', message };
}

function isBrace(t: CaddyToken | undefined, b: '{' | '}'): boolean {
  return !!t && !t.quoted && t.text === b;
}

/** The tokens of a block opened by the `{` at `open`: returns the index after its `}`. */
function blockEnd(tokens: CaddyToken[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (isBrace(tokens[i], '{')) depth++;
    else if (isBrace(tokens[i], '}') && --depth === 0) return i + 1;
  }
  return tokens.length;
}

/** Tokens grouped into lines. */
function lines(tokens: CaddyToken[], from: number, to: number): CaddyToken[][] {
  const out: CaddyToken[][] = [];
  for (let i = from; i < to; i++) {
    const last = out[out.length - 1];
    if (last && last[last.length - 1].line === tokens[i].line) last.push(tokens[i]);
    else out.push([tokens[i]]);
  }
  return out;
}

function parsePort(text: string, t: CaddyToken, from: number, file: string, findings: Finding[]): number | undefined {
  const span = t.quoted ? t.span : { start: t.span.start + from, end: t.span.start + from + text.length };
  if (!/^\d+$/.test(text) || Number(text) > 65535) {
    findings.push(err(file, span, `Port "${text}" is out of range or not a number (caddy adapt: parsing key).`));
    return undefined;
  }
  return Number(text);
}

/** A site address: [scheme://]host[:port][/path]. Undefined when it holds a placeholder or Caddy refuses it. */
function readKey(t: CaddyToken, file: string, findings: Finding[]): SiteKey | undefined {
  let s = t.text.replace(/,$/, '');
  if (s.includes('{')) return undefined;
  let off = 0;
  let scheme: SiteKey['scheme'] = '';
  const m = /^([a-z]+):\/\//i.exec(s);
  if (m) {
    const sch = m[1].toLowerCase();
    if (sch !== 'http' && sch !== 'https') return undefined;
    scheme = sch;
    s = s.slice(m[0].length);
    off = m[0].length;
  }
  const slash = s.indexOf('/');
  if (slash >= 0) s = s.slice(0, slash);
  let host = s;
  let portText: string | undefined;
  let portFrom = 0;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    host = s.slice(1, close < 0 ? s.length : close);
    if (close >= 0 && s[close + 1] === ':') {
      portText = s.slice(close + 2);
      portFrom = close + 2;
    }
  } else {
    const colon = s.lastIndexOf(':');
    if (colon >= 0 && !s.slice(0, colon).includes(':')) {
      host = s.slice(0, colon);
      portText = s.slice(colon + 1);
      portFrom = colon + 1;
    }
  }
  let port: number | undefined;
  let portSpan: Span | undefined;
  if (portText !== undefined && portText !== '') {
    port = parsePort(portText, t, off + portFrom, file, findings);
    if (port === undefined) return undefined;
    portSpan = t.quoted ? t.span : { start: t.span.start + off + portFrom, end: t.span.start + off + portFrom + portText.length };
  }
  return { scheme, host, port, token: t, portSpan };
}

function readUpstream(t: CaddyToken): Upstream | undefined {
  let s = t.text;
  if (s.includes('{') || s.startsWith('unix/') || s.startsWith('@') || s.startsWith('/') || s === '*') return undefined;
  let scheme = '';
  const m = /^([a-z0-9+-]+):\/\//i.exec(s);
  if (m) {
    scheme = m[1].toLowerCase();
    s = s.slice(m[0].length);
  }
  s = s.replace(/\/.*$/, '');
  let host = s;
  let portText: string | undefined;
  let portFrom = 0;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    host = s.slice(1, close);
    if (s[close + 1] === ':') [portText, portFrom] = [s.slice(close + 2), close + 2];
  } else if (s.includes(':')) {
    const colon = s.lastIndexOf(':');
    [host, portText, portFrom] = [s.slice(0, colon), s.slice(colon + 1), colon + 1];
  }
  if (host === '') return undefined;
  const start = t.span.start + (m ? m[0].length : 0);
  if (portText !== undefined) {
    if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return undefined;
    return { host, port: Number(portText), span: t.quoted ? t.span : { start: start + portFrom, end: start + portFrom + portText.length }, scheme };
  }
  // No port: 80, or 443 for https:// upstreams.
  return { host, port: scheme === 'https' ? 443 : 80, span: t.span, scheme };
}

function readGlobal(tokens: CaddyToken[], from: number, to: number, extra: CaddyExtra, file: string, findings: Finding[]): void {
  for (const l of lines(tokens, from, to)) {
    const name = l[0].text;
    if ((name === 'http_port' || name === 'https_port') && l[1]) {
      const port = parsePort(l[1].text, l[1], 0, file, findings);
      if (port !== undefined) extra[name === 'http_port' ? 'httpPort' : 'httpsPort'] = port;
    } else if (name === 'auto_https' && l[1]) {
      if (l[1].text === 'off' || l[1].text === 'disable_redirects') extra.autoHttps = l[1].text;
    } else if (name === 'default_bind') extra.defaultBind = l.slice(1);
  }
}

function readSiteBody(tokens: CaddyToken[], from: number, to: number, site: Site, extra: CaddyExtra): void {
  let depth = 0;
  for (const l of lines(tokens, from, to)) {
    if (depth === 0 && l[0].text === 'bind') site.binds.push(...l.slice(1).filter((t) => !isBrace(t, '{')));
    if (l[0].text === 'reverse_proxy' || (l[0].text === 'to' && depth > 0)) {
      for (const t of l.slice(1)) {
        if (isBrace(t, '{')) break;
        const u = readUpstream(t);
        if (u) extra.upstreams.push(u);
      }
    }
    for (const t of l) {
      if (isBrace(t, '{')) depth++;
      else if (isBrace(t, '}')) depth--;
    }
  }
}

function parseCaddyfile(text: string, file: string): FileParse {
  const findings: Finding[] = [];
  const extra: CaddyExtra = { sites: [], upstreams: [], httpPort: 80, httpsPort: 443, autoHttps: 'on', defaultBind: [] };
  const tokens = lexCaddyfile(text);
  let i = 0;
  // A global options block: a `{` alone on the first line.
  if (isBrace(tokens[0], '{') && tokens[1]?.line !== tokens[0].line) {
    const end = blockEnd(tokens, 0);
    readGlobal(tokens, 1, end - 1, extra, file, findings);
    i = end;
  }
  while (i < tokens.length) {
    // The keys: tokens up to a `{` at the end of a line; a trailing comma continues onto the next line.
    const keys: CaddyToken[] = [];
    while (i < tokens.length && !isBrace(tokens[i], '{')) {
      keys.push(tokens[i]);
      const next = tokens[i + 1];
      i++;
      if (next && next.line !== tokens[i - 1].line && !tokens[i - 1].text.endsWith(',') && !isBrace(next, '{')) break;
    }
    let bodyFrom = i;
    let bodyTo: number;
    if (isBrace(tokens[i], '{')) {
      bodyTo = blockEnd(tokens, i) - 1;
      bodyFrom = i + 1;
      i = bodyTo + 1;
    } else {
      // A single site without braces: the rest of the file is its body.
      bodyTo = tokens.length;
      i = tokens.length;
    }
    if (keys.length === 0 || keys[0].text.startsWith('(')) continue; // a snippet
    const site: Site = { keys: [], binds: [] };
    for (const k of keys.flatMap((t) =>
      t.text
        .split(',')
        .filter(Boolean)
        .map((part) => ({ ...t, text: part })),
    )) {
      const key = readKey(k, file, findings);
      if (key) site.keys.push(key);
    }
    readSiteBody(tokens, bodyFrom, bodyTo, site, extra);
    extra.sites.push(site);
  }
  return { format: 'caddy', file, facts: [], findings, includes: [], extra };
}

interface Listener {
  protocol: Protocol;
  family?: 'ipv4' | 'ipv6';
  address?: string;
  port: number;
  span: Span;
  implicit: boolean;
  why: string;
}

type BindAddress = { family?: 'ipv4' | 'ipv6'; address?: string; text: string };

function bindAddresses(binds: CaddyToken[]): BindAddress[] {
  if (binds.length === 0) return [{ family: 'ipv6', text: '' }];
  return binds.flatMap((b): BindAddress[] => {
    const host = b.text.replace(/^tcp[46]?\//, '');
    const ip = parseIp(host);
    if (ip) return [{ family: ip.family, address: ip.address, text: host }];
    const known = resolveWellKnownHost(host);
    return known ? known.map((k) => ({ family: k.family, address: k.address, text: host })) : [{ address: host, text: host }];
  });
}

function link(instance: InstanceInput): InstanceOutput {
  const findings = instance.files.flatMap((f) => f.findings);
  const root = instance.root;
  const x = root.extra as CaddyExtra | undefined;
  if (!x) return { facts: [], findings };
  const onHost = /(^|\/)etc\/caddy\//.test(root.file);
  const listeners: Listener[] = [];
  let redirects: Span | undefined;
  for (const site of x.sites) {
    const addresses = bindAddresses(site.binds.length > 0 ? site.binds : x.defaultBind);
    for (const k of site.keys) {
      const port = k.port ?? (k.scheme === 'http' ? x.httpPort : x.httpsPort);
      const https = k.scheme === 'https' || (k.scheme === '' && (port === x.httpsPort || (k.host !== '' && port !== x.httpPort)));
      const span = k.portSpan ?? k.token.span;
      for (const a of addresses) {
        listeners.push({
          protocol: 'tcp',
          family: a.family,
          address: a.address,
          port,
          span,
          implicit: k.port === undefined,
          why: `site ${k.token.text.replace(/,$/, '')}`,
        });
        if (https)
          listeners.push({
            protocol: 'udp',
            family: a.family,
            address: a.address,
            port,
            span,
            implicit: true,
            why: `site ${k.token.text.replace(/,$/, '')}, HTTP/3`,
          });
      }
      if (https && k.host !== '' && x.autoHttps === 'on') redirects ??= k.token.span;
    }
  }
  if (redirects)
    listeners.push({ protocol: 'tcp', family: 'ipv6', port: x.httpPort, span: redirects, implicit: true, why: 'automatic HTTP to HTTPS redirects' });
  const facts: PortFact[] = [];
  const seen = new Set<string>();
  for (const l of listeners) {
    const key = `${l.protocol}|${l.family}|${l.address}|${l.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const dual = l.family === 'ipv6' && l.address === undefined;
    const where = dual ? `*:${l.port}` : formatHostPort(l.family, l.address, l.port);
    facts.push({
      role: onHost ? 'listen' : 'container',
      file: root.file,
      span: l.span,
      protocol: l.protocol,
      port: l.port,
      portEnd: l.port,
      family: l.family,
      address: l.address,
      v6only: dual ? false : l.family === 'ipv6' ? true : undefined,
      program: CADDY_PROGRAM,
      instance: root.file,
      context: l.why,
      implicit: l.implicit || undefined,
      detail: `Caddy listens on ${where}/${l.protocol} (${l.why})${onHost ? '' : "; a Caddyfile outside /etc/caddy is read as a container's, not judged against this host's ports"}`,
    });
  }
  for (const u of x.upstreams) {
    const ip = parseIp(u.host);
    const known = ip ? [ip] : resolveWellKnownHost(u.host);
    facts.push({
      role: 'upstream',
      file: root.file,
      span: u.span,
      protocol: 'tcp',
      port: u.port,
      portEnd: u.port,
      family: known?.[0]?.family,
      address: known?.[0]?.address ?? (ip ? undefined : u.host),
      program: CADDY_PROGRAM,
      instance: root.file,
      context: 'reverse_proxy',
      detail: `Caddy proxies to ${u.host}:${u.port}/tcp (reverse_proxy; binds nothing)`,
    });
  }
  return { facts, findings };
}

export function createCaddyModule(): FormatModule {
  return {
    id: 'caddy',
    writer: caddyWriter,
    matchesPath: (p) => path.posix.basename(p) === 'Caddyfile',
    parse: (text, file) => parseCaddyfile(text, file),
    link,
  };
}
