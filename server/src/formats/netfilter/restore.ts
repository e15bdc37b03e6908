/**
 * The netfilter reader shared by iptables and ufw: iptables-restore text (rules.v4, rules.v6,
 * iptables-save output, ufw's user.rules) read into tables, chains and their policies, every rule read
 * the way iptables-restore 1.8 reads it
 * (add_param_to_argv's quoting, getopt's option abbreviations, extensions loaded by -m, -p and -j).
 * Checked against `iptables-{legacy,nft}-restore --test` and `iptables-save` in test/oracle/iptables.test.ts.
 *
 * The shared reader (parseRestore) also serves ufw's user.rules, which ufw loads with iptables-restore.
 */
import * as ipaddr from 'ipaddr.js';
import { pushAll } from '../../core/arrays';
import { intern } from '../../core/strings';
import { drain, ITEMS_PER_STEP } from '../../core/steps';
import { MAX_PORT, rangeText } from '../../core/portRanges';
import { findJumpLoops, findTooDeep, NFT_JUMP_DEPTH } from '../../core/jumpLoops';
import { looksLikeServiceName, UNKNOWN_SERVICE_MESSAGES, unknownService, type ServiceLookup } from '../../core/serviceNames';
import { swapRangeFix, withSwap } from '../../core/reversedRange';
import type { Finding, Fix, FirewallAction, FirewallForward, FirewallRule, IpFamily, PortFact, PortRange, Protocol, Span } from '../../core/types';

export interface Token {
  text: string;
  span: Span;
  /** The source text equals `text` (no quotes or escapes), so offsets inside the word map 1:1 onto the file. */
  plain: boolean;
}

/** getservbyname for the rule's protocol (with the names it knows, for the "Use NAME" fixes). */
export type ServiceResolver = ServiceLookup;

/**
 * Splits a rule line like iptables-restore's add_param_to_argv: only space and tab separate words,
 * a double quote opens a quoted part (a backslash inside escapes the next character) and a closing
 * quote ends the word. Single quotes and '#' are ordinary characters.
 */
export function tokenizeRestoreLine(line: string, offset: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i];
    if (ch === ' ' || ch === '\t') {
      i++;
      continue;
    }
    const start = i;
    let text = '';
    let inQuote = false;
    let plain = true;
    while (i < line.length) {
      const c = line[i];
      if (inQuote) {
        if (c === '\\' && i + 1 < line.length) {
          text += line[i + 1];
          i += 2;
          continue;
        }
        if (c === '"') {
          i++;
          break;
        }
        text += c;
        i++;
        continue;
      }
      if (c === '"') {
        // The plain part so far, then the quoted part character by character.
        if (plain) text = line.slice(start, i);
        inQuote = true;
        plain = false;
        i++;
        continue;
      }
      if (c === ' ' || c === '\t') break;
      i++;
      // A word with no quote is a slice of the line, not built a character at a time.
      if (plain) continue;
      text += c;
    }
    tokens.push({ text: intern(plain ? line.slice(start, i) : text), span: { start: offset + start, end: offset + i }, plain });
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// What iptables 1.8.9 (Debian 12) knows: tables, extensions, protocols.

export const BUILTIN_CHAINS: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** Match extensions shipped in /usr/lib/x86_64-linux-gnu/xtables (libxt_*, libipt_*, libip6t_*). */
const MATCHES_COMMON =
  'addrtype ah bpf cgroup cluster comment connbytes connlabel connlimit connmark conntrack cpu dccp devgroup dscp ecn esp hashlimit helper ipcomp iprange ipvs length limit mac mark multiport nfacct osf owner physdev pkttype policy quota rateest recent rpfilter sctp set socket state statistic string tcp tcpmss time tos u32 udp';
const MATCHES_V4 = new Set(`${MATCHES_COMMON} icmp realm ttl`.split(' '));
const MATCHES_V6 = new Set(`${MATCHES_COMMON} dst eui64 frag hbh hl icmp6 ipv6header mh rt srh`.split(' '));
const TARGETS_COMMON =
  'ACCEPT DROP RETURN QUEUE AUDIT CHECKSUM CLASSIFY CONNMARK CONNSECMARK CT DNAT DSCP HMARK IDLETIMER LED LOG MARK MASQUERADE NETMAP NFLOG NFQUEUE NOTRACK RATEEST REDIRECT REJECT SECMARK SET SNAT SYNPROXY TCPMSS TCPOPTSTRIP TEE TOS TPROXY TRACE';
const TARGETS_V4 = new Set(`${TARGETS_COMMON} CLUSTERIP ECN TTL ULOG`.split(' '));
const TARGETS_V6 = new Set(`${TARGETS_COMMON} DNPT HL SNPT`.split(' '));

/** Protocol names of netbase's /etc/protocols (what getprotobyname knows) plus iptables' own. */
const PROTOCOL_NUMBERS: Record<string, number> = {
  ip: 0,
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ggp: 3,
  ipencap: 4,
  st: 5,
  tcp: 6,
  egp: 8,
  igp: 9,
  pup: 12,
  udp: 17,
  hmp: 20,
  'xns-idp': 22,
  rdp: 27,
  'iso-tp4': 29,
  dccp: 33,
  xtp: 36,
  ddp: 37,
  'idpr-cmtp': 38,
  ipv6: 41,
  'ipv6-route': 43,
  'ipv6-frag': 44,
  idrp: 45,
  rsvp: 46,
  gre: 47,
  esp: 50,
  ah: 51,
  skip: 57,
  'ipv6-icmp': 58,
  icmpv6: 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  rspf: 73,
  vmtp: 81,
  eigrp: 88,
  ospf: 89,
  'ax.25': 93,
  ipip: 94,
  etherip: 97,
  encap: 98,
  pim: 103,
  ipcomp: 108,
  vrrp: 112,
  l2tp: 115,
  isis: 124,
  sctp: 132,
  fc: 133,
  'mobility-header': 135,
  'ipv6-mh': 135,
  mh: 135,
  udplite: 136,
  'mpls-in-ip': 137,
  manet: 138,
  hip: 139,
  shim6: 140,
  wesp: 141,
  rohc: 142,
  ethernet: 143,
  mptcp: 262,
  all: 0,
};
const PROTOCOL_NAMES_BY_NUMBER: Record<number, string> = {
  1: 'icmp',
  6: 'tcp',
  17: 'udp',
  33: 'dccp',
  50: 'esp',
  51: 'ah',
  58: 'ipv6-icmp',
  132: 'sctp',
  136: 'udplite',
};
/** The match extension iptables loads by itself for `-p NAME` when it meets an option it does not know. */
const PROTO_MATCH: Record<string, string> = {
  tcp: 'tcp',
  udp: 'udp',
  sctp: 'sctp',
  dccp: 'dccp',
  icmp: 'icmp',
  'ipv6-icmp': 'icmp6',
  icmpv6: 'icmp6',
  esp: 'esp',
  ah: 'ah',
  mh: 'mh',
  'ipv6-mh': 'mh',
};
const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'udplite', 'sctp', 'dccp']);

interface OptSpec {
  names: string[];
  /** How many arguments follow the option. */
  args: number;
  /** Meaning shared by the aliases: 'dport', 'sport', 'dports', 'sports', 'ports', ... */
  key: string;
}

const opt = (key: string, args: number, ...names: string[]): OptSpec => ({ key, args, names });

/** Options of the extensions whose options we know; others accept whatever follows them. */
const EXTENSION_OPTIONS: Record<string, OptSpec[]> = {
  tcp: [
    opt('sport', 1, '--sport', '--source-port'),
    opt('dport', 1, '--dport', '--destination-port'),
    opt('syn', 0, '--syn'),
    opt('tcp-flags', 2, '--tcp-flags'),
    opt('tcp-option', 1, '--tcp-option'),
  ],
  udp: [opt('sport', 1, '--sport', '--source-port'), opt('dport', 1, '--dport', '--destination-port')],
  sctp: [opt('sport', 1, '--sport', '--source-port'), opt('dport', 1, '--dport', '--destination-port'), opt('chunk-types', 2, '--chunk-types')],
  dccp: [
    opt('sport', 1, '--sport', '--source-port'),
    opt('dport', 1, '--dport', '--destination-port'),
    opt('dccp-types', 1, '--dccp-types'),
    opt('dccp-option', 1, '--dccp-option'),
  ],
  multiport: [opt('sports', 1, '--sports', '--source-ports'), opt('dports', 1, '--dports', '--destination-ports'), opt('ports', 1, '--ports')],
  conntrack: [
    opt('ctstate', 1, '--ctstate'),
    opt('ctproto', 1, '--ctproto'),
    opt('x', 1, '--ctorigsrc'),
    opt('x', 1, '--ctorigdst'),
    opt('x', 1, '--ctreplsrc'),
    opt('x', 1, '--ctrepldst'),
    opt('x', 1, '--ctorigsrcport'),
    opt('x', 1, '--ctorigdstport'),
    opt('x', 1, '--ctreplsrcport'),
    opt('x', 1, '--ctrepldstport'),
    opt('x', 1, '--ctstatus'),
    opt('x', 1, '--ctexpire'),
    opt('x', 1, '--ctdir'),
  ],
  state: [opt('state', 1, '--state')],
  comment: [opt('comment', 1, '--comment')],
  limit: [opt('limit', 1, '--limit'), opt('limit-burst', 1, '--limit-burst')],
  recent: [
    opt('x', 0, '--set'),
    opt('x', 0, '--rcheck'),
    opt('x', 0, '--update'),
    opt('x', 0, '--remove'),
    opt('x', 1, '--seconds'),
    opt('x', 0, '--reap'),
    opt('x', 1, '--hitcount'),
    opt('x', 0, '--rttl'),
    opt('x', 1, '--name'),
    opt('x', 0, '--rsource'),
    opt('x', 0, '--rdest'),
    opt('x', 1, '--mask'),
  ],
  icmp: [opt('icmp-type', 1, '--icmp-type')],
  icmp6: [opt('icmpv6-type', 1, '--icmpv6-type')],
  mac: [opt('mac', 1, '--mac-source')],
  pkttype: [opt('x', 1, '--pkt-type')],
  ttl: [opt('x', 1, '--ttl-eq'), opt('x', 1, '--ttl-gt'), opt('x', 1, '--ttl-lt')],
  iprange: [opt('x', 1, '--src-range'), opt('x', 1, '--dst-range')],
  addrtype: [opt('x', 1, '--src-type'), opt('x', 1, '--dst-type'), opt('x', 0, '--limit-iface-in'), opt('x', 0, '--limit-iface-out')],
  ACCEPT: [],
  DROP: [],
  RETURN: [],
  QUEUE: [],
  REJECT: [opt('reject-with', 1, '--reject-with')],
  LOG: [
    opt('x', 1, '--log-level'),
    opt('x', 1, '--log-prefix'),
    opt('x', 0, '--log-tcp-sequence'),
    opt('x', 0, '--log-tcp-options'),
    opt('x', 0, '--log-ip-options'),
    opt('x', 0, '--log-uid'),
    opt('x', 0, '--log-macdecode'),
  ],
  DNAT: [opt('to-destination', 1, '--to-destination'), opt('x', 0, '--random'), opt('x', 0, '--persistent'), opt('x', 0, '--random-fully')],
  REDIRECT: [opt('to-ports', 1, '--to-ports'), opt('x', 0, '--random')],
  MASQUERADE: [opt('to-ports', 1, '--to-ports'), opt('x', 0, '--random'), opt('x', 0, '--random-fully')],
  SNAT: [opt('to-source', 1, '--to-source'), opt('x', 0, '--random'), opt('x', 0, '--random-fully'), opt('x', 0, '--persistent')],
};

