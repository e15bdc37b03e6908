/**
 * ufw: the rules files it writes (user.rules, user6.rules; before/after.rules), its settings
 * (/etc/default/ufw, /etc/ufw/ufw.conf) and its application profiles (/etc/ufw/applications.d/*).
 *
 * user.rules is an iptables-restore file (ufw-init loads it with iptables-restore), so it is read by
 * the iptables reader; each `### tuple ###` comment is ufw's own record of one rule (what `ufw
 * status` shows and what ufw rewrites the -A lines from), read as ufw 0.36's backend reads it.
 * The settings and profiles are reached from user.rules through IncludeRefs to their system paths,
 * so link() sees them. Checked against the real `ufw --rootdir` in test/oracle/ufw.test.ts.
 */
import * as ipaddr from 'ipaddr.js';
import { pushAll } from '../../core/arrays';
import { MAX_PORT } from '../../core/portRanges';
import type {
  FileParse,
  Finding,
  FirewallAction,
  FirewallFacts,
  FirewallRule,
  FormatModule,
  IncludeRef,
  InstanceInput,
  InstanceOutput,
  IpFamily,
  PortFact,
  PortRange,
  Protocol,
  Span,
} from '../../core/types';
import {
  factsOfRule,
  flattenRules,
  formatPorts,
  parseRestore,
  verbOf,
  type IptRule,
  type IptTable,
  type PortElem,
  type ServiceResolver,
} from '../netfilter/restore';

function finding(file: string, span: Span, code: 'syntax' | 'invalid-port', message: string, severity: Finding['severity'] = 'error'): Finding {
  return { file, span, severity, code, message };
}

interface Word {
  text: string;
  span: Span;
}

