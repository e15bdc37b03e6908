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
import { walkCapNote } from '../../core/jumpLoops';
import { MAX_PORT } from '../../core/portRanges';
import { swapRangeFix, withSwap } from '../../core/reversedRange';
import { looksLikeServiceName, UNKNOWN_SERVICE_MESSAGES, unknownService } from '../../core/serviceNames';
import type {
  FileParse,
  Finding,
  Fix,
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
  type RestoreDoc,
  type ServiceResolver,
} from '../netfilter/restore';
import { ufwWriter } from './writer';

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
/** A port ufw refuses; `service` when it is written as a name /etc/services does not list (unknown-service). */
interface UfwPortError {
  span: Span;
  message: string;
  service?: string;
  /** A reversed range a:b (its text `text`, which `span` holds when the value is written plainly): the ends to swap. */
  reversed?: boolean;
  text?: string;
}

/** The finding on a port ufw refuses: unknown-service for a name, invalid-port for the rest. */
function portFinding(file: string, error: UfwPortError, message: string, resolve: ServiceResolver, severity: Finding['severity'] = 'error'): Finding {
  if (!error.service)
    return withSwap(
      finding(file, error.span, 'invalid-port', message, severity),
      error.reversed && error.text ? swapRangeFix(file, error.span, error.text, ':') : undefined,
    );
  return unknownService(file, error.span, error.service, message, {
    messageId: UNKNOWN_SERVICE_MESSAGES.portName,
    program: 'ufw',
    severity,
    known: resolve.known?.(),
    rewritable: error.span.end - error.span.start === error.service.length,
  });
}

export function parseUfwPorts(text: string, span: Span, resolve: ServiceResolver): { elems?: PortElem[]; error?: UfwPortError } {
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
      if (from >= to) return { error: { span: s, message: `Bad port range "${p}": the first port must be below the last.`, reversed: from > to, text: p } };
      elems.push({ from, to, span: s, text: p });
    } else if (/^\d+$/.test(p)) {
      const n = Number(p);
      if (n < 1 || n > MAX_PORT) return bad(`Bad port "${p}": ports are 1-65535.`, s);
      elems.push({ from: n, to: n, span: s, text: p });
    } else if (/^\w[\w-]+/.test(p)) {
      const n = /^[a-z0-9][a-z0-9._+-]*$/.test(p) ? resolve(p) : undefined;
      if (n === undefined)
        return {
          error: {
            span: s,
            message: `Bad port "${p}": not a number and not a service name /etc/services knows.`,
            service: looksLikeServiceName(p) ? p : undefined,
          },
        };
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
  /** Port values of its fields ufw refuses (a reversed range, an unknown name), with their findings: see tupleWideFixes. */
  portErrors?: { field: 'dport' | 'sport'; word: Word; error: UfwPortError; finding: Finding }[];
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

/**
 * user.rules (and before/after.rules): the iptables-restore text read by the netfilter reader, then
 * ufw's `### tuple ###` records read and tied to the -A lines under them (readTuples), the facts of
 * both (factsOfRulesFile) and the input chain as ufw means it (inputRules).
 */
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
  const tuples = readTuples(text, doc, { file, findings, resolve });
  const { facts, factTuple } = factsOfRulesFile(doc, tuples, { file, family, kind });
  const chain = `${prefix}-${kind}-input`;
  let capped: string | undefined;
  const firewall: FirewallFacts = {
    tool: 'ufw',
    inputRules: filter ? inputRules(filter, tuples, chain, family, (why) => (capped ??= why)) : [],
    forwards: [],
  };
  // As for iptables and nftables: a walk its bounds stopped says so, on the chain it started from.
  if (capped) findings.push(walkCapNote(file, filter?.chains.get(chain)?.span, chain, capped));
  // ufw's shipped default (DEFAULT_INPUT_POLICY="DROP"); /etc/default/ufw, when linked, says what it is.
  if (kind === 'user') firewall.inboundPolicy = { action: 'drop', family };
  const includes: IncludeRef[] = [
    { span: { start: 0, end: 0 }, pattern: '/etc/default/ufw', relativeTo: '/etc/ufw', context: 'ufw-config' },
    { span: { start: 0, end: 0 }, pattern: 'ufw.conf', relativeTo: '/etc/ufw', context: 'ufw-config' },
    { span: { start: 0, end: 0 }, pattern: 'applications.d/*', relativeTo: '/etc/ufw', context: 'ufw-app' },
  ];
  const extra: UfwRulesExtra = { kind, family, tuples, factTuple };
  return { format: 'ufw', file, facts, findings, includes: kind === 'user' ? includes : includes.slice(0, 2), firewall, extra };
}