const CORE_OPTIONS: OptSpec[] = [
  opt('A', 1, '-A', '--append'),
  opt('I', 1, '-I', '--insert'),
  opt('N', 1, '-N', '--new-chain'),
  opt('P', 2, '-P', '--policy'),
  opt('D', 1, '-D', '--delete'),
  opt('R', 1, '-R', '--replace'),
  opt('F', 0, '-F', '--flush'),
  opt('X', 0, '-X', '--delete-chain'),
  opt('Z', 0, '-Z', '--zero'),
  opt('E', 2, '-E', '--rename-chain'),
  opt('p', 1, '-p', '--protocol'),
  opt('s', 1, '-s', '--source', '--src'),
  opt('d', 1, '-d', '--destination', '--dst'),
  opt('i', 1, '-i', '--in-interface'),
  opt('o', 1, '-o', '--out-interface'),
  opt('f', 0, '-f', '--fragment'),
  opt('m', 1, '-m', '--match'),
  opt('j', 1, '-j', '--jump'),
  opt('g', 1, '-g', '--goto'),
  opt('c', 2, '-c', '--set-counters'),
  opt('4', 0, '-4', '--ipv4'),
  opt('6', 0, '-6', '--ipv6'),
  opt('v', 0, '-v', '--verbose'),
];

// ---------------------------------------------------------------------------------------------
// The parsed file.

/** One port or range as written inside a port argument. */
export interface PortElem {
  from: number;
  to: number;
  span: Span;
  text: string;
}

export interface PortMatch {
  elems: PortElem[];
  negated: boolean;
  /** 'ports' (multiport --ports) matches the source or the destination port. */
  kind: 'dport' | 'sport' | 'ports';
  option: Token;
}

export interface Cond {
  text: string;
  negated: boolean;
  span: Span;
}

export interface IptRule {
  table: string;
  chain: string;
  /** The whole line. */
  span: Span;
  line: number;
  protocol?: Cond;
  source?: Cond;
  destination?: Cond;
  inIface?: Cond;
  outIface?: Cond;
  ports: PortMatch[];
  /** conntrack --ctstate / state --state values, upper case. */
  states?: { values: string[]; negated: boolean };
  /** Matches that narrow the rule in ways FirewallRule cannot say (recent, limit, mac, string, ...). */
  otherMatches: string[];
  target?: { name: string; span: Span; goto: boolean };
  /** Target options by key ('to-destination', 'to-ports', 'reject-with'). */
  targetArgs: Record<string, Token>;
  comment?: string;
  /** The line has a finding that makes iptables-restore refuse the file. */
  invalid: boolean;
}

export interface IptChain {
  name: string;
  table: string;
  builtin: boolean;
  policy?: string;
  policySpan?: Span;
  span: Span;
}

export interface IptTable {
  name: string;
  chains: Map<string, IptChain>;
  /** Rules per chain, in chain order (after -I insertions). */
  rules: Map<string, IptRule[]>;
}

export interface RestoreDoc {
  family: IpFamily;
  /** Tables in file order; a table written twice is merged as iptables-restore does (the later block replaces the earlier). */
  tables: Map<string, IptTable>;
  findings: Finding[];
}

export interface RestoreOptions {
  family: IpFamily;
  resolveService: ServiceResolver;
  /** Name of the restore tool in messages. */
  tool?: string;
  /** User chains of the filter table that exist before the file is restored (ufw-init creates ufw's own with `-n`, no flush). */
  existingChains?: readonly string[];
}

function err(file: string, span: Span, code: 'syntax' | 'invalid-port', message: string, severity: Finding['severity'] = 'error'): Finding {
  return { file, span, severity, code, message };
}

/** strtoul(s, NULL, 0) over the whole word, as xtables_strtoui reads numbers: hex 0x.., octal 0.., decimal. */
export function parseCNumber(s: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (/^0[0-7]*$/.test(s)) return parseInt(s, 8);
  if (/^[1-9][0-9]*$/.test(s)) return parseInt(s, 10);
  return undefined;
}

/**
 * xtables_parse_port (tcp, sctp, multiport): a number 0-65535 (C syntax: 0x.. hex, 0.. octal) or a
 * service name that /etc/services lists for the rule's protocol. Names are case-sensitive there.
 */
function parsePortValue(text: string, proto: string | undefined, resolve: ServiceResolver): number | undefined {
  const n = parseCNumber(text);
  if (n !== undefined) return n <= MAX_PORT ? n : undefined;
  if (!isServiceName(text)) return undefined;
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') return undefined;
  return resolve(text, proto);
}

function isServiceName(text: string): boolean {
  return /^[a-z0-9][a-z0-9._+-]*$/.test(text) && !/^\d+$/.test(text);
}

/**
 * The udp and dccp matches of iptables 1.8.9 read ports with the xtables option parser instead:
 * decimal only, any value taken modulo 65536 (70000 becomes 4464), names looked up for any protocol.
 */
function parseWrappingPort(text: string, resolve: ServiceResolver): { port: number; wrapped: boolean } | undefined {
  if (/^\d+$/.test(text)) {
    const big = BigInt(text);
    return { port: Number(big % 65536n), wrapped: big > 65535n };
  }
  if (!isServiceName(text)) return undefined;
  const port = resolve(text);
  return port === undefined ? undefined : { port, wrapped: false };
}

function subSpan(tok: Token, from: number, to: number): Span {
  if (!tok.plain) return tok.span;
  return { start: tok.span.start + from, end: tok.span.start + to };
}

export function familyOf(file: string, text: string): IpFamily {
  const base = file.slice(file.lastIndexOf('/') + 1);
  if (/v6$|6\.rules$|ip6tables/i.test(base)) return 'ipv6';
  if (/v4$|iptables/i.test(base)) return 'ipv4';
  if (/ip6tables-save|ufw6-|ipv6-icmp|--icmpv6-type|\s-[sd]\s+!?\s*[0-9a-fA-F]*:[0-9a-fA-F:]*[/\s]/.test(text)) return 'ipv6';
  return 'ipv4';
}

/** Reads an iptables-restore file. Never throws; every line iptables-restore refuses gets a finding. */
export function parseRestore(text: string, file: string, options: RestoreOptions): RestoreDoc {
  return drain(parseRestoreSteps(text, file, options));
}

/** `parseRestore` in steps of a few thousand lines (core/steps.ts). */
export function* parseRestoreSteps(text: string, file: string, options: RestoreOptions): Generator<void, RestoreDoc, void> {
  const reader = new RestoreReader(file, options);
  yield* reader.readText(text);
  return { family: options.family, tables: reader.tables, findings: reader.findings };
}

/**
 * What iptables-restore knows while it reads one file line by line: the tables read so far and the
 * one still open (between its *NAME line and COMMIT). Rule lines go to a RuleLineReader each.
 */
class RestoreReader {
  readonly findings: Finding[] = [];
  readonly tables = new Map<string, IptTable>();
  /** The restore tool named in messages. */
  readonly tool: string;
  readonly knownMatches: Set<string>;
  readonly knownTargets: Set<string>;
  /** The table whose *NAME line was read and whose COMMIT was not yet. */
  private current: IptTable | undefined;
  /** Where the open table is named (a missing COMMIT is reported there). */
  private tableSpan: Span | undefined;
  /** The open table is unknown: iptables-restore fails on it, so its lines are not judged. */
  private skipTable = false;

  constructor(
    readonly file: string,
    readonly options: RestoreOptions,
  ) {
    this.tool = options.tool ?? (options.family === 'ipv6' ? 'ip6tables-restore' : 'iptables-restore');
    this.knownMatches = options.family === 'ipv6' ? MATCHES_V6 : MATCHES_V4;
    this.knownTargets = options.family === 'ipv6' ? TARGETS_V6 : TARGETS_V4;
  }

  private report(span: Span, message: string): void {
    this.findings.push(err(this.file, span, 'syntax', message));
  }

  *readText(text: string): Generator<void, void, void> {
    const firstCr = text.indexOf('\r\n');
    if (firstCr >= 0) {
      this.report(
        { start: firstCr, end: firstCr + 1 },
        `Windows (CRLF) line endings: ${this.tool} reads the CR as part of each line and refuses the file (the first table name becomes "filter\\r"). Save the file with LF endings.`,
      );
    }
    const lines = text.split('\n');
    let offset = 0;
    for (let li = 0; li < lines.length; li++) {
      if (li % ITEMS_PER_STEP === ITEMS_PER_STEP - 1) yield;
      const lineStart = offset;
      offset += lines[li].length + 1;
      // CRLF is reported once above; the rest of the file is still read.
      const raw = lines[li].endsWith('\r') ? lines[li].slice(0, -1) : lines[li];
      // A UTF-8 byte-order mark: the engine reports it (core/encoding.ts); the rest of the line is read.
      const bom = li === 0 && raw.charCodeAt(0) === 0xfeff ? 1 : 0;
      this.readLine(raw.slice(bom), lineStart + bom, li + 1, li === lines.length - 1);
    }
    if (this.current) {
      this.report(this.tableSpan ?? { start: 0, end: 0 }, `Table ${this.current.name} has no COMMIT: ${this.tool} loads nothing from this file.`);
    }
  }