function words(line: string, offset: number): Word[] {
  const out: Word[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push({ text: m[0], span: { start: offset + m.index, end: offset + m.index + m[0].length } });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ports as ufw reads them (ufw/common.py UFWRule.set_port).

/** Protocols ufw accepts in a rule (ufw/util.py supported_protocols) and those that carry no ports. */
const UFW_PROTOCOLS = ['tcp', 'udp', 'ipv6', 'esp', 'ah', 'igmp', 'gre', 'vrrp', 'any'];
const PORTLESS = ['ipv6', 'esp', 'ah', 'igmp', 'gre', 'vrrp'];

/**
 * A ufw port list: "any", or up to 15 comma-separated entries (a range a:b counting two, a < b),
 * each 1-65535 or a service name. Returns the ports or the reason ufw gives "Bad port".
 */
export function parseUfwPorts(text: string, span: Span, resolve: ServiceResolver): { elems?: PortElem[]; error?: { span: Span; message: string } } {
  if (text === 'any') return {};
  const bad = (message: string, s: Span = span) => ({ error: { span: s, message } });
  if (/^[,:]|[,:]$/.test(text)) return bad(`Bad port "${text}": a port list cannot start or end with "," or ":".`);
  const separators = (text.match(/[,:]/g) ?? []).length;
  if (separators > 14) return bad(`Bad port "${text}": at most 15 ports (a range counting two), the limit of iptables' multiport.`);
  const elems: PortElem[] = [];
  let at = 0;
  for (const p of text.split(',')) {
    const s = { start: span.start + at, end: span.start + at + p.length };
    at += p.length + 1;
    const range = /^(\d+):(\d+)$/.exec(p);
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (from < 1 || from > MAX_PORT || to < 1 || to > MAX_PORT) return bad(`Bad port range "${p}": ports are 1-65535.`, s);
      if (from >= to) return bad(`Bad port range "${p}": the first port must be below the last.`, s);
      elems.push({ from, to, span: s, text: p });
    } else if (/^\d+$/.test(p)) {
      const n = Number(p);
      if (n < 1 || n > MAX_PORT) return bad(`Bad port "${p}": ports are 1-65535.`, s);
      elems.push({ from: n, to: n, span: s, text: p });
    } else if (/^\w[\w-]+/.test(p)) {
      const n = /^[a-z0-9][a-z0-9._+-]*$/.test(p) ? resolve(p) : undefined;
      if (n === undefined) return bad(`Bad port "${p}": not a number and not a service name /etc/services knows.`, s);
      elems.push({ from: n, to: n, span: s, text: p });
    } else {
      return bad(`Bad port "${p}".`, s);
    }
  }
  return { elems };
}

/** ufw/util.py valid_address: an IPv4 or IPv6 address with an optional prefix length (netmask for IPv4). */
function validUfwAddress(text: string): boolean {
  if (text === 'any') return true;
  const [addr, mask, ...rest] = text.split('/');
  if (rest.length > 0) return false;
  if (ipaddr.IPv4.isValidFourPartDecimal(addr)) {
    if (mask === undefined) return true;
    return (/^\d+$/.test(mask) && Number(mask) <= 32) || ipaddr.IPv4.isValidFourPartDecimal(mask);
  }
  if (ipaddr.IPv6.isValid(addr)) return mask === undefined || (/^\d+$/.test(mask) && Number(mask) <= 128);
  return false;
}

const isAnywhere = (addr: string) => addr === 'any' || addr === '0.0.0.0/0' || addr === '::/0';

// ---------------------------------------------------------------------------------------------
// user.rules: tuples and the -A lines that enforce them.

export interface UfwTuple {
  span: Span;
  line: number;
  action: 'allow' | 'deny' | 'reject' | 'limit';
  /** Route rules (ufw route ...) filter forwarded traffic. */
  route: boolean;
  protocol: string;
  dport?: PortElem[];
  sport?: PortElem[];
  dportWord: Word;
  dst: string;
  src: string;
  dapp?: string;
  sapp?: string;
  direction: 'in' | 'out';
  ifaceIn?: string;
  ifaceOut?: string;
  /** ufw skips a malformed tuple (the -A lines stay until ufw rewrites the file). */
  valid: boolean;
  /** The -A lines written under this tuple. */
  rules: IptRule[];
}

export interface UfwRulesExtra {
  kind: 'user' | 'before' | 'after';
  family: IpFamily;
  tuples: UfwTuple[];
  /** For each fact of the file, the tuple it belongs to (index into tuples). */
  factTuple: (number | undefined)[];
}

function tupleProtocols(t: UfwTuple): Protocol[] {
  if (t.protocol === 'tcp' || t.protocol === 'udp') return [t.protocol];
  if (t.protocol === 'any') return ['tcp', 'udp'];
  return [];
}

function actionOfTuple(t: UfwTuple): FirewallAction {
  return t.action === 'allow' ? 'accept' : t.action === 'deny' ? 'drop' : t.action;
}

/** "allows TCP 22 inbound from 10.0.0.0/8 on eth0" for one port element of a tuple. */
function tupleSentence(t: UfwTuple, protocol: Protocol, ports: string, sourcePort = false): string {
  const dir = t.route ? 'forwarded' : t.direction === 'in' ? 'inbound' : 'outbound';
  const P = protocol.toUpperCase();
  let s = sourcePort
    ? `${verbOf(actionOfTuple(t), undefined)} ${P} ${dir} from source port ${ports}`
    : `${verbOf(actionOfTuple(t), undefined)} ${P} ${ports} ${dir}`;
  if (!isAnywhere(t.src)) s += ` from ${t.src}`;
  if (!isAnywhere(t.dst)) s += ` to ${t.dst}`;
  if (t.ifaceIn) s += ` on ${t.ifaceIn}`;
  if (t.ifaceOut) s += ` out ${t.ifaceOut}`;
  if (t.dapp) s += ` (application profile ${t.dapp})`;
  if (t.sapp) s += ` (source application profile ${t.sapp})`;
  if (t.action === 'limit') s += ' (rate-limited)';
  return s;
}

/**
 * The chains ufw-init creates before it restores before/after/user rules with `-n` (no flush):
 * /lib/ufw/ufw-init-functions sets up the INPUT/OUTPUT/FORWARD skeleton, the logging-deny/allow and
 * the skip-to-policy chains first, so the rules files may jump to them without declaring them.
 */
function ufwInitChains(prefix: string): string[] {
  const chains = [`${prefix}-logging-deny`, `${prefix}-logging-allow`];
  for (const dir of ['input', 'output', 'forward'])
    for (const part of ['before-logging', 'before', 'after', 'after-logging', 'reject', 'track', 'skip-to-policy']) chains.push(`${prefix}-${part}-${dir}`);
  return chains;
}

export function parseUserRules(text: string, file: string, resolve: ServiceResolver): FileParse {
  const base = file.slice(file.lastIndexOf('/') + 1);
  const family: IpFamily = /6\.rules$/.test(base) ? 'ipv6' : 'ipv4';
  const kind: UfwRulesExtra['kind'] = base.startsWith('before') ? 'before' : base.startsWith('after') ? 'after' : 'user';
  const doc = parseRestore(text, file, {
    family,
    resolveService: resolve,
    tool: family === 'ipv6' ? 'ip6tables-restore (ufw-init)' : 'iptables-restore (ufw-init)',
    existingChains: ufwInitChains(family === 'ipv6' ? 'ufw6' : 'ufw'),
  });
  const findings = [...doc.findings];
  const filter = doc.tables.get('filter');
  const prefix = family === 'ipv6' ? 'ufw6' : 'ufw';
  const tuples: UfwTuple[] = [];

  // Tuples, and which -A lines follow each one.
  const ruleByLine = new Map<number, IptRule>();
  for (const table of doc.tables.values()) for (const rules of table.rules.values()) for (const r of rules) ruleByLine.set(r.line, r);
  let offset = 0;
  let lineNo = 0;
  let currentTuple: UfwTuple | undefined;
  for (const raw of text.split('\n')) {
    const lineStart = offset;
    offset += raw.length + 1;
    lineNo++;
    const line = raw.replace(/\r$/, '');
    const m = /^### tuple ###\s*/.exec(line);
    if (m) {
      currentTuple = parseTuple(line.slice(m[0].length), lineStart + m[0].length, { start: lineStart, end: lineStart + line.length }, lineNo);
      if (currentTuple) tuples.push(currentTuple);
      continue;
    }
    // ufw writes a tuple's -A lines right under it and a blank line before the next tuple.
    if (/^### END RULES ###/.test(line) || line.trim() === '') currentTuple = undefined;
    const rule = ruleByLine.get(lineNo);
    if (rule && currentTuple && enforces(currentTuple, rule)) currentTuple.rules.push(rule);
    else if (rule) currentTuple = undefined;
  }

  // Facts: the tuple's ports, and every port of the -A lines (described by their tuple when they have one).
  const facts: PortFact[] = [];
  const factTuple: (number | undefined)[] = [];
  const context = (line: number) => `ufw ${kind}${family === 'ipv6' ? '6' : ''}.rules, line ${line}`;
  tuples.forEach((t, ti) => {
    if (!t.valid) return;
    for (const protocol of tupleProtocols(t)) {
      for (const [elems, isSource] of [
        [t.dport, false],
        [t.sport, true],
      ] as const) {
        for (const el of elems ?? []) {
          facts.push({
            role: 'firewall',
            file,
            span: el.span,
            protocol,
            port: el.from,
            portEnd: el.to,
            family,
            program: 'ufw',
            context: context(t.line),
            detail: tupleSentence(t, protocol, formatPorts([el]), isSource),
          });
          factTuple.push(ti);
        }
      }
    }
  });
  const tupleOfRule = new Map<IptRule, number>();
  tuples.forEach((t, ti) => t.rules.forEach((r) => tupleOfRule.set(r, ti)));
  const directionOf = (rule: IptRule) => {
    const m = /^ufw6?-(?:before|user|after)-(input|output|forward)$/.exec(rule.chain);
    return m ? { input: 'inbound', output: 'outbound', forward: 'forwarded' }[m[1]]! : '';
  };
  for (const table of doc.tables.values()) {
    for (const rules of table.rules.values()) {
      for (const rule of rules) {
        if (rule.invalid) continue;
        const ti = tupleOfRule.get(rule);
        for (const fact of factsOfRule(rule, table, { file, family, program: 'ufw', directionOf })) {
          if (ti !== undefined && tuples[ti].valid) {
            const isSource = rule.ports.some((p) => p.kind === 'sport' && p.elems.some((e) => e.span === fact.span));
            fact.detail = tupleSentence(tuples[ti], fact.protocol, fact.port === fact.portEnd ? String(fact.port) : `${fact.port}-${fact.portEnd}`, isSource);
          }
          fact.context = context(rule.line);
          facts.push(fact);
          factTuple.push(ti);
        }
      }
    }
  }

  const firewall: FirewallFacts = {
    tool: 'ufw',
    inputRules: filter ? inputRules(filter, tuples, `${prefix}-${kind}-input`, family) : [],
    forwards: [],
  };
  // ufw's shipped default (DEFAULT_INPUT_POLICY="DROP"); /etc/default/ufw, when linked, says what it is.
  if (kind === 'user') firewall.inboundPolicy = { action: 'drop', family };
  const includes: IncludeRef[] = [
    { span: { start: 0, end: 0 }, pattern: '/etc/default/ufw', relativeTo: '/etc/ufw', context: 'ufw-config' },
    { span: { start: 0, end: 0 }, pattern: 'ufw.conf', relativeTo: '/etc/ufw', context: 'ufw-config' },
    { span: { start: 0, end: 0 }, pattern: 'applications.d/*', relativeTo: '/etc/ufw', context: 'ufw-app' },
  ];
  const extra: UfwRulesExtra = { kind, family, tuples, factTuple };
  return { format: 'ufw', file, facts, findings, includes: kind === 'user' ? includes : includes.slice(0, 2), firewall, extra };

  function parseTuple(body: string, bodyStart: number, lineSpan: Span, line: number): UfwTuple | undefined {
    // "comment=HEX" always comes last.
    const commentAt = body.indexOf(' comment=');
    const fields = words(commentAt >= 0 ? body.slice(0, commentAt) : body, bodyStart);
    const skip = (span: Span, code: 'syntax' | 'invalid-port', message: string, severity: Finding['severity'] = 'error') => {
      findings.push(
        finding(
          file,
          span,
          code,
          `${message} ufw skips this tuple ("Skipping malformed tuple"), so \`ufw status\` will not show the rule and the next ufw command drops its -A lines.`,
          severity,
        ),
      );
    };
    if (fields.length < 6 || fields.length > 9) {
      skip(lineSpan, 'syntax', `A tuple has 6 to 9 fields (ACTION PROTO DPORT DST SPORT SRC [DAPP SAPP] DIR); this one has ${fields.length}.`);
      return undefined;
    }
    let direction: 'in' | 'out' = 'in';
    let ifaceIn: string | undefined;
    let ifaceOut: string | undefined;
    if (fields.length === 7 || fields.length === 9) {
      const last = fields[fields.length - 1].text;
      direction = last.split('_')[0] === 'out' ? 'out' : 'in';
      if (last.includes('_')) {
        if (last.includes('!') && /in_\w+/.test(last) && /out_\w+/.test(last)) {
          ifaceIn = last.split('!')[0].split('_').slice(1).join('_');
          ifaceOut = last.split('!')[1].split('_').slice(1).join('_');
        } else if (last.startsWith('in_')) ifaceIn = last.slice(3);
        else if (last.startsWith('out_')) ifaceOut = last.slice(4);
        else {
          skip(fields[fields.length - 1].span, 'syntax', `Bad direction "${last}": write in, out, in_IFACE or out_IFACE.`);
          return undefined;
        }
      }
    }
    let actionText = fields[0].text;
    const route = actionText.includes(':');
    if (route) actionText = actionText.split(':')[1];
    const a = actionText.toLowerCase().split('_')[0];
    const action = a === 'allow' || a === 'reject' || a === 'limit' ? a : 'deny';
    const t: UfwTuple = {
      span: lineSpan,
      line,
      action,
      route,
      protocol: fields[1].text,
      dportWord: fields[2],
      dst: fields[3].text.toLowerCase(),
      src: fields[5].text.toLowerCase(),
      direction,
      ifaceIn,
      ifaceOut,
      valid: true,
      rules: [],
    };
    if (!UFW_PROTOCOLS.includes(t.protocol)) {
      skip(fields[1].span, 'syntax', `Unsupported protocol "${t.protocol}": ufw knows ${UFW_PROTOCOLS.join(', ')}.`);
      t.valid = false;
    }
    for (const [w, key] of [
      [fields[2], 'dport'],
      [fields[4], 'sport'],
    ] as const) {
      const r = parseUfwPorts(w.text, w.span, resolve);
      if (r.error) {
        skip(r.error.span, 'invalid-port', r.error.message);
        t.valid = false;
      } else t[key] = r.elems;
    }
    for (const w of [fields[3], fields[5]]) {
      if (!validUfwAddress(w.text.toLowerCase())) {
        skip(w.span, 'syntax', `Bad address "${w.text}".`);
        t.valid = false;
      }
    }
    if (fields.length >= 8) {
      if (fields[6].text !== '-') t.dapp = fields[6].text.replace(/%20/g, ' ');
      if (fields[7].text !== '-') t.sapp = fields[7].text.replace(/%20/g, ' ');
    }
    return t;
  }
}

/** An -A line that could come from this tuple: its destination ports lie within the tuple's. */
function enforces(t: UfwTuple, rule: IptRule): boolean {
  const dports = rule.ports.filter((p) => p.kind === 'dport' && !p.negated).flatMap((p) => p.elems);
  if (!t.dport) return dports.length === 0 || !!t.dapp;
  return dports.every((e) => t.dport!.some((d) => e.from >= d.from && e.to <= d.to));
}

/**
 * The rules a packet meets in ufw's input chain of this file, in order: one per tuple (ufw's own
 * meaning of the rule: `limit` accepts, rate-limited) where the tuple's -A lines stand, and the
 * -A lines no tuple describes, read as iptables rules.
 */
function inputRules(filter: IptTable, tuples: UfwTuple[], chain: string, family: IpFamily): FirewallRule[] {
  const chainRules = filter.rules.get(chain);
  if (!chainRules) return [];
  const owner = new Map<IptRule, UfwTuple>();
  for (const t of tuples) for (const r of t.rules) owner.set(r, t);
  const done = new Set<UfwTuple>();
  const out: FirewallRule[] = [];
  const loose: IptRule[] = [];
  const flushLoose = () => {
    if (loose.length > 0) pushAll(out, flattenRules(filter, loose.splice(0), family, [chain]));
  };
  for (const r of chainRules) {
    const t = owner.get(r);
    if (!t) {
      loose.push(r);
      continue;
    }
    flushLoose();
    if (done.has(t)) continue;
    done.add(t);
    if (!t.valid || t.route || t.direction !== 'in') continue;
    const protocols: (Protocol | 'any')[] = t.dport || t.sport ? tupleProtocols(t) : t.protocol === 'any' ? ['any'] : tupleProtocols(t);
    for (const protocol of protocols) {
      const fr: FirewallRule = { span: t.span, protocol, action: actionOfTuple(t), family };
      if (t.dport) fr.ports = t.dport.map((e): PortRange => ({ from: e.from, to: e.to }));
      if (!isAnywhere(t.src)) fr.source = t.src;
      if (t.ifaceIn) fr.iface = t.ifaceIn;
      if (t.sport) fr.sourcePorts = t.sport.map((e): PortRange => ({ from: e.from, to: e.to }));
      if (!isAnywhere(t.dst)) fr.destination = t.dst;
      if (t.ifaceIn === 'lo') fr.loopbackOnly = true;
      fr.chain = chain;
      // ufw enforces limit with -m recent: over 6 new connections in 30 s from one source, the rule rejects instead.
      if (t.action === 'limit') fr.unmodelled = ['rate limit (-m recent)'];
      const notes: string[] = [];
      if (t.action === 'limit') notes.push('rate-limited: 6 new connections in 30 s per source');
      if (t.sport) notes.push(`source port ${formatPorts(t.sport)}`);
      if (!isAnywhere(t.dst)) notes.push(`to ${t.dst}`);
      if (t.ifaceIn === 'lo') notes.push('loopback');
      if (t.dapp) notes.push(`application profile ${t.dapp}`);
      if (notes.length > 0) fr.note = notes.join('; ');
      out.push(fr);
    }
  }
  flushLoose();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Settings: /etc/default/ufw and /etc/ufw/ufw.conf.

export interface UfwSetting {
  value: string;
  span: Span;
  file: string;
}

export interface UfwConfigExtra {
  settings: Record<string, UfwSetting>;
}

/** KEY=value lines; ufw lower-cases keys and values and strips quotes (backend.py _get_defaults). */
export function parseUfwConfig(text: string, file: string): FileParse {
  const findings: Finding[] = [];
  const settings: Record<string, UfwSetting> = {};
  let offset = 0;
  for (const raw of text.split('\n')) {
    const lineStart = offset;
    offset += raw.length + 1;
    const m = /^(\w+)=("?)(\w+)("?)/.exec(raw);
    if (!m) continue;
    const valueStart = lineStart + m[1].length + 1;
    const valueText = raw.slice(m[1].length + 1).trim();
    settings[m[1].toLowerCase()] = {
      value: valueText.replace(/^["']|["']$/g, '').toLowerCase(),
      span: { start: valueStart, end: valueStart + valueText.length },
      file,
    };
  }
  const isDefaults = /(^|\/)default\/ufw$/.test(file);
  for (const c of ['input', 'output', 'forward']) {
    const s = settings[`default_${c}_policy`];
    if (s && !['accept', 'drop', 'reject'].includes(s.value))
      findings.push(
        finding(file, s.span, 'syntax', `Invalid policy "${s.value}" for ${c}: ufw accepts ACCEPT, DROP or REJECT and refuses to start otherwise.`),
      );
    if (!s && isDefaults)
      findings.push(
        finding(
          file,
          { start: 0, end: 0 },
          'syntax',
          `Missing DEFAULT_${c.toUpperCase()}_POLICY: ufw refuses to run without it ("Missing policy for '${c}'").`,
        ),
      );
  }
  const enabled = settings.enabled;
  if (enabled && enabled.value !== 'yes' && enabled.value !== 'no')
    findings.push(finding(file, enabled.span, 'syntax', `ENABLED is "${enabled.value}": ufw starts at boot only for "yes".`, 'warning'));
  const extra: UfwConfigExtra = { settings };
  return { format: 'ufw-config', file, facts: [], findings, includes: [], extra };
}

// ---------------------------------------------------------------------------------------------
// Application profiles: INI files read by Python's configparser (RawConfigParser), checked as
// ufw/applications.py does.

export interface UfwProfilePorts {
  protocol: 'tcp' | 'udp' | 'any';
  elems: PortElem[];
}

export interface UfwProfile {
  name: string;
  span: Span;
  ports: UfwProfilePorts[];
  file: string;
}

export interface UfwAppExtra {
  /** Profiles ufw accepts from this file (none when configparser cannot read the file). */
  profiles: UfwProfile[];
}

/** Files of applications.d that ufw does not read. */
export function isIgnoredProfileFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.startsWith('.') || /\.(dpkg-new|dpkg-old|dpkg-dist|rpmnew|rpmsave)$|~$/.test(base);
}

interface IniOption {
  key: string;
  value: string;
  /** Span of the value's first line. */
  valueSpan: Span;
  keySpan: Span;
}

interface IniSection {
  name: string;
  span: Span;
  options: Map<string, IniOption>;
}

export function parseUfwProfiles(text: string, file: string, resolve: ServiceResolver): FileParse {
  const findings: Finding[] = [];
  const facts: PortFact[] = [];
  const sections: IniSection[] = [];
  const defaults = new Map<string, IniOption>();
  let fatal: Finding | undefined;
  const parseErrors: Finding[] = [];
  let current: IniSection | 'DEFAULT' | undefined;
  let lastOption: IniOption | undefined;
  let lastIndent = 0;
  let offset = 0;
  for (const raw of text.split('\n')) {
    const lineStart = offset;
    offset += raw.length + 1;
    if (fatal) break;
    const line = raw.replace(/\r$/, '');
    const stripped = line.trim();
    const indent = line.length - line.trimStart().length;
    if (stripped === '' || stripped.startsWith('#') || stripped.startsWith(';')) {
      if (stripped === '') lastOption = undefined;
      continue;
    }
    const lineSpan = { start: lineStart + indent, end: lineStart + line.length };
    if (lastOption && current && indent > lastIndent) {
      lastOption.value += `\n${stripped}`;
      continue;
    }
    const header = /^\[(.+)\]/.exec(stripped);
    if (header) {
      const name = header[1];
      if (name === 'DEFAULT') current = 'DEFAULT';
      else {
        if (sections.some((s) => s.name === name)) {
          fatal = finding(
            file,
            lineSpan,
            'syntax',
            `Section [${name}] appears twice in this file: configparser refuses the file, so ufw skips every profile in it.`,
            'warning',
          );
          break;
        }
        current = { name, span: { start: lineStart + indent + 1, end: lineStart + indent + 1 + name.length }, options: new Map() };
        sections.push(current);
      }
      lastOption = undefined;
      continue;
    }
    if (!current) {
      fatal = finding(
        file,
        lineSpan,
        'syntax',
        'Text before the first [section] header: configparser refuses the file, so ufw skips every profile in it.',
        'warning',
      );
      break;
    }
    const opt = /^(.*?)\s*([=:])\s*(.*)$/.exec(stripped);
    if (!opt || opt[1] === '') {
      parseErrors.push(
        finding(
          file,
          lineSpan,
          'syntax',
          'Neither a [section] header nor a key=value line: configparser refuses the file, so ufw skips every profile in it.',
          'warning',
        ),
      );
      lastOption = undefined;
      continue;
    }
    const key = opt[1].toLowerCase();
    const valueOffset = stripped.length - opt[3].length;
    const option: IniOption = {
      key,
      value: opt[3],
      keySpan: { start: lineStart + indent, end: lineStart + indent + opt[1].length },
      valueSpan: { start: lineStart + indent + valueOffset, end: lineStart + indent + stripped.length },
    };
    const target = current === 'DEFAULT' ? defaults : current.options;
    if (target.has(key)) {
      fatal = finding(
        file,
        option.keySpan,
        'syntax',
        `Key "${key}" appears twice in this section: configparser refuses the file, so ufw skips every profile in it.`,
        'warning',
      );
      break;
    }
    target.set(key, option);
    lastOption = option;
    lastIndent = indent;
  }
  const profiles: UfwProfile[] = [];
  if (fatal || parseErrors.length > 0) {
    pushAll(findings, fatal ? [fatal] : parseErrors);
    return { format: 'ufw-app', file, facts, findings, includes: [], extra: { profiles } satisfies UfwAppExtra };
  }
  for (const section of sections) {
    const skipProfile = (span: Span, code: 'syntax' | 'invalid-port', message: string, severity: Finding['severity'] = 'warning') =>
      findings.push(finding(file, span, code, `${message} ufw skips profile "${section.name}".`, severity));
    const name = section.name;
    if (name.length > 64) {
      skipProfile(section.span, 'syntax', 'Profile names are at most 64 characters.');
      continue;
    }
    if (name === 'all' || /^\s*[-+]?\d+\s*$/.test(name) || !/^[a-zA-Z0-9][a-zA-Z0-9 _\-.+]*$/.test(name)) {
      skipProfile(
        section.span,
        'syntax',
        `Invalid profile name "${name}": it must start with a letter or digit, use only letters, digits, space and _-.+, and not be a number or "all".`,
      );
      continue;
    }
    if (/^[a-z0-9][a-z0-9._+-]*$/.test(name) && resolve(name) !== undefined) {
      skipProfile(section.span, 'syntax', `Profile name "${name}" is also a service name in /etc/services.`);
      continue;
    }
    const options = new Map([...defaults, ...section.options]);
    const tooLong = [...options.values()].find((o) => o.key.length > 64 || o.value.length > 1024);
    if (tooLong) {
      skipProfile(
        tooLong.keySpan,
        'syntax',
        tooLong.key.length > 64 ? 'A key is longer than 64 characters.' : `The value of "${tooLong.key}" is longer than 1024 characters.`,
      );
      continue;
    }
    const missing = ['title', 'description', 'ports'].find((f) => !options.get(f) || options.get(f)!.value === '');
    if (missing) {
      skipProfile(
        options.get(missing)?.keySpan ?? section.span,
        'syntax',
        `Profile "${name}" ${options.get(missing) ? 'has an empty' : 'lacks the required'} field "${missing}".`,
      );
      continue;
    }
    const portsOpt = options.get('ports')!;
    const parsed = parseProfilePorts(portsOpt);
    if ('error' in parsed) {
      skipProfile(parsed.error.span, 'invalid-port', `Invalid ports in profile "${name}": ${parsed.error.message}`, 'error');
      continue;
    }
    profiles.push({ name, span: section.span, ports: parsed.ports, file });
    for (const group of parsed.ports) {
      const protocols: Protocol[] = group.protocol === 'any' ? ['tcp', 'udp'] : [group.protocol];
      for (const el of group.elems) {
        for (const protocol of protocols) {
          facts.push({
            role: 'firewall',
            file,
            span: el.span,
            protocol,
            port: el.from,
            portEnd: el.to,
            program: 'ufw',
            context: `ufw application profile ${name}`,
            detail: `ufw application profile "${name}" lists ${protocol.toUpperCase()} ${formatPorts([el])} (opened only by rules that name the profile)`,
          });
        }
      }
    }
  }
  return { format: 'ufw-app', file, facts, findings, includes: [], extra: { profiles } satisfies UfwAppExtra };

  /** ports=80,443/tcp|53/udp|60000:61000/udp (ufw/util.py parse_port_proto + UFWRule). */
  function parseProfilePorts(o: IniOption): { ports: UfwProfilePorts[] } | { error: { span: Span; message: string } } {
    const ports: UfwProfilePorts[] = [];
    const plain = !o.value.includes('\n');
    let at = 0;
    for (const part of o.value.split('|')) {
      const partSpan = plain ? { start: o.valueSpan.start + at, end: o.valueSpan.start + at + part.length } : o.valueSpan;
      at += part.length + 1;
      const pieces = part.split('/');
      if (pieces.length > 2) return { error: { span: partSpan, message: `"${part}" has more than one "/".` } };
      const [port, proto = 'any'] = pieces;
      if (PORTLESS.includes(proto)) return { error: { span: partSpan, message: `protocol ${proto} has no ports.` } };
      if (proto === 'any' && /[:,]/.test(port)) return { error: { span: partSpan, message: `a port list or range needs /tcp or /udp ("${part}").` } };
      if (!UFW_PROTOCOLS.includes(proto)) return { error: { span: partSpan, message: `unsupported protocol "${proto}".` } };
      const portSpan = plain ? { start: partSpan.start, end: partSpan.start + port.length } : o.valueSpan;
      const r = parseUfwPorts(port, portSpan, resolve);
      if (r.error) return { error: r.error };
      if (!r.elems) return { error: { span: portSpan, message: '"any" is not a port.' } };
      ports.push({ protocol: proto === 'tcp' || proto === 'udp' ? proto : 'any', elems: r.elems });
    }
    return { ports };
  }
}

// ---------------------------------------------------------------------------------------------
// The modules.

const USER_RULES = /(^|\/)user6?\.rules$/;
const BEFORE_AFTER = /(^|\/)ufw\/(before|after)6?\.rules$/;
const CONFIG = /(^|\/)default\/ufw$|(^|\/)ufw\.conf$/;
const APP = /(^|\/)applications\.d\/[^/]+$/;

/** What the ufw settings linked to a rules file say, for hovers and for FirewallFacts. */
export interface UfwSettingsView {
  policy?: { action: 'accept' | 'drop' | 'reject'; span: Span; file: string };
  enabled?: { value: boolean; span: Span; file: string };
  ipv6?: { value: boolean; span: Span; file: string };
}

export function ufwSettings(files: FileParse[]): UfwSettingsView {
  const view: UfwSettingsView = {};
  for (const f of files) {
    if (f.format !== 'ufw-config') continue;
    const s = (f.extra as UfwConfigExtra).settings;
    const p = s.default_input_policy;
    if (p && ['accept', 'drop', 'reject'].includes(p.value)) view.policy = { action: p.value as 'accept' | 'drop' | 'reject', span: p.span, file: p.file };
    if (s.enabled) view.enabled = { value: s.enabled.value === 'yes', span: s.enabled.span, file: s.enabled.file };
    if (s.ipv6) view.ipv6 = { value: s.ipv6.value === 'yes', span: s.ipv6.span, file: s.ipv6.file };
  }
  return view;
}

/** The firewall of one ufw rules file with its settings applied (policy, enablement). */
export function ufwFirewall(instance: InstanceInput): FirewallFacts | undefined {
  const root = instance.root;
  if (!root.firewall) return undefined;
  const view = ufwSettings(instance.files);
  const x = root.extra as UfwRulesExtra;
  const fw: FirewallFacts = { ...root.firewall };
  if (view.policy && x.kind === 'user') fw.inboundPolicy = { action: view.policy.action, family: x.family, span: view.policy.span, file: view.policy.file };
  if (view.enabled) fw.enabled = view.enabled.value;
  // IPV6=no: ufw-init loads none of the v6 rules files; it sets INPUT DROP and accepts only loopback.
  if (x.family === 'ipv6' && view.ipv6 && !view.ipv6.value) {
    fw.inputRules =
      x.kind === 'user'
        ? [{ span: view.ipv6.span, file: view.ipv6.file, protocol: 'any', action: 'accept', family: 'ipv6', loopbackOnly: true, iface: 'lo' }]
        : [];
    if (x.kind === 'user') fw.inboundPolicy = { action: 'drop', family: 'ipv6', span: view.ipv6.span, file: view.ipv6.file };
  }
  return fw;
}

export function createUfwModules(resolve: ServiceResolver): FormatModule[] {
  const parseAny = (text: string, file: string, context?: string): FileParse => {
    if (context === 'ufw-config' || (!context && CONFIG.test(file))) return parseUfwConfig(text, file);
    if (context === 'ufw-app' || (!context && APP.test(file))) return parseUfwProfiles(text, file, resolve);
    return parseUserRules(text, file, resolve);
  };

  /** Facts of the rules file, their sentences completed with what the settings and profiles say. */
  function link(instance: InstanceInput): InstanceOutput {
    const view = ufwSettings(instance.files);
    const profiles = new Map<string, UfwProfile>();
    for (const f of instance.files) {
      if (f.format !== 'ufw-app' || isIgnoredProfileFile(f.file)) continue;
      for (const p of (f.extra as UfwAppExtra).profiles) profiles.set(p.name, p);
    }
    const facts: PortFact[] = [];
    const findings: Finding[] = [];
    for (const f of instance.files) {
      // Settings and profiles are analysed as files of their own (their own modules report them).
      if (f.format !== 'ufw') continue;
      pushAll(findings, f.findings);
      const x = f.extra as UfwRulesExtra;
      f.facts.forEach((fact, i) => {
        const t = x.factTuple[i] !== undefined ? x.tuples[x.factTuple[i]!] : undefined;
        let detail = fact.detail ?? '';
        const app = t?.dapp ?? t?.sapp;
        const profile = app ? profiles.get(app) : undefined;
        if (t && app && profile) {
          const now = profile.ports.map((g) => `${formatPorts(g.elems)}${g.protocol === 'any' ? '' : `/${g.protocol}`}`).join('|');
          const written = t.dapp ? t.dport : t.sport;
          const nowSet = profile.ports
            .flatMap((g) => g.elems.map((e) => `${e.from}-${e.to}`))
            .sort()
            .join(',');
          const writtenSet = (written ?? [])
            .map((e) => `${e.from}-${e.to}`)
            .sort()
            .join(',');
          if (nowSet !== writtenSet) detail += `; the profile now lists ${now}: \`ufw app update ${app}\` rewrites this rule`;
        }
        if (view.enabled && !view.enabled.value) detail += ' — not enforced: ufw is disabled (ENABLED=no)';
        else if (x.family === 'ipv6' && view.ipv6 && !view.ipv6.value) detail += ' — not enforced: IPV6=no in /etc/default/ufw';
        facts.push({ ...fact, detail });
      });
    }
    return { facts, findings, firewall: ufwFirewall(instance) };
  }

  const rules: FormatModule = {
    id: 'ufw',
    matchesPath: (path) => USER_RULES.test(path) || BEFORE_AFTER.test(path),
    parse: parseAny,
    link,
  };
  const config: FormatModule = {
    id: 'ufw-config',
    matchesPath: (path) => CONFIG.test(path),
    parse: (text, file) => parseUfwConfig(text, file),
  };
  const app: FormatModule = {
    id: 'ufw-app',
    matchesPath: (path) => APP.test(path) && /(^|\/)ufw\/applications\.d\//.test(path) && !isIgnoredProfileFile(path),
    parse: (text, file) => parseUfwProfiles(text, file, resolve),
  };
  return [rules, config, app];
}