/** Where tuple findings go and how tuple ports resolve. */
interface TupleContext {
  file: string;
  findings: Finding[];
  resolve: ServiceResolver;
}

/** The tuples of a rules file, each with the -A lines that follow it. */
function readTuples(text: string, doc: RestoreDoc, ctx: TupleContext): UfwTuple[] {
  const tuples: UfwTuple[] = [];
  const ruleByLine = new Map<number, IptRule>();
  for (const table of doc.tables.values()) for (const rules of table.rules.values()) for (const r of rules) ruleByLine.set(r.line, r);
  let offset = 0;
  let lineNo = 0;
  let currentTuple: UfwTuple | undefined;
  /** The tuple whose block (the lines under it up to a blank line) this line is in, and each block's -A lines. */
  let block: UfwTuple | undefined;
  const blockLines = new Map<UfwTuple, Word[]>();
  for (const raw of text.split('\n')) {
    const lineStart = offset;
    offset += raw.length + 1;
    lineNo++;
    const line = raw.replace(/\r$/, '');
    const m = /^### tuple ###\s*/.exec(line);
    if (m) {
      currentTuple = parseTuple(line.slice(m[0].length), lineStart + m[0].length, { start: lineStart, end: lineStart + line.length }, lineNo, ctx);
      if (currentTuple) tuples.push(currentTuple);
      block = currentTuple;
      continue;
    }
    // ufw writes a tuple's -A lines right under it and a blank line before the next tuple.
    if (/^### END RULES ###/.test(line) || line.trim() === '') currentTuple = block = undefined;
    if (block && line.startsWith('-A '))
      blockLines.set(block, [...(blockLines.get(block) ?? []), { text: line, span: { start: lineStart, end: lineStart + line.length } }]);
    const rule = ruleByLine.get(lineNo);
    if (rule && currentTuple && enforces(currentTuple, rule)) currentTuple.rules.push(rule);
    else if (rule) currentTuple = undefined;
  }
  for (const t of tuples) for (const e of t.portErrors ?? []) tupleWideFixes(e, blockLines.get(t) ?? [], ctx);
  return tuples;
}

/**
 * A fix of a port value in a tuple ("Swap to LOW:HIGH" for a reversed range, "Use NAME" for an unknown
 * service) made one fix for the whole rule: the value in the tuple and in each -A line of its block
 * that carries the same port field (`--dports`/`--dport` for DPORT, `--sports`/`--sport` for SPORT)
 * written as ufw writes it from the tuple, the same text. The tuple's finding and those -A lines'
 * findings (iptables-restore refuses the same value there) all offer this one fix in place of their own.
 */
function tupleWideFixes(e: NonNullable<UfwTuple['portErrors']>[number], lines: Word[], ctx: TupleContext): void {
  const at = e.error.span.start - e.word.span.start;
  const width = e.error.span.end - e.error.span.start;
  const option = e.field === 'dport' ? /^--dports?$/ : /^--sports?$/;
  const spans: Span[] = [];
  for (const line of lines) {
    const ws = words(line.text, line.span.start);
    ws.forEach((w, i) => {
      const value = ws[i + 1];
      if (option.test(w.text) && value?.text === e.word.text) spans.push({ start: value.span.start + at, end: value.span.start + at + width });
    });
  }
  if (spans.length === 0) return;
  const own = (e.finding.fixes ?? []).map((fix): Fix => {
    const only = fix.edits.length === 1 && fix.edits[0].span.start === e.error.span.start && fix.edits[0].span.end === e.error.span.end;
    return only ? { ...fix, edits: [...fix.edits, ...spans.map((span) => ({ file: ctx.file, span, newText: fix.edits[0].newText }))] } : fix;
  });
  if (e.finding.fixes) e.finding.fixes = own;
  const wide = own.filter((f) => f.edits.length > 1);
  for (const f of ctx.findings)
    if (f !== e.finding && f.fixes && spans.some((s) => s.start === f.span.start && s.end === f.span.end))
      f.fixes = [...f.fixes.filter((x) => !wide.some((w) => w.title === x.title)), ...wide];
}

/** Facts: the tuples' ports, and every port of the -A lines (described by their tuple when they have one). */
function factsOfRulesFile(
  doc: RestoreDoc,
  tuples: UfwTuple[],
  o: { file: string; family: IpFamily; kind: UfwRulesExtra['kind'] },
): { facts: PortFact[]; factTuple: (number | undefined)[] } {
  const { file, family, kind } = o;
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
  return { facts, factTuple };
}

/**
 * One `### tuple ###` line as ufw's backend reads it: ACTION PROTO DPORT DST SPORT SRC [DAPP SAPP] [DIR],
 * then ` comment=HEX`. A malformed tuple is reported (ufw skips it) and undefined, or kept as invalid.
 */
function parseTuple(body: string, bodyStart: number, lineSpan: Span, line: number, ctx: TupleContext): UfwTuple | undefined {
  // "comment=HEX" always comes last.
  const commentAt = body.indexOf(' comment=');
  const fields = words(commentAt >= 0 ? body.slice(0, commentAt) : body, bodyStart);
  const skipped = (message: string) =>
    `${message} ufw skips this tuple ("Skipping malformed tuple"), so \`ufw status\` will not show the rule and the next ufw command drops its -A lines.`;
  const skip = (span: Span, code: 'syntax' | 'invalid-port', message: string, severity: Finding['severity'] = 'error') => {
    ctx.findings.push(finding(ctx.file, span, code, skipped(message), severity));
  };
  if (fields.length < 6 || fields.length > 9) {
    skip(lineSpan, 'syntax', `A tuple has 6 to 9 fields (ACTION PROTO DPORT DST SPORT SRC [DAPP SAPP] DIR); this one has ${fields.length}.`);
    return undefined;
  }
  const dir = tupleDirection(fields);
  if ('bad' in dir) {
    skip(dir.bad.span, 'syntax', `Bad direction "${dir.bad.text}": write in, out, in_IFACE or out_IFACE.`);
    return undefined;
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
    direction: dir.direction,
    ifaceIn: dir.ifaceIn,
    ifaceOut: dir.ifaceOut,
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
    const r = parseUfwPorts(w.text, w.span, ctx.resolve);
    if (r.error) {
      const found = portFinding(ctx.file, r.error, skipped(r.error.message), ctx.resolve);
      ctx.findings.push(found);
      (t.portErrors ??= []).push({ field: key, word: w, error: r.error, finding: found });
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

/** A tuple's direction field (7 or 9 fields: in, out, in_IFACE, out_IFACE, in_A!out_B); 'in' when there is none. */
function tupleDirection(fields: Word[]): { direction: 'in' | 'out'; ifaceIn?: string; ifaceOut?: string } | { bad: Word } {
  if (fields.length !== 7 && fields.length !== 9) return { direction: 'in' };
  const last = fields[fields.length - 1].text;
  const direction = last.split('_')[0] === 'out' ? 'out' : 'in';
  if (!last.includes('_')) return { direction };
  if (last.includes('!') && /in_\w+/.test(last) && /out_\w+/.test(last)) {
    return { direction, ifaceIn: last.split('!')[0].split('_').slice(1).join('_'), ifaceOut: last.split('!')[1].split('_').slice(1).join('_') };
  }
  if (last.startsWith('in_')) return { direction, ifaceIn: last.slice(3) };
  if (last.startsWith('out_')) return { direction, ifaceOut: last.slice(4) };
  return { bad: fields[fields.length - 1] };
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
function inputRules(filter: IptTable, tuples: UfwTuple[], chain: string, family: IpFamily, onCap: (why: string) => void): FirewallRule[] {
  const chainRules = filter.rules.get(chain);
  if (!chainRules) return [];
  const owner = new Map<IptRule, UfwTuple>();
  for (const t of tuples) for (const r of t.rules) owner.set(r, t);
  const done = new Set<UfwTuple>();
  const out: FirewallRule[] = [];
  const loose: IptRule[] = [];
  const flushLoose = () => {
    if (loose.length > 0) pushAll(out, flattenRules(filter, loose.splice(0), family, [chain], '', onCap));
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

/**
 * An applications.d file: the INI text read as configparser reads it (IniReader; a file it refuses
 * has no profiles), then each section checked as ufw/applications.py checks a profile
 * (PROFILE_CHECKS; a profile that fails one is skipped) and its ports made facts.
 */
export function parseUfwProfiles(text: string, file: string, resolve: ServiceResolver): FileParse {
  const findings: Finding[] = [];
  const facts: PortFact[] = [];
  const ini = new IniReader(file);
  ini.read(text);
  const profiles: UfwProfile[] = [];
  if (ini.fatal || ini.parseErrors.length > 0) {
    pushAll(findings, ini.fatal ? [ini.fatal] : ini.parseErrors);
    return { format: 'ufw-app', file, facts, findings, includes: [], extra: { profiles } satisfies UfwAppExtra };
  }
  for (const section of ini.sections) {
    const name = section.name;
    const options = new Map([...ini.defaults, ...section.options]);
    const problem = checkProfile(section, options, resolve);
    if (problem) {
      findings.push(finding(file, problem.span, problem.code, `${problem.message} ufw skips profile "${name}".`, 'warning'));
      continue;
    }
    const parsed = parseProfilePorts(options.get('ports')!, resolve);
    if ('error' in parsed) {
      findings.push(portFinding(file, parsed.error, `Invalid ports in profile "${name}": ${parsed.error.message} ufw skips profile "${name}".`, resolve));
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
}

/**
 * What Python's configparser (RawConfigParser, strict) knows while it reads an INI file line by line:
 * the sections so far, the DEFAULT section, the option a deeper-indented line continues. A duplicate
 * section or key, or text before the first header, stops it (fatal); a line it cannot read is a
 * parse error it reports after reading on. Either way configparser refuses the whole file.
 */
class IniReader {
  readonly sections: IniSection[] = [];
  readonly defaults = new Map<string, IniOption>();
  fatal: Finding | undefined;
  readonly parseErrors: Finding[] = [];
  /** The section lines now belong to. */
  private current: IniSection | 'DEFAULT' | undefined;
  /** The option a deeper-indented line continues (a blank line ends it). */
  private lastOption: IniOption | undefined;
  private lastIndent = 0;

  constructor(private readonly file: string) {}

  read(text: string): void {
    let offset = 0;
    for (const raw of text.split('\n')) {
      const lineStart = offset;
      offset += raw.length + 1;
      if (this.fatal) break;
      this.readLine(raw.replace(/\r$/, ''), lineStart);
    }
  }

  private refuse(span: Span, message: string): Finding {
    return finding(this.file, span, 'syntax', `${message}: configparser refuses the file, so ufw skips every profile in it.`, 'warning');
  }

  private readLine(line: string, lineStart: number): void {
    const stripped = line.trim();
    const indent = line.length - line.trimStart().length;
    if (stripped === '' || stripped.startsWith('#') || stripped.startsWith(';')) {
      if (stripped === '') this.lastOption = undefined;
      return;
    }
    const lineSpan = { start: lineStart + indent, end: lineStart + line.length };
    if (this.lastOption && this.current && indent > this.lastIndent) {
      this.lastOption.value += `\n${stripped}`;
      return;
    }
    const header = /^\[(.+)\]/.exec(stripped);
    if (header) return this.readHeader(header[1], lineSpan, lineStart + indent);
    if (!this.current) {
      this.fatal = this.refuse(lineSpan, 'Text before the first [section] header');
      return;
    }
    this.readOption(stripped, lineStart + indent, lineSpan, indent, this.current);
  }

  private readHeader(name: string, lineSpan: Span, at: number): void {
    if (name === 'DEFAULT') this.current = 'DEFAULT';
    else {
      if (this.sections.some((s) => s.name === name)) {
        this.fatal = this.refuse(lineSpan, `Section [${name}] appears twice in this file`);
        return;
      }
      this.current = { name, span: { start: at + 1, end: at + 1 + name.length }, options: new Map() };
      this.sections.push(this.current);
    }
    this.lastOption = undefined;
  }

  private readOption(stripped: string, at: number, lineSpan: Span, indent: number, section: IniSection | 'DEFAULT'): void {
    const opt = /^(.*?)\s*([=:])\s*(.*)$/.exec(stripped);
    if (!opt || opt[1] === '') {
      this.parseErrors.push(this.refuse(lineSpan, 'Neither a [section] header nor a key=value line'));
      this.lastOption = undefined;
      return;
    }
    const key = opt[1].toLowerCase();
    const valueOffset = stripped.length - opt[3].length;
    const option: IniOption = {
      key,
      value: opt[3],
      keySpan: { start: at, end: at + opt[1].length },
      valueSpan: { start: at + valueOffset, end: at + stripped.length },
    };
    const target = section === 'DEFAULT' ? this.defaults : section.options;
    if (target.has(key)) {
      this.fatal = this.refuse(option.keySpan, `Key "${key}" appears twice in this section`);
      return;
    }
    target.set(key, option);
    this.lastOption = option;
    this.lastIndent = indent;
  }
}

/** Why ufw skips a profile (a warning: the rest of the file still loads). */
interface ProfileProblem {
  span: Span;
  code: 'syntax';
  message: string;
}

type ProfileCheck = (section: IniSection, options: Map<string, IniOption>, resolve: ServiceResolver) => ProfileProblem | undefined;

/** ufw/applications.py's checks of one profile before its ports, in its order; the first that fails skips the profile. */
const PROFILE_CHECKS: ProfileCheck[] = [
  (section) => (section.name.length > 64 ? { span: section.span, code: 'syntax', message: 'Profile names are at most 64 characters.' } : undefined),
  ({ name, span }) =>
    name === 'all' || /^\s*[-+]?\d+\s*$/.test(name) || !/^[a-zA-Z0-9][a-zA-Z0-9 _\-.+]*$/.test(name)
      ? {
          span,
          code: 'syntax',
          message: `Invalid profile name "${name}": it must start with a letter or digit, use only letters, digits, space and _-.+, and not be a number or "all".`,
        }
      : undefined,
  ({ name, span }, _options, resolve) =>
    /^[a-z0-9][a-z0-9._+-]*$/.test(name) && resolve(name) !== undefined
      ? { span, code: 'syntax', message: `Profile name "${name}" is also a service name in /etc/services.` }
      : undefined,
  (_section, options) => {
    const tooLong = [...options.values()].find((o) => o.key.length > 64 || o.value.length > 1024);
    if (!tooLong) return undefined;
    const message = tooLong.key.length > 64 ? 'A key is longer than 64 characters.' : `The value of "${tooLong.key}" is longer than 1024 characters.`;
    return { span: tooLong.keySpan, code: 'syntax', message };
  },
  (section, options) => {
    const missing = ['title', 'description', 'ports'].find((f) => !options.get(f) || options.get(f)!.value === '');
    if (!missing) return undefined;
    return {
      span: options.get(missing)?.keySpan ?? section.span,
      code: 'syntax',
      message: `Profile "${section.name}" ${options.get(missing) ? 'has an empty' : 'lacks the required'} field "${missing}".`,
    };
  },
];

function checkProfile(section: IniSection, options: Map<string, IniOption>, resolve: ServiceResolver): ProfileProblem | undefined {
  for (const check of PROFILE_CHECKS) {
    const problem = check(section, options, resolve);
    if (problem) return problem;
  }
  return undefined;
}

/** ports=80,443/tcp|53/udp|60000:61000/udp (ufw/util.py parse_port_proto + UFWRule). */
function parseProfilePorts(o: IniOption, resolve: ServiceResolver): { ports: UfwProfilePorts[] } | { error: UfwPortError } {
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
    writer: ufwWriter,
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