  private readLine(raw: string, lineStart: number, lineNo: number, lastLine: boolean): void {
    if (raw === '' || raw[0] === '#') return;
    const lineSpan = { start: lineStart, end: lineStart + raw.length };
    if (raw.startsWith('COMMIT') && raw.trimEnd() === 'COMMIT') return this.readCommit(raw, lineSpan, lastLine);
    if (raw[0] === '*') return this.readTableLine(raw, lineStart, lineSpan);
    if (this.current && this.skipTable) return;
    if (raw[0] === ':' && this.current) return this.readChainLine(raw, lineStart, this.current);
    if (!this.current) {
      this.report(lineSpan, `${raw[0] === ':' ? 'Chain' : 'Rule'} outside a table: ${this.tool} expects a *filter (or *nat, ...) line first.`);
      return;
    }
    this.readRuleLine(raw, lineStart, lineNo, this.current);
  }

  private readCommit(raw: string, lineSpan: Span, lastLine: boolean): void {
    if (raw !== 'COMMIT') {
      this.report(
        lineSpan,
        `Text after COMMIT: ${this.tool} accepts only "COMMIT" alone on its line${raw.includes('\r') ? ' (this line ends in a Windows CR)' : ''}.`,
      );
    } else if (lastLine) {
      this.report(
        lineSpan,
        `COMMIT without a newline at the end of the file: iptables-legacy-restore reads it as a bad argument; end the file with a newline.`,
      );
    }
    if (!this.current) this.report(lineSpan, `COMMIT outside a table: ${this.tool} fails here.`);
    else if (!this.skipTable) pushAll(this.findings, jumpLoopFindings(this.current, this.file, this.tool));
    this.current = undefined;
    this.skipTable = false;
  }

  private readTableLine(raw: string, lineStart: number, lineSpan: Span): void {
    const name = raw.slice(1).split(/[ \t]/)[0];
    const nameSpan = { start: lineStart + 1, end: lineStart + 1 + name.length };
    if (this.current) this.report(lineSpan, `Table ${this.current.name} is not closed with COMMIT before *${name}.`);
    const table: IptTable = { name, chains: new Map(), rules: new Map() };
    this.current = table;
    this.tableSpan = nameSpan;
    if (!BUILTIN_CHAINS[name]) {
      this.report(nameSpan, `Unknown table "${name}": tables are filter, nat, mangle, raw and security.`);
      this.skipTable = true;
      return;
    }
    // A second block for the same table replaces the first (iptables-restore flushes the table again).
    for (const c of BUILTIN_CHAINS[name]) {
      table.chains.set(c, { name: c, table: name, builtin: true, span: nameSpan });
      table.rules.set(c, []);
    }
    this.tables.set(name, table);
    this.skipTable = false;
  }

  private readChainLine(raw: string, lineStart: number, table: IptTable): void {
    const toks = tokenizeRestoreLine(raw.slice(1), lineStart + 1);
    const nameTok = toks[0];
    const policyTok = toks[1];
    if (!nameTok || !policyTok) {
      this.report(
        { start: lineStart, end: lineStart + raw.length },
        `Chain line without a policy: write ":NAME POLICY [0:0]" (POLICY is ACCEPT or DROP for built-in chains, - for your own).`,
      );
      return;
    }
    const name = nameTok.text;
    const policy = policyTok.text;
    if (BUILTIN_CHAINS[table.name]?.includes(name) ?? false) {
      const chain = table.chains.get(name)!;
      if (policy !== '-') {
        if (policy === 'ACCEPT' || policy === 'DROP') {
          chain.policy = policy;
          chain.policySpan = policyTok.span;
        } else {
          this.report(policyTok.span, `Bad policy "${policy}" for built-in chain ${name}: use ACCEPT or DROP.`);
        }
      }
      chain.span = nameTok.span;
      return;
    }
    if (policy !== '-') {
      this.report(policyTok.span, `User chain ${name} cannot have a policy (iptables-legacy-restore: Bad built-in chain name); write "-".`);
    }
    if (table.chains.has(name)) {
      this.report(nameTok.span, `Chain ${name} is declared twice in this table (iptables-legacy-restore: chain exists).`);
      return;
    }
    if (name.length > 28 || name === '' || name.startsWith('-') || name.startsWith('!')) {
      this.report(nameTok.span, `Invalid chain name "${name}".`);
    }
    table.chains.set(name, { name, table: table.name, builtin: false, span: nameTok.span });
    table.rules.set(name, []);
  }

  private readRuleLine(raw: string, lineStart: number, lineNo: number, table: IptTable): void {
    const lineSpan = { start: lineStart, end: lineStart + raw.length };
    let body = raw;
    let bodyStart = lineStart;
    // Optional packet/byte counters before the command: "[12:3456] -A INPUT ...".
    const counters = /^\[\d+:\d+\][ \t]*/.exec(raw);
    if (counters) {
      body = raw.slice(counters[0].length);
      bodyStart += counters[0].length;
    }
    const toks = tokenizeRestoreLine(body, bodyStart);
    if (toks.length === 0) {
      this.report(lineSpan, `A line with only blanks: ${this.tool} fails with "no command specified"; make it empty or a # comment.`);
      return;
    }
    new RuleLineReader(this, table, toks, lineSpan, lineNo).read();
  }
}

/** An extension a rule line loaded (-m NAME, -j TARGET, or the protocol's match that -p loads by itself). */
interface LoadedExtension {
  name: string;
  /** iptables ships it (an unknown one is refused, but its options are still skipped). */
  known: boolean;
  /** Its option keys given so far (most may appear once per match). */
  seen: Set<string>;
  /** Loaded by -p, not written. */
  implicit: boolean;
}

type FoundOption = { spec: OptSpec; ext?: LoadedExtension };

/**
 * Splits an option word into its name and an argument written inside it: `--dport=22` and `-ptcp`
 * (getopt's forms).
 */
function splitOptionWord(tok: Token): { optName: string; inlineArg?: Token } {
  const word = tok.text;
  if (word.startsWith('--') && word.includes('=')) {
    const eq = word.indexOf('=');
    return { optName: word.slice(0, eq), inlineArg: { text: word.slice(eq + 1), span: subSpan(tok, eq + 1, word.length), plain: tok.plain } };
  }
  if (!word.startsWith('--') && word.length > 2) {
    return { optName: word.slice(0, 2), inlineArg: { text: word.slice(2), span: subSpan(tok, 2, word.length), plain: tok.plain } };
  }
  return { optName: word };
}

/** The commands of a rule line (one per line); the others take the line as a whole and add no rule. */
type CommandHandler = (line: RuleLineReader, chainTok: Token, args: Token[]) => void;
const COMMAND_HANDLERS: Record<string, CommandHandler | undefined> = {
  A: appendOrInsert,
  I: appendOrInsert,
  N: (line, chainTok) => {
    const table = line.table;
    if (table.chains.has(chainTok.text)) line.bad(chainTok.span, 'syntax', `Chain ${chainTok.text} already exists.`);
    else {
      table.chains.set(chainTok.text, { name: chainTok.text, table: table.name, builtin: false, span: chainTok.span });
      table.rules.set(chainTok.text, []);
    }
  },
  P: (line, chainTok, args) => {
    const chain = line.table.chains.get(chainTok.text);
    const pol = args[1];
    if (!chain?.builtin) line.bad(chainTok.span, 'syntax', `-P needs a built-in chain of table ${line.table.name}.`);
    else if (pol.text !== 'ACCEPT' && pol.text !== 'DROP') line.bad(pol.span, 'syntax', `Bad policy "${pol.text}": use ACCEPT or DROP.`);
    else {
      chain.policy = pol.text;
      chain.policySpan = pol.span;
    }
  },
  D: undefined,
  R: undefined,
  F: undefined,
  X: undefined,
  Z: undefined,
  E: undefined,
};

/** -A CHAIN and -I CHAIN [N]: the rule goes into CHAIN, which must exist in this table already. */
function appendOrInsert(line: RuleLineReader, chainTok: Token): void {
  const table = line.table;
  line.rule.chain = chainTok.text;
  if (!table.chains.has(chainTok.text)) {
    const other = Object.entries(BUILTIN_CHAINS).find(([t, cs]) => t !== table.name && cs.includes(chainTok.text));
    line.bad(
      chainTok.span,
      'syntax',
      other
        ? `Chain ${chainTok.text} does not exist in table ${table.name} (it is a ${other[0]} chain).`
        : `Chain ${chainTok.text} is not declared in table ${table.name}: add ":${chainTok.text} - [0:0]" before its rules.`,
    );
  }
  const next = line.toks[line.pos];
  if (line.command === 'I' && next && /^\d+$/.test(next.text)) {
    line.insertAt = Number(next.text);
    line.pos++;
  }
}

/** The core options that take a value, by key; each may appear once (-g counts as -j). */
type CoreOptionHandler = (line: RuleLineReader, arg: Token, negated: boolean, key: string) => void;
const CORE_OPTION_HANDLERS: Record<string, CoreOptionHandler> = {
  p: (line, a, negated) => {
    const name = protoName(a.text);
    if (name === undefined) line.bad(a.span, 'syntax', `Unknown protocol "${a.text}".`);
    line.rule.protocol = { text: name ?? a.text.toLowerCase(), negated, span: a.span };
  },
  s: readAddressOption,
  d: readAddressOption,
  i: readInterfaceOption,
  o: readInterfaceOption,
  m: (line, a) => {
    const name = a.text;
    if (!line.doc.knownMatches.has(name)) {
      line.bad(a.span, 'syntax', `Couldn't load match "${name}": no such iptables extension.`);
      line.loaded.unshift({ name, known: false, seen: new Set(), implicit: false });
      return;
    }
    line.explicitMatches.push({ name, tok: a });
    line.loaded.unshift({ name, known: true, seen: new Set(), implicit: false });
    if (!MODELLED_MATCHES.has(name)) line.rule.otherMatches.push(name);
  },
  j: readTargetOption,
  g: readTargetOption,
};

/** Matches whose meaning IptRule holds (ports, states, comment); the others narrow the rule in ways it cannot say. */
const MODELLED_MATCHES = new Set(['tcp', 'udp', 'sctp', 'dccp', 'multiport', 'conntrack', 'state', 'comment', 'icmp', 'icmp6']);

/** -s / -d ADDRESS[,ADDRESS...]. */
function readAddressOption(line: RuleLineReader, a: Token, negated: boolean, key: string): void {
  const problem = checkAddresses(a.text, line.doc.options.family);
  if (problem) line.bad(a.span, 'syntax', problem);
  const cond = { text: a.text, negated, span: a.span };
  if (key === 's') line.rule.source = cond;
  else line.rule.destination = cond;
}

/** -i / -o INTERFACE. */
function readInterfaceOption(line: RuleLineReader, a: Token, negated: boolean, key: string): void {
  if (a.text.length > 15) line.bad(a.span, 'syntax', `Interface name "${a.text}" must be shorter than IFNAMSIZ (15).`);
  const cond = { text: a.text, negated, span: a.span };
  if (key === 'i') line.rule.inIface = cond;
  else line.rule.outIface = cond;
}

/** -j TARGET / -g CHAIN: a user chain, or a target extension whose options may follow. */
function readTargetOption(line: RuleLineReader, a: Token, _negated: boolean, key: string): void {
  const { table, doc } = line;
  const name = a.text;
  const userChain = (table.chains.has(name) && !table.chains.get(name)!.builtin) || (table.name === 'filter' && !!doc.options.existingChains?.includes(name));
  line.rule.target = { name, span: a.span, goto: key === 'g' };
  if (key === 'g' && !userChain) {
    line.bad(a.span, 'syntax', `-g needs a user chain declared before this line; "${name}" is not one.`);
    return;
  }
  // A user chain takes no options of its own.
  if (userChain) return;
  if (table.chains.has(name)) {
    line.bad(a.span, 'syntax', `Cannot jump to built-in chain ${name}.`);
    return;
  }
  if (!doc.knownTargets.has(name)) {
    line.bad(
      a.span,
      'syntax',
      `"${name}" is neither a chain declared before this line nor an iptables target (iptables-legacy-restore: Couldn't load target).`,
    );
    line.loaded.unshift({ name, known: false, seen: new Set(), implicit: false });
    return;
  }
  line.loaded.unshift({ name, known: true, seen: new Set(), implicit: false });
}

/** The extension options whose values IptRule keeps, by key; other keys are only counted (once each). */
type ExtensionOptionHandler = (line: RuleLineReader, ext: LoadedExtension, key: string, tok: Token, arg: Token, negated: boolean) => void;
const EXTENSION_OPTION_HANDLERS: Record<string, ExtensionOptionHandler> = {
  dports: readMultiportOption,
  sports: readMultiportOption,
  ports: readMultiportOption,
  dport: readPortOption,
  sport: readPortOption,
  ctstate: readStateOption,
  state: readStateOption,
  comment: (line, _ext, _key, _tok, a) => {
    line.rule.comment = a.text;
  },
  'to-destination': (line, _ext, key, _tok, a) => {
    line.rule.targetArgs[key] = a;
    line.checkToDestination(a);
  },
  'to-source': (line, _ext, key, _tok, a) => {
    line.rule.targetArgs[key] = a;
    line.checkToDestination(a);
  },
  'to-ports': (line, _ext, key, _tok, a) => {
    line.rule.targetArgs[key] = a;
    line.checkToPorts(a);
  },
  'reject-with': (line, _ext, key, _tok, a) => {
    line.rule.targetArgs[key] = a;
  },
};

/** multiport --dports / --sports / --ports LIST (one of the three per match). */
function readMultiportOption(line: RuleLineReader, ext: LoadedExtension, key: string, tok: Token, a: Token, negated: boolean): void {
  if (
    (key === 'dports' && (ext.seen.has('sports') || ext.seen.has('ports'))) ||
    (key === 'sports' && (ext.seen.has('dports') || ext.seen.has('ports'))) ||
    (key === 'ports' && (ext.seen.has('dports') || ext.seen.has('sports')))
  ) {
    line.bad(tok.span, 'syntax', 'multiport: --sports, --dports and --ports cannot be combined in one match; use a second -m multiport.');
  }
  const elems = line.parseMultiport(a);
  if (elems) line.rule.ports.push({ elems, negated, kind: key === 'dports' ? 'dport' : key === 'sports' ? 'sport' : 'ports', option: tok });
}

/** tcp/udp/sctp/dccp --dport / --sport PORT[:PORT]. */
function readPortOption(line: RuleLineReader, ext: LoadedExtension, key: string, tok: Token, a: Token, negated: boolean): void {
  const elem = ext.name === 'udp' || ext.name === 'dccp' ? line.parseWrappingRange(a) : line.parseRange(a);
  if (elem) line.rule.ports.push({ elems: [elem], negated, kind: key as 'dport' | 'sport', option: tok });
}

/** conntrack --ctstate / state --state LIST. */
function readStateOption(line: RuleLineReader, _ext: LoadedExtension, key: string, _tok: Token, a: Token, negated: boolean): void {
  const allowed =
    key === 'ctstate' ? ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED', 'SNAT', 'DNAT'] : ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED'];
  const values = a.text.split(',');
  const badValue = values.find((v) => !allowed.includes(v.toUpperCase()));
  if (badValue !== undefined) line.bad(a.span, 'syntax', `Bad ${key} "${badValue}": use ${allowed.join(', ')}.`);
  line.rule.states = { values: values.map((v) => v.toUpperCase()), negated };
}

/** Core options "!" may stand before. */
const NEGATABLE_CORE = new Set(['p', 's', 'd', 'i', 'o', 'f']);
/** Core options given at most once per line. */
const ONCE_PER_LINE_CORE = new Set(['p', 's', 'd', 'i', 'o', 'j', 'g', 'f']);
/** Targets that can rewrite a port. */
const PORT_TARGETS = ['DNAT', 'REDIRECT', 'MASQUERADE', 'SNAT'];

/**
 * One rule line as iptables-restore reads it: getopt over the words, options found among the core
 * options and the extensions loaded so far (newest first), each option's value read by its handler
 * (COMMAND_HANDLERS, CORE_OPTION_HANDLERS, EXTENSION_OPTION_HANDLERS), then the checks iptables
 * makes once the whole line is read. The rule joins its chain unless the line has an error.
 */
class RuleLineReader {
  /** Findings of this line; an error among them makes the rule invalid. */
  readonly findings: Finding[] = [];
  readonly rule: IptRule;
  /** Index of the next word to read. */
  pos = 0;
  command: string | undefined;
  commandTok: Token | undefined;
  /** -I CHAIN N: the 1-based position. */
  insertAt: number | undefined;
  /** A "!" waiting for the option it negates. */
  negate: Token | undefined;
  /** Extensions loaded so far, newest first (getopt finds the newest one's option first). */
  readonly loaded: LoadedExtension[] = [];
  /** The match -p loads by itself was loaded (once per line). */
  private protoMatchLoaded = false;
  /** Core options given once already (-g counts as -j). */
  private readonly seenCore = new Set<string>();
  /** The -m matches as written, for the checks at the end of the line. */
  readonly explicitMatches: { name: string; tok: Token }[] = [];
  /** iptables stops judging at the first stray word: only that one is reported. */
  private strayReported = false;

  constructor(
    readonly doc: RestoreReader,
    readonly table: IptTable,
    readonly toks: Token[],
    private readonly lineSpan: Span,
    lineNo: number,
  ) {
    this.rule = { table: table.name, chain: '', span: lineSpan, line: lineNo, ports: [], otherMatches: [], targetArgs: {}, invalid: false };
  }

  bad(span: Span, code: 'syntax' | 'invalid-port', message: string, fix?: Fix): void {
    this.findings.push(withSwap(err(this.doc.file, span, code, message), fix));
  }

  /** "Swap to" a reversed range written as the token's text from `from` to `to`. */
  private swap(tok: Token, from: number, to: number, separator: ':' | '-'): Fix | undefined {
    return tok.plain ? swapRangeFix(this.doc.file, subSpan(tok, from, to), tok.text.slice(from, to), separator) : undefined;
  }

  /** A port value iptables does not resolve: unknown-service for a name, invalid-port for the rest. */
  private badPort(span: Span, text: string, message = invalidPortMessage(text), protocol = this.protoForPorts()): void {
    if (!looksLikeServiceName(text)) return this.bad(span, 'invalid-port', message);
    const resolve = this.doc.options.resolveService;
    const p = protocol === 'tcp' || protocol === 'udp' || protocol === 'sctp' ? protocol : undefined;
    this.findings.push(
      unknownService(this.doc.file, span, text, message, {
        messageId: UNKNOWN_SERVICE_MESSAGES.portName,
        program: this.doc.tool,
        protocol: p,
        known: resolve.known?.(p),
        rewritable: span.end - span.start === text.length,
      }),
    );
  }

  private warn(span: Span, message: string, fix?: Fix): void {
    this.findings.push(withSwap(err(this.doc.file, span, 'invalid-port', message, 'warning'), fix));
  }

  read(): void {
    while (this.pos < this.toks.length) if (!this.readWord()) break;
    if (this.negate) this.bad(this.negate.span, 'syntax', '"!" must stand before an option.');
    if (!this.command) this.bad(this.lineSpan, 'syntax', `No command: a rule line starts with -A CHAIN (or -I, -N, -P).`);
    this.checkWholeLine();
    this.rule.invalid = this.findings.some((f) => f.severity === 'error');
    pushAll(this.doc.findings, this.findings);
    if ((this.command === 'A' || this.command === 'I') && this.table.chains.has(this.rule.chain)) {
      const list = this.table.rules.get(this.rule.chain)!;
      if (this.command === 'I') list.splice(Math.min(Math.max((this.insertAt ?? 1) - 1, 0), list.length), 0, this.rule);
      else list.push(this.rule);
    }
  }

  /** Reads the word at pos and what belongs to it; false when the line ends in the middle of an option. */
  private readWord(): boolean {
    const tok = this.toks[this.pos];
    if (tok.text === '!') {
      if (this.negate) this.bad(tok.span, 'syntax', 'Multiple "!" flags are not allowed.');
      this.negate = tok;
      this.pos++;
      return true;
    }
    if (!tok.text.startsWith('-') || tok.text === '-') {
      // iptables stops at the first stray word; the words after it are not judged again.
      if (!this.strayReported)
        this.bad(
          tok.span,
          'syntax',
          `Bad argument "${tok.text}": ${this.doc.tool} expects an option here${tok.text.startsWith('#') ? ' (comments must start their own line)' : ''}.`,
        );
      this.strayReported = true;
      this.pos++;
      return true;
    }
    const { optName, inlineArg } = splitOptionWord(tok);
    let found = this.findOption(optName);
    if (found === undefined && this.loadProtoMatch()) found = this.findOption(optName);
    if (found === 'ambiguous') {
      this.bad(tok.span, 'syntax', `Option "${optName}" is ambiguous: write it out in full.`);
      this.pos++;
      this.negate = undefined;
      return true;
    }
    if (!found) {
      this.readUnknownOption(tok, optName);
      return true;
    }
    const args = this.takeArgs(found.spec, tok, optName, inlineArg);
    if (!args) return false;
    const negated = !!this.negate;
    this.negate = undefined;
    if (!found.ext) this.readCoreOption(found.spec, tok, args, negated);
    else this.readExtensionOption(found.ext, found.spec, tok, args, negated);
    return true;
  }

  private findOption(name: string): FoundOption | 'ambiguous' | undefined {
    const pools: { specs: OptSpec[]; ext?: LoadedExtension }[] = [
      { specs: CORE_OPTIONS },
      ...this.loaded.map((ext) => ({ specs: EXTENSION_OPTIONS[ext.name] ?? [], ext })),
    ];
    for (const pool of pools) {
      for (const spec of pool.specs) if (spec.names.includes(name)) return { spec, ext: pool.ext };
    }
    if (!name.startsWith('--') || name.length < 3) return undefined;
    // getopt_long takes an unambiguous prefix of a long option.
    const hits: FoundOption[] = [];
    for (const pool of pools) {
      for (const spec of pool.specs) if (spec.names.some((n) => n.startsWith('--') && n.startsWith(name))) hits.push({ spec, ext: pool.ext });
    }
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) return hits.every((h) => h.spec === hits[0].spec) ? hits[0] : 'ambiguous';
    return undefined;
  }

  private loadProtoMatch(): boolean {
    // iptables loads the protocol's match even for "! -p tcp" (the rule then matches nothing).
    if (this.protoMatchLoaded || !this.rule.protocol) return false;
    const name = protoName(this.rule.protocol.text);
    const ext = name ? PROTO_MATCH[name] : undefined;
    if (!ext || !this.doc.knownMatches.has(ext)) return false;
    this.protoMatchLoaded = true;
    this.loaded.unshift({ name: ext, known: true, seen: new Set(), implicit: true });
    return true;
  }

  /** An option neither the core nor a loaded extension has: refused, unless an extension we do not model may own it. */
  private readUnknownOption(tok: Token, optName: string): void {
    // Behind an extension whose options we do not model, anything may be its option.
    if (!this.loaded.some((e) => !e.known || !EXTENSION_OPTIONS[e.name])) {
      const rule = this.rule;
      const isPort = /^--(d|s)port|^--(destination|source)-port|^--(d|s)?ports$/.test(optName);
      if (isPort) {
        const why = !rule.protocol
          ? 'give the protocol first (-p tcp or -p udp)'
          : rule.protocol.negated
            ? 'a negated protocol (! -p) loads no port match'
            : `protocol "${rule.protocol.text}" has no ports`;
        this.bad(tok.span, 'invalid-port', `Unknown option "${optName}": ${why}, or ${this.doc.tool} refuses the line.`);
      } else {
        this.bad(tok.span, 'syntax', `Unknown option "${optName}" (${this.doc.tool} refuses the line).`);
      }
    }
    // Its arguments, whatever they are, are not judged again.
    this.pos++;
    while (this.pos < this.toks.length && !this.toks[this.pos].text.startsWith('-') && this.toks[this.pos].text !== '!') this.pos++;
    this.negate = undefined;
  }

  /** The option's arguments (an inline one first); undefined, reported, when the line ends before them. */
  private takeArgs(spec: OptSpec, tok: Token, optName: string, inlineArg: Token | undefined): Token[] | undefined {
    const args: Token[] = [];
    if (spec.args === 0) {
      this.pos++;
      return args;
    }
    if (inlineArg) args.push(inlineArg);
    let j = this.pos + 1;
    while (args.length < spec.args && j < this.toks.length) args.push(this.toks[j++]);
    if (args.length < spec.args) {
      const portOption = spec.key === 'dport' || spec.key === 'sport' || spec.key === 'dports';
      this.bad(tok.span, portOption ? 'invalid-port' : 'syntax', `Option "${optName}" requires an argument.`);
      return undefined;
    }
    this.pos = j;
    return args;
  }

  private readCoreOption(spec: OptSpec, tok: Token, args: Token[], negated: boolean): void {
    const k = spec.key;
    if (negated && !NEGATABLE_CORE.has(k)) this.bad(tok.span, 'syntax', `"!" cannot stand before ${tok.text}.`);
    if (k in COMMAND_HANDLERS) {
      if (this.command) {
        this.bad(tok.span, 'syntax', `Only one command per line (${this.commandTok!.text} already given).`);
        return;
      }
      this.command = k;
      this.commandTok = tok;
      COMMAND_HANDLERS[k]?.(this, args[0], args);
      return;
    }
    if (ONCE_PER_LINE_CORE.has(k)) {
      const once = k === 'g' ? 'j' : k;
      if (this.seenCore.has(once)) {
        this.bad(tok.span, 'syntax', `Multiple ${tok.text} flags are not allowed.`);
        return;
      }
      this.seenCore.add(once);
    }
    CORE_OPTION_HANDLERS[k]?.(this, args[0], negated, k);
  }

  private readExtensionOption(ext: LoadedExtension, spec: OptSpec, tok: Token, args: Token[], negated: boolean): void {
    const key = spec.key;
    if (key !== 'x' && ext.seen.has(key)) {
      this.bad(
        tok.span,
        key.endsWith('port') || key.endsWith('ports') ? 'invalid-port' : 'syntax',
        `Only one ${spec.names[spec.names.length > 1 ? 1 : 0]} allowed in one ${ext.name} match.`,
      );
      return;
    }
    ext.seen.add(key);
    EXTENSION_OPTION_HANDLERS[key]?.(this, ext, key, tok, args[0], negated);
  }

  /** The checks iptables makes once the whole line is read. */
  private checkWholeLine(): void {
    const rule = this.rule;
    const protoText = this.protoForPorts();
    for (const m of this.explicitMatches) {
      if (m.name === 'multiport' && !(protoText && PORT_PROTOCOLS.has(protoText))) {
        this.bad(
          m.tok.span,
          rule.ports.some((p) => p.option) ? 'invalid-port' : 'syntax',
          rule.protocol && !rule.protocol.negated
            ? `multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP, not "${rule.protocol.text}".`
            : 'multiport needs -p tcp, -p udp, -p udplite, -p sctp or -p dccp.',
        );
      }
      if ((m.name === 'tcp' || m.name === 'udp' || m.name === 'sctp' || m.name === 'dccp') && protoText !== m.name) {
        this.bad(m.tok.span, 'syntax', `-m ${m.name} needs -p ${m.name} (iptables-nft-restore: ${m.name.toUpperCase()} match requires '-p ${m.name}').`);
      }
    }
    if (rule.target && PORT_TARGETS.includes(rule.target.name)) {
      const portArg = rule.targetArgs['to-ports'] ?? rule.targetArgs['to-destination'] ?? rule.targetArgs['to-source'];
      const hasPort = portArg !== undefined && (portArg === rule.targetArgs['to-ports'] || splitNatTarget(portArg.text)?.portText !== undefined);
      if (hasPort && !(protoText && ['tcp', 'udp', 'sctp', 'dccp'].includes(protoText))) {
        this.bad(portArg!.span, 'invalid-port', `${rule.target.name} with a port needs -p tcp, udp, sctp or dccp.`);
      }
    }
    if ((this.command === 'A' || this.command === 'I') && this.table.chains.get(rule.chain)?.builtin) {
      if (rule.outIface && (rule.chain === 'INPUT' || rule.chain === 'PREROUTING'))
        this.bad(rule.outIface.span, 'syntax', `Can't use -o with ${rule.chain} (packets there have no output interface yet).`);
      if (rule.inIface && (rule.chain === 'OUTPUT' || rule.chain === 'POSTROUTING'))
        this.bad(rule.inIface.span, 'syntax', `Can't use -i with ${rule.chain} (locally generated packets have no input interface).`);
    }
  }

  /** The protocol port values are resolved for (none when -p is negated or missing). */
  private protoForPorts(): string | undefined {
    return this.rule.protocol && !this.rule.protocol.negated ? protoName(this.rule.protocol.text) : undefined;
  }

  /** udp/dccp --dport: like tcp's, but numbers wrap at 65536 and a reversed range is kept (it matches nothing). */
  parseWrappingRange(a: Token): PortElem | undefined {
    const text = a.text;
    const colon = text.indexOf(':');
    const sides = colon < 0 ? [text] : [text.slice(0, colon), text.slice(colon + 1)];
    const values: number[] = [];
    let ok = true;
    sides.forEach((side, k) => {
      const sideSpan = colon < 0 ? a.span : k === 0 ? subSpan(a, 0, colon) : subSpan(a, colon + 1, text.length);
      if (side === '' && colon >= 0) {
        values.push(k === 0 ? 0 : MAX_PORT);
        return;
      }
      const v = parseWrappingPort(side, this.doc.options.resolveService);
      if (!v) {
        this.badPort(
          sideSpan,
          side,
          /^-?\d+$/.test(side)
            ? `Port "${side}" is not a port number (iptables: Port "${side}" does not resolve to anything).`
            : `Unknown port or service "${side}" (iptables: Port "${side}" does not resolve to anything; names come from /etc/services).`,
        );
        ok = false;
        return;
      }
      if (v.wrapped)
        this.warn(sideSpan, `Port ${side} is out of range (0-65535): iptables accepts it for this protocol but uses ${side} mod 65536 = ${v.port}.`);
      values.push(v.port);
    });
    if (!ok) return undefined;
    const [from, to] = values.length === 1 ? [values[0], values[0]] : values;
    if (from > to)
      this.warn(
        a.span,
        `Port range ${text} runs backwards: iptables accepts it for this protocol, but the rule then matches no port.`,
        this.swap(a, 0, text.length, ':'),
      );
    return { from, to, span: a.span, text };
  }

  /** tcp/udp --dport: PORT, PORT:PORT, :PORT or PORT: (open ends are 0 and 65535). */
  parseRange(a: Token): PortElem | undefined {
    const resolveService = this.doc.options.resolveService;
    const text = a.text;
    const colon = text.indexOf(':');
    const proto = this.protoForPorts();
    if (colon < 0) {
      const port = parsePortValue(text, proto, resolveService);
      if (port === undefined) {
        this.badPort(a.span, text);
        return undefined;
      }
      return { from: port, to: port, span: a.span, text };
    }
    const left = text.slice(0, colon);
    const right = text.slice(colon + 1);
    const from = left === '' ? 0 : parsePortValue(left, proto, resolveService);
    const to = right === '' ? MAX_PORT : parsePortValue(right, proto, resolveService);
    if (from === undefined) this.badPort(subSpan(a, 0, colon), left);
    if (to === undefined) this.badPort(subSpan(a, colon + 1, text.length), right);
    if (from === undefined || to === undefined) return undefined;
    if (from > to) {
      this.bad(
        a.span,
        'invalid-port',
        `Invalid port range ${text}: the first port is above the last (iptables: invalid portrange (min > max)).`,
        this.swap(a, 0, text.length, ':'),
      );
      return undefined;
    }
    return { from, to, span: a.span, text };
  }

  /** multiport: up to 15 entries, a range counting two; ranges need first < last. */
  parseMultiport(a: Token): PortElem[] | undefined {
    const resolveService = this.doc.options.resolveService;
    const elems: PortElem[] = [];
    let count = 0;
    let ok = true;
    let at = 0;
    const proto = this.protoForPorts();
    for (const part of a.text.split(',')) {
      const partSpan = subSpan(a, at, at + part.length);
      const colon = part.indexOf(':');
      if (colon < 0) {
        count += 1;
        const port = parsePortValue(part, proto, resolveService);
        if (port === undefined) {
          this.badPort(partSpan, part);
          ok = false;
        } else elems.push({ from: port, to: port, span: partSpan, text: part });
      } else {
        count += 2;
        const left = part.slice(0, colon);
        const right = part.slice(colon + 1);
        const from = parsePortValue(left, proto, resolveService);
        const to = parsePortValue(right, proto, resolveService);
        if (from === undefined) this.badPort(subSpan(a, at, at + colon), left);
        if (to === undefined) this.badPort(subSpan(a, at + colon + 1, at + part.length), right);
        if (from === undefined || to === undefined) ok = false;
        else if (from >= to) {
          this.bad(
            partSpan,
            'invalid-port',
            `Invalid port range ${part} in multiport: the first port must be below the last.`,
            from > to ? this.swap(a, at, at + part.length, ':') : undefined,
          );
          ok = false;
        } else elems.push({ from, to, span: partSpan, text: part });
      }
      at += part.length + 1;
    }
    if (count > 15) {
      this.bad(a.span, 'invalid-port', `Too many ports (${count} entries, a range counting two): multiport takes at most 15.`);
      ok = false;
    }
    return ok ? elems : undefined;
  }

  /** REDIRECT/MASQUERADE --to-ports PORT[-PORT]. */
  checkToPorts(a: Token): void {
    const resolveService = this.doc.options.resolveService;
    const m = /^([^-]*)(?:-(.*))?$/.exec(a.text)!;
    const from = parsePortValue(m[1], this.protoForPorts(), resolveService);
    const to = m[2] === undefined ? from : parsePortValue(m[2], this.protoForPorts(), resolveService);
    if (from === undefined || to === undefined) this.bad(a.span, 'invalid-port', `Bad port in --to-ports "${a.text}": ports are 0-65535.`);
    else if (from > to)
      this.bad(a.span, 'invalid-port', `Port range ${a.text} runs backwards (iptables: Port range funky).`, this.swap(a, 0, a.text.length, '-'));
  }

  /** DNAT/SNAT --to-destination ADDR[-ADDR][:PORT[-PORT]]. */
  checkToDestination(a: Token): void {
    const parsed = splitNatTarget(a.text);
    if (!parsed) {
      this.bad(a.span, 'syntax', `Bad address in "${a.text}".`);
      return;
    }
    if (parsed.portText === undefined) return;
    const m = /^([^-]*)(?:-(.*))?$/.exec(parsed.portText)!;
    const from = parseCNumber(m[1]);
    const to = m[2] === undefined ? from : parseCNumber(m[2]);
    const portSpan = subSpan(a, parsed.portOffset!, a.text.length);
    if (from === undefined || to === undefined || from > MAX_PORT || to > MAX_PORT)
      this.bad(portSpan, 'invalid-port', `Port "${parsed.portText}" is not valid: ports are 0-65535.`);
    else if (from > to)
      this.bad(
        portSpan,
        'invalid-port',
        `Port range ${parsed.portText} runs backwards (iptables: Port range funky).`,
        this.swap(a, parsed.portOffset!, a.text.length, '-'),
      );
  }
}

function invalidPortMessage(text: string): string {
  if (text === '') return 'Missing port number (iptables: invalid port/service).';
  const n = /^-?\d+$/.test(text) ? Number(text) : undefined;
  if (n !== undefined && (n < 0 || n > MAX_PORT)) return `Port ${text} is out of range: ports are 0-65535 (iptables: invalid port/service "${text}").`;
  if (/^\d+$/.test(text)) return `"${text}" is not a port number: iptables reads a leading 0 as octal (invalid port/service).`;
  return `Unknown port or service "${text}": iptables resolves names through /etc/services (invalid port/service).`;
}

/** The protocol name iptables stores for -p (lower case, numbers mapped to names); undefined when unknown. */
export function protoName(text: string): string | undefined {
  const lower = text.toLowerCase();
  if (lower in PROTOCOL_NUMBERS) return lower === 'icmpv6' ? 'ipv6-icmp' : lower === 'ipv6-mh' ? 'mh' : lower;
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n > 255) return undefined;
    return PROTOCOL_NAMES_BY_NUMBER[n] ?? String(n);
  }
  return undefined;
}

/** Address lists of -s/-d: literal addresses must be valid for the file's family; host names resolve at load time. */
function checkAddresses(text: string, family: IpFamily): string | undefined {
  for (const item of text.split(',')) {
    const [addr, mask, ...rest] = item.split('/');
    if (rest.length > 0 || addr === '') return `Bad address "${item}".`;
    const looksV4 = /^[\d.]+$/.test(addr);
    const looksV6 = addr.includes(':');
    if (looksV4) {
      if (family === 'ipv6') return `"${addr}" is an IPv4 address in an IPv6 (ip6tables) file.`;
      if (!ipaddr.IPv4.isValidFourPartDecimal(addr)) return `"${addr}" is not a valid IPv4 address (iptables: host/network not found).`;
    } else if (looksV6) {
      if (family === 'ipv4') return `"${addr}" is an IPv6 address in an IPv4 file: put it in rules.v6 (ip6tables).`;
      if (!ipaddr.IPv6.isValid(addr)) return `"${addr}" is not a valid IPv6 address.`;
    }
    if (mask !== undefined) {
      const max = family === 'ipv6' ? 128 : 32;
      if (/^\d+$/.test(mask)) {
        if (Number(mask) > max) return `Invalid mask /${mask}: at most /${max}.`;
      } else if (!(family === 'ipv4' && ipaddr.IPv4.isValidFourPartDecimal(mask))) return `Invalid mask "${mask}".`;
    }
  }
  return undefined;
}

/** Splits a DNAT target "10.0.0.2:443", "[2001:db8::1]:443", ":80", "10.0.0.1-10.0.0.5:99-100". */
export function splitNatTarget(text: string): { address?: string; portText?: string; portOffset?: number } | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    const rest = text.slice(close + 1);
    if (rest === '') return { address: text.slice(1, close) };
    if (!rest.startsWith(':')) return undefined;
    return { address: text.slice(1, close), portText: rest.slice(1), portOffset: close + 2 };
  }
  const colons = text.split(':').length - 1;
  if (colons > 1) return { address: text };
  const colon = text.indexOf(':');
  if (colon < 0) return { address: text };
  return { address: text.slice(0, colon) || undefined, portText: text.slice(colon + 1), portOffset: colon + 1 };
}

// ---------------------------------------------------------------------------------------------
// From rules to what they mean.

export function actionOf(target: string | undefined, table: IptTable | undefined): FirewallAction {
  if (!target) return 'other';
  switch (target) {
    case 'ACCEPT':
      return 'accept';
    case 'DROP':
      return 'drop';
    case 'REJECT':
      return 'reject';
    case 'RETURN':
      return 'return';
    case 'LOG':
    case 'NFLOG':
    case 'ULOG':
      return 'log';
    default:
      return table?.chains.get(target) && !table.chains.get(target)!.builtin ? 'jump' : 'other';
  }
}

function portProtocols(rule: IptRule): (Protocol | 'any')[] {
  if (!rule.protocol) return ['any'];
  const name = protoName(rule.protocol.text) ?? rule.protocol.text;
  // "! -p tcp --dport 22": the tcp match never matches a packet that is not TCP.
  if (rule.protocol.negated && rule.ports.length > 0) return [];
  if (rule.protocol.negated) return (['tcp', 'udp', 'sctp'] as Protocol[]).filter((p) => p !== name);
  if (name === 'tcp' || name === 'udp' || name === 'sctp') return [name];
  if (name === 'all' || name === 'ip' || name === '0') return ['any'];
  return [];
}

/** The complement of port ranges within 0-65535 (for `! --dport`). */
function complement(ranges: PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  const out: PortRange[] = [];
  let next = 0;
  for (const r of sorted) {
    if (r.from > next) out.push({ from: next, to: r.from - 1 });
    next = Math.max(next, r.to + 1);
  }
  if (next <= MAX_PORT) out.push({ from: next, to: MAX_PORT });
  return out;
}

function intersect(a: PortRange[] | undefined, b: PortRange[] | undefined): PortRange[] | undefined {
  if (!a) return b;
  if (!b) return a;
  const out: PortRange[] = [];
  for (const x of a) for (const y of b) if (x.from <= y.to && y.from <= x.to) out.push({ from: Math.max(x.from, y.from), to: Math.min(x.to, y.to) });
  return out;
}

function condText(c: Cond | undefined): string | undefined {
  return c ? `${c.negated ? '!' : ''}${c.text}` : undefined;
}

/** Conditions of one rule as FirewallRule fields; undefined protocol list entries mean the rule matches no port-carrying protocol. */
interface RuleShape {
  protocols: (Protocol | 'any')[];
  ports?: PortRange[];
  source?: string;
  iface?: string;
  notes: string[];
  sourcePorts?: PortRange[];
  destination?: string;
  matchesNew?: boolean;
  loopbackOnly?: boolean;
  unmodelled: string[];
}

/** Conntrack states that only packets of an existing (or refused) connection have: a SYN to a listening port is NEW. */
const NOT_NEW_STATES = new Set(['ESTABLISHED', 'RELATED', 'INVALID']);

export function shapeOf(rule: IptRule): RuleShape {
  const notes: string[] = [];
  const unmodelled: string[] = [];
  let ports: PortRange[] | undefined;
  let sourcePorts: PortRange[] | undefined;
  for (const pm of rule.ports) {
    // A reversed udp range (accepted by iptables) matches no port.
    const ranges = pm.elems.filter((e) => e.from <= e.to).map((e) => ({ from: e.from, to: e.to }));
    if (pm.kind === 'sport') {
      notes.push(`source port ${pm.negated ? 'not ' : ''}${pm.elems.map((e) => e.text).join(',')}`);
      sourcePorts = intersect(sourcePorts, pm.negated ? complement(ranges) : ranges);
      continue;
    }
    if (pm.kind === 'ports') {
      notes.push('port matches source or destination');
      unmodelled.push('port matches source or destination');
    }
    ports = intersect(ports, pm.negated ? complement(ranges) : ranges);
  }
  let destination: string | undefined;
  if (rule.destination) {
    notes.push(`to ${condText(rule.destination)}`);
    if (rule.destination.negated) unmodelled.push(`destination not ${rule.destination.text}`);
    else destination = rule.destination.text;
  }
  // source and iface keep the written "!" (as before); a consumer cannot evaluate that, so say it.
  if (rule.source?.negated) unmodelled.push(`source not ${rule.source.text}`);
  if (rule.inIface?.negated) unmodelled.push(`interface not ${rule.inIface.text}`);
  const loopbackOnly = !!rule.inIface && !rule.inIface.negated && /^lo\+?$/.test(rule.inIface.text);
  if (loopbackOnly) notes.push('loopback');
  let matchesNew: boolean | undefined;
  if (rule.states) {
    const v = rule.states.values;
    if (rule.states.negated) notes.push(`state not ${v.join(',')}`);
    else if (!v.includes('NEW')) notes.push(v.every((s) => s === 'ESTABLISHED' || s === 'RELATED') ? 'established/related only' : `state ${v.join(',')} only`);
    if (rule.states.negated ? v.includes('NEW') : v.every((s) => NOT_NEW_STATES.has(s))) matchesNew = false;
    else if (rule.states.negated || !v.includes('NEW')) unmodelled.push(`state ${rule.states.negated ? 'not ' : ''}${v.join(',')}`);
  }
  if (rule.otherMatches.length > 0) notes.push(`also matches ${rule.otherMatches.map((m) => `-m ${m}`).join(' ')}`);
  unmodelled.push(...rule.otherMatches.map((m) => `-m ${m}`));
  const shape: RuleShape = { protocols: portProtocols(rule), ports, source: condText(rule.source), iface: condText(rule.inIface), notes, unmodelled };
  if (sourcePorts) shape.sourcePorts = sourcePorts;
  if (destination) shape.destination = destination;
  if (matchesNew === false) shape.matchesNew = false;
  if (loopbackOnly) shape.loopbackOnly = true;
  return shape;
}

function mergeShapes(outer: RuleShape, inner: RuleShape): RuleShape | undefined {
  let protocols: (Protocol | 'any')[];
  if (outer.protocols.includes('any')) protocols = inner.protocols;
  else if (inner.protocols.includes('any')) protocols = outer.protocols;
  else protocols = outer.protocols.filter((p) => inner.protocols.includes(p));
  if (protocols.length === 0) return undefined;
  const ports = intersect(outer.ports, inner.ports);
  if (ports && ports.length === 0) return undefined;
  const sourcePorts = intersect(outer.sourcePorts, inner.sourcePorts);
  const notes = [...outer.notes, ...inner.notes];
  const unmodelled = [...outer.unmodelled, ...inner.unmodelled];
  const pick = (o: string | undefined, i: string | undefined, label: string): string | undefined => {
    if (o && i && o !== i) {
      notes.push(`also ${label} ${o}`);
      unmodelled.push(`also ${label} ${o}`);
    }
    return i ?? o;
  };
  const merged: RuleShape = {
    protocols,
    ports,
    source: pick(outer.source, inner.source, 'from'),
    iface: pick(outer.iface, inner.iface, 'on'),
    notes: [...new Set(notes)],
    unmodelled: [],
  };
  const destination = pick(outer.destination, inner.destination, 'to');
  merged.unmodelled = [...new Set(unmodelled)];
  if (sourcePorts) merged.sourcePorts = sourcePorts;
  if (destination) merged.destination = destination;
  if (outer.matchesNew === false || inner.matchesNew === false) merged.matchesNew = false;
  if (outer.loopbackOnly || inner.loopbackOnly) merged.loopbackOnly = true;
  return merged;
}

/**
 * The rules a packet meets from a chain on, jumps into user chains followed in place (their rules
 * carry the conditions of the jump), loops cut. A RETURN stays in the list as action 'return'.
 */
export function flattenChain(table: IptTable, start: string, family: IpFamily | 'both', onCap?: (why: string) => void): FirewallRule[] {
  return flattenRules(table, table.rules.get(start) ?? [], family, [start], '', onCap);
}

/** flattenChain over a given list of rules (ufw: the rules of user.rules that no tuple describes). */
/** `onCap` hears when a bound stopped the walk (the rules past it are not in the list: the verdicts there are uncertain). */
export function flattenRules(
  table: IptTable,
  rules: IptRule[],
  family: IpFamily | 'both',
  stack: string[] = [],
  topFrame = '',
  onCap: (why: string) => void = () => {},
): FirewallRule[] {
  const out: FirewallRule[] = [];
  // Each user chain is walked once per entry shape: reached again with the same shape it adds no
  // rule a packet could still meet, so chains jumping several times to the next stay linear.
  const walked = new Set<string>();
  const statesOf = new Map<string, number>();
  let steps = 0;
  const walk = (list: IptRule[], outer: RuleShape | undefined, stack: string[], frame: string) => {
    for (const rule of list) {
      if (steps++ > FLATTEN_STEPS) return onCap(`${FLATTEN_STEPS.toLocaleString('en')} rules`);
      if (rule.invalid) continue;
      const own = shapeOf(rule);
      const shape = outer ? mergeShapes(outer, own) : own;
      if (!shape || (shape.ports && shape.ports.length === 0)) continue;
      const action = actionOf(rule.target?.name, table);
      if (action === 'jump' && rule.target) {
        if (stack.includes(rule.target.name)) continue;
        if (stack.length > 32) {
          onCap(`32 nested jumps`);
          continue;
        }
        const state = `${rule.target.name}\u0000${JSON.stringify(shape)}`;
        const states = statesOf.get(rule.target.name) ?? 0;
        if (!walked.has(state) && states >= STATES_PER_CHAIN) onCap(`${STATES_PER_CHAIN} different entry conditions into chain ${rule.target.name}`);
        else if (!walked.has(state)) {
          statesOf.set(rule.target.name, states + 1);
          walked.add(state);
          walk(table.rules.get(rule.target.name) ?? [], shape, [...stack, rule.target.name], `${frame}>${rule.span.start}`);
        }
        // -g: when the chain it went to ends (or returns), the packet returns from this chain too.
        if (rule.target.goto) emit(rule, shape, 'return', frame, 'after goto');
        continue;
      }
      emit(rule, shape, action, frame);
    }
  };
  const emit = (rule: IptRule, shape: RuleShape, action: FirewallAction, frame: string, extraNote?: string) => {
    {
      for (const protocol of shape.protocols) {
        const fr: FirewallRule = { span: rule.span, protocol, action, family, frame };
        if (shape.ports) fr.ports = shape.ports;
        if (shape.source) fr.source = shape.source;
        if (shape.iface) fr.iface = shape.iface;
        if (shape.sourcePorts) fr.sourcePorts = shape.sourcePorts;
        if (shape.destination) fr.destination = shape.destination;
        if (shape.matchesNew === false) fr.matchesNew = false;
        if (shape.loopbackOnly) fr.loopbackOnly = true;
        if (rule.chain) fr.chain = rule.chain;
        if (shape.unmodelled.length > 0) fr.unmodelled = shape.unmodelled;
        const notes = [...shape.notes];
        if (action === 'other' && rule.target) notes.push(`target ${rule.target.name}`);
        if (action === 'other' && !rule.target) notes.push('no target: counts only');
        if (extraNote) notes.push(extraNote);
        if (notes.length > 0) fr.note = notes.join('; ');
        out.push(fr);
      }
    }
  };
  walk(rules, undefined, stack, topFrame);
  return out;
}

/** Rules one flattening may look at (chains reached in many distinct shapes stop there). */
const FLATTEN_STEPS = 200_000;
/** Distinct entry shapes walked per user chain (each path's conditions can differ: 2^30 paths through 30 chains). */
const STATES_PER_CHAIN = 64;

/**
 * Jump loops reached from a built-in chain: the kernel refuses the table ("Too many links") and
 * iptables-restore fails on the rule that closes the loop.
 */
export function jumpLoopFindings(table: IptTable, file: string, tool: string): Finding[] {
  type Edge = { to: string; order: number; rule: IptRule };
  const edgesOf = (chain: string): Edge[] => {
    const edges: Edge[] = [];
    for (const rule of table.rules.get(chain) ?? []) {
      const to = rule.target?.name;
      if (!to || rule.invalid || !table.chains.has(to) || table.chains.get(to)!.builtin) continue;
      edges.push({ to, order: rule.span.start, rule });
    }
    return edges;
  };
  const roots = [...table.chains.values()].filter((c) => c.builtin).map((c) => c.name);
  const loops = findJumpLoops<string, Edge>(roots, edgesOf).map(({ edge, cycle }) =>
    err(
      file,
      edge.rule.target!.span,
      'syntax',
      `Jump loop: ${[...cycle, cycle[0]].join(' → ')}. The kernel refuses it: ${tool} fails on this rule with "Too many links".`,
    ),
  );
  // The nf_tables backend (Debian's iptables) has the kernel's jump depth limit; iptables-legacy has none: a warning.
  const deep = findTooDeep<string, Edge>(roots, edgesOf).map(({ edge, path }) =>
    err(
      file,
      edge.rule.target!.span,
      'syntax',
      `Jump ${NFT_JUMP_DEPTH} levels deep from ${path[0]}; the kernel allows ${NFT_JUMP_DEPTH - 1}: ${tool} with the nf_tables backend (Debian's default) fails on this rule with "Too many links" (--test does not check this; iptables-legacy loads it).`,
      'warning',
    ),
  );
  return [...loops, ...deep];
}

/** Which built-in chains reach each chain of a table (through jumps and gotos). */
export function chainRoots(table: IptTable, roots: string[]): Map<string, Set<string>> {
  const reached = new Map<string, Set<string>>();
  for (const root of roots) {
    const queue = [root];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const c = queue.pop()!;
      if (seen.has(c)) continue;
      seen.add(c);
      const set = reached.get(c) ?? new Set<string>();
      set.add(root);
      reached.set(c, set);
      for (const r of table.rules.get(c) ?? [])
        if (r.target && table.chains.get(r.target.name) && !table.chains.get(r.target.name)!.builtin) queue.push(r.target.name);
    }
  }
  return reached;
}

const DIRECTION_OF_ROOT: Record<string, string> = {
  INPUT: 'inbound',
  OUTPUT: 'outbound',
  FORWARD: 'forwarded',
  PREROUTING: 'arriving',
  POSTROUTING: 'leaving',
};

export function directionWords(roots: Set<string> | undefined, directionOf: (root: string) => string | undefined = (r) => DIRECTION_OF_ROOT[r]): string {
  if (!roots || roots.size === 0) return '';
  const words = [...new Set([...roots].map((r) => directionOf(r)).filter((w): w is string => !!w))];
  return words.join('/');
}

export function formatPorts(elems: { from: number; to: number }[]): string {
  return elems.map(rangeText).join(',');
}

/** "allows", "drops", ... for a detail sentence. */
export function verbOf(action: FirewallAction | 'limit', target: string | undefined): string {
  switch (action) {
    case 'accept':
      return 'allows';
    case 'limit':
      return 'allows';
    case 'drop':
      return 'drops';
    case 'reject':
      return 'rejects';
    case 'return':
      return 'returns early for';
    case 'log':
      return 'logs';
    case 'jump':
      return 'sends';
    default:
      return target ? `applies ${target} to` : 'counts';
  }
}

export interface FactOptions {
  file: string;
  family: IpFamily;
  program: string;
  /** Direction words for a chain ("inbound"); '' when no built-in chain reaches it. */
  directionOf: (rule: IptRule) => string;
  /** Extra words for the sentence of a rule (ufw's rule, enablement). */
  suffix?: (rule: IptRule) => string;
}

/** One PortFact per port mention of a rule: matched ports role 'firewall', NAT targets role 'forward'. */
export function factsOfRule(rule: IptRule, table: IptTable, o: FactOptions): PortFact[] {
  const facts: PortFact[] = [];
  const protos = portProtocols(rule).filter((p): p is Protocol => p !== 'any');
  if (protos.length === 0 && rule.protocol && !rule.protocol.negated) {
    const n = protoName(rule.protocol.text);
    if (n === 'udplite') protos.push('udp');
    if (n === 'dccp') protos.push('tcp');
  }
  if (protos.length === 0) return facts;
  const action = actionOf(rule.target?.name, table);
  const dir = o.directionOf(rule);
  const where = dir ? ` ${dir}` : ` in chain ${rule.chain} (no built-in chain reaches it)`;
  const extras: string[] = [];
  if (rule.source) extras.push(` from ${rule.source.negated ? 'anywhere but ' : ''}${rule.source.text}`);
  if (rule.inIface) extras.push(` on ${rule.inIface.negated ? 'any interface but ' : ''}${rule.inIface.text}`);
  if (rule.outIface) extras.push(` out ${rule.outIface.negated ? 'any interface but ' : ''}${rule.outIface.text}`);
  if (rule.states && !rule.states.negated && !rule.states.values.includes('NEW')) extras.push(` (${rule.states.values.join(',')} only)`);
  if (!table.chains.get(rule.chain)?.builtin && dir) extras.push(` (chain ${rule.chain})`);
  const suffix = o.suffix ? o.suffix(rule) : '';
  const context = `${rule.table} ${rule.chain}, line ${rule.line}`;
  const nat = rule.target && (rule.target.name === 'DNAT' || rule.target.name === 'REDIRECT') ? natTarget(rule) : undefined;
  for (const pm of rule.ports) {
    for (const el of pm.elems) {
      if (el.from > el.to) continue;
      for (const protocol of protos) {
        const P = protocol.toUpperCase();
        const portWords = pm.negated ? `ports other than ${formatPorts([el])}` : formatPorts([el]);
        let detail: string;
        if (pm.kind === 'sport') {
          detail = `${verbOf(action, rule.target?.name)} ${P}${where} from source port ${portWords}`;
        } else if (nat && pm.kind === 'dport') {
          detail = nat.kind === 'dnat' ? `forwards ${P} ${portWords} to ${nat.toText}` : `redirects ${P} ${portWords} to local port ${nat.toText}`;
        } else {
          detail = `${verbOf(action, rule.target?.name)} ${P} ${portWords}${where}`;
        }
        detail += extras.join('');
        if (action === 'jump' && rule.target) detail += ` to chain ${rule.target.name}`;
        detail += suffix;
        facts.push({
          role: 'firewall',
          file: o.file,
          span: el.span,
          protocol,
          port: el.from,
          portEnd: el.to,
          family: o.family,
          program: o.program,
          context,
          detail,
        });
      }
    }
  }
  if (nat && nat.toPorts) {
    const matched = rule.ports.filter((p) => p.kind === 'dport' && !p.negated).flatMap((p) => p.elems);
    const fromWords = matched.length > 0 ? formatPorts(matched) : 'any port';
    for (const protocol of protos) {
      const P = protocol.toUpperCase();
      const detail =
        nat.kind === 'dnat'
          ? `DNAT target: ${P} ${fromWords} arriving here goes to ${nat.toText}`
          : `REDIRECT target: ${P} ${fromWords} arriving here goes to local port ${nat.toText}`;
      facts.push({
        role: 'forward',
        file: o.file,
        span: nat.portSpan!,
        protocol,
        port: nat.toPorts.from,
        portEnd: nat.toPorts.to,
        family: o.family,
        address: nat.toAddress,
        program: o.program,
        context,
        detail: detail + suffix,
      });
    }
  }
  return facts;
}

interface NatTarget {
  kind: 'dnat' | 'redirect';
  toAddress?: string;
  toPorts?: PortRange;
  portSpan?: Span;
  toText: string;
}

function natTarget(rule: IptRule): NatTarget | undefined {
  if (rule.target?.name === 'REDIRECT') {
    const a = rule.targetArgs['to-ports'];
    if (!a) return { kind: 'redirect', toText: '(same port)' };
    const m = /^(\d+)(?:-(\d+))?$/.exec(a.text);
    if (!m) return { kind: 'redirect', toText: a.text };
    return { kind: 'redirect', toPorts: { from: Number(m[1]), to: Number(m[2] ?? m[1]) }, portSpan: a.span, toText: a.text };
  }
  if (rule.target?.name === 'DNAT') {
    const a = rule.targetArgs['to-destination'];
    if (!a) return undefined;
    const parsed = splitNatTarget(a.text);
    if (!parsed) return undefined;
    const res: NatTarget = { kind: 'dnat', toAddress: parsed.address, toText: a.text };
    if (parsed.portText !== undefined) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(parsed.portText);
      if (m) {
        res.toPorts = { from: Number(m[1]), to: Number(m[2] ?? m[1]) };
        res.portSpan = subSpan(a, parsed.portOffset!, a.text.length);
      }
    }
    return res;
  }
  return undefined;
}

/**
 * The DNAT and REDIRECT rules of a nat table, with the conditions that keep a packet out of them: the
 * file's family, the rule's own input interface and source (a jump's conditions only narrow it further),
 * and whether PREROUTING reaches its chain at all (OUTPUT's DNAT never meets an inbound packet).
 */
export function forwardsOf(table: IptTable | undefined, family?: IpFamily): FirewallForward[] {
  const out: FirewallForward[] = [];
  if (!table) return out;
  const reach = chainRoots(table, BUILTIN_CHAINS.nat);
  const cond = (c: Cond | undefined) => (c ? `${c.negated ? '!' : ''}${c.text}` : undefined);
  for (const rules of table.rules.values()) {
    for (const rule of rules) {
      if (rule.invalid) continue;
      const nat = natTarget(rule);
      if (!nat) continue;
      const dports = rule.ports.filter((p) => p.kind === 'dport');
      const ports =
        dports.length > 0
          ? dports.reduce<PortRange[] | undefined>(
              (acc, p) => intersect(acc, p.negated ? complement(p.elems) : p.elems.map((e) => ({ from: e.from, to: e.to }))),
              undefined,
            )
          : undefined;
      for (const protocol of portProtocols(rule)) {
        const fw: FirewallForward = { span: rule.span, protocol, kind: nat.kind };
        if (family) fw.family = family;
        if (rule.inIface) fw.iface = cond(rule.inIface);
        if (rule.source) fw.source = cond(rule.source);
        if (!reach.get(rule.chain)?.has('PREROUTING')) fw.inbound = false;
        if (ports) fw.ports = ports;
        if (nat.toAddress) fw.toAddress = nat.toAddress;
        if (nat.toPorts) fw.toPorts = nat.toPorts;
        out.push(fw);
      }
    }
  }
  return out;
}

/** Every fact of a parsed file, direction words from the built-in chains that reach each rule; in steps of a few thousand rules (core/steps.ts). */
export function* factsOfDocSteps(
  doc: RestoreDoc,
  o: Omit<FactOptions, 'directionOf'> & { directionOf?: FactOptions['directionOf'] },
): Generator<void, PortFact[], void> {
  const facts: PortFact[] = [];
  let n = 0;
  for (const table of doc.tables.values()) {
    const reach = chainRoots(table, BUILTIN_CHAINS[table.name] ?? []);
    const directionOf = o.directionOf ?? ((rule: IptRule) => directionWords(reach.get(rule.chain)));
    const options = { ...o, directionOf };
    for (const rules of table.rules.values())
      for (const rule of rules) {
        if (++n % ITEMS_PER_STEP === 0) yield;
        if (!rule.invalid) pushAll(facts, factsOfRule(rule, table, options));
      }
  }
  return facts;
}
