/**
 * firewalld: zone files (zones/*.xml), service definitions (services/*.xml) and firewalld.conf, read
 * the way firewalld 1.3's io/zone.py and io/service.py read them (checked against
 * `firewall-offline-cmd` in test/oracle/firewalld.test.ts). A zone lists services by name: they
 * resolve through the workspace's own services/*.xml first (reached by IncludeRefs to
 * /etc/firewalld/services), then through the stock definitions shipped in data/.
 */
import { pushAll } from '../../core/arrays';
import { rangeText } from '../../core/portRanges';
import { looksLikeServiceName, UNKNOWN_SERVICE_MESSAGES, unknownService, type ServiceLookup } from '../../core/serviceNames';
import { SaxesParser } from 'saxes';
import type {
  FileParse,
  Finding,
  FirewallAction,
  FirewallFacts,
  FirewallForward,
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
import type { FirewalldServiceData, FirewalldServiceDef } from './services';
import { firewalldWriter } from './writer';

// ---------------------------------------------------------------------------------------------
// XML with positions

interface Attr {
  value: string;
  /** The value between the quotes. */
  span: Span;
}

export interface XmlElement {
  name: string;
  attrs: Map<string, Attr>;
  /** The start tag. */
  span: Span;
  children: XmlElement[];
  text: string;
}

const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** Parses XML into elements with the spans of their start tags and attribute values; never throws. */
export function parseXml(text: string, file: string, findings: Finding[]): XmlElement | undefined {
  const parser = new SaxesParser({ position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let failed = false;
  parser.on('error', (e) => {
    if (failed) return;
    failed = true; // firewalld's parser stops at the first error
    const at = Math.min(parser.position, text.length);
    findings.push(
      syntax(
        file,
        { start: Math.max(0, at - 1), end: at },
        `Not well-formed XML: ${e.message.replace(/^.*?:\d+:\d+: /, '')} (firewalld: PARSE_ERROR, the whole configuration falls back to the stock one).`,
      ),
    );
  });
  parser.on('opentag', (tag) => {
    const end = parser.position;
    const start = Math.max(0, text.lastIndexOf('<', end - 1));
    const raw = text.slice(start, end);
    const attrs = new Map<string, Attr>();
    ATTRIBUTE.lastIndex = 0;
    for (let m = ATTRIBUTE.exec(raw); m; m = ATTRIBUTE.exec(raw)) {
      const name = m[1];
      const quoted = m[2] ?? m[3] ?? '';
      const valueStart = start + m.index + m[0].length - quoted.length - 1;
      const decoded = typeof tag.attributes[name] === 'string' ? (tag.attributes[name] as string) : quoted;
      attrs.set(name, { value: decoded, span: { start: valueStart, end: valueStart + quoted.length } });
    }
    const el: XmlElement = { name: tag.name, attrs, span: { start, end }, children: [], text: '' };
    if (stack.length > 0) stack[stack.length - 1].children.push(el);
    else root ??= el;
    if (!tag.isSelfClosing) stack.push(el);
  });
  parser.on('text', (t) => {
    if (stack.length > 0) stack[stack.length - 1].text += t;
  });
  parser.on('closetag', (tag) => {
    if (!tag.isSelfClosing) stack.pop();
  });
  try {
    parser.write(text).close();
  } catch (e) {
    if (!failed) findings.push(syntax(file, { start: 0, end: 0 }, `Not well-formed XML: ${(e as Error).message}`));
  }
  if (!root && !failed)
    findings.push(syntax(file, { start: 0, end: Math.min(text.length, 1) }, 'No XML element: firewalld cannot read this file (PARSE_ERROR).'));
  return root;
}

function syntax(file: string, span: Span, message: string): Finding {
  return { file, span, severity: 'error', code: 'syntax', message };
}

function invalidPort(file: string, span: Span, message: string): Finding {
  return { file, span, severity: 'error', code: 'invalid-port', message };
}

// ---------------------------------------------------------------------------------------------
// firewalld's own checks (io/zone.py, io/service.py, functions.py)

/** Required and optional attributes per element, as firewalld's parser_check_element_attrs knows them. */
const ZONE_ELEMENTS: Record<string, { required: string[]; optional: string[] }> = {
  short: { required: [], optional: [] },
  description: { required: [], optional: [] },
  zone: { required: [], optional: ['name', 'immutable', 'target', 'version'] },
  service: { required: ['name'], optional: [] },
  port: { required: ['port', 'protocol'], optional: [] },
  'icmp-block': { required: ['name'], optional: [] },
  'icmp-type': { required: ['name'], optional: [] },
  forward: { required: [], optional: [] },
  'forward-port': { required: ['port', 'protocol'], optional: ['to-port', 'to-addr'] },
  interface: { required: ['name'], optional: [] },
  rule: { required: [], optional: ['family', 'priority'] },
  source: { required: [], optional: ['address', 'mac', 'invert', 'family', 'ipset'] },
  destination: { required: [], optional: ['address', 'invert', 'ipset'] },
  protocol: { required: ['value'], optional: [] },
  'source-port': { required: ['port', 'protocol'], optional: [] },
  log: { required: [], optional: ['prefix', 'level'] },
  nflog: { required: [], optional: ['group', 'prefix', 'queue-size'] },
  audit: { required: [], optional: [] },
  accept: { required: [], optional: [] },
  reject: { required: [], optional: ['type'] },
  drop: { required: [], optional: [] },
  mark: { required: ['set'], optional: [] },
  limit: { required: ['value'], optional: [] },
  'icmp-block-inversion': { required: [], optional: [] },
  masquerade: { required: [], optional: ['enabled'] },
  'tcp-mss-clamp': { required: [], optional: ['value'] },
};

const SERVICE_ELEMENTS: Record<string, { required: string[]; optional: string[] }> = {
  short: { required: [], optional: [] },
  description: { required: [], optional: [] },
  service: { required: [], optional: ['name', 'version'] },
  port: { required: [], optional: ['port', 'protocol'] },
  protocol: { required: [], optional: ['value'] },
  module: { required: [], optional: ['name'] },
  destination: { required: [], optional: ['ipv4', 'ipv6'] },
  'source-port': { required: [], optional: ['port', 'protocol'] },
  include: { required: [], optional: ['service'] },
  helper: { required: [], optional: ['name'] },
};

const ZONE_TARGETS = new Set(['ACCEPT', '%%REJECT%%', 'DROP', 'default', '']);
const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'dccp']);

function checkElements(root: XmlElement, table: Record<string, { required: string[]; optional: string[] }>, file: string, findings: Finding[]): boolean {
  let ok = true;
  const visit = (el: XmlElement) => {
    if (!ok) return;
    const spec = table[el.name];
    if (!spec) {
      findings.push(
        syntax(
          file,
          el.span,
          `firewalld does not know the element <${el.name}> here (PARSE_ERROR: Unexpected element ${el.name}; the whole configuration falls back to the stock one).`,
        ),
      );
      ok = false;
      return;
    }
    for (const a of spec.required) {
      if (!el.attrs.has(a)) {
        findings.push(syntax(file, el.span, `<${el.name}> needs the attribute ${a} (firewalld: PARSE_ERROR: Missing attribute ${a} for ${el.name}).`));
        ok = false;
        return;
      }
    }
    for (const [name, attr] of el.attrs) {
      if (!spec.required.includes(name) && !spec.optional.includes(name)) {
        findings.push(syntax(file, attr.span, `<${el.name}> has no attribute ${name} (firewalld: PARSE_ERROR: ${el.name}: Unexpected attribute ${name}).`));
        ok = false;
        return;
      }
    }
    el.children.forEach(visit);
  };
  visit(root);
  return ok;
}

export type PortCheck = { range: PortRange } | { error: string };

/** firewalld's getPortRange + check_port: "22", "60000-61000", service names; a reversed range is swapped. */
export function checkPort(text: string, serviceToPort: (name: string) => number | undefined): PortCheck {
  const portId = (s: string): number => {
    const t = s.trim();
    if (/^\d+$/.test(t)) return Number(t) > 65535 ? -2 : Number(t);
    if (t === '') return -1;
    const p = serviceToPort(t);
    return p === undefined ? -1 : p;
  };
  const asRange = (a: number, b: number): PortRange => ({ from: Math.min(a, b), to: Math.max(a, b) });
  let result: PortRange | number | null;
  if (/^\d+$/.test(text)) result = portId(text);
  else {
    const splits = text.split('-');
    result = -1;
    if (splits.length === 2 && /^\d+$/.test(splits[0]) && /^\d+$/.test(splits[1])) {
      const a = portId(splits[0]);
      const b = portId(splits[1]);
      if (a >= 0 && b >= 0) result = asRange(a, b);
    }
    if (typeof result === 'number') {
      const matched: PortRange[] = [];
      for (let i = splits.length; i > 0; i--) {
        const a = portId(splits.slice(0, i).join('-'));
        const rest = splits.slice(i).join('-');
        if (rest.length > 0) {
          const b = portId(rest);
          if (a >= 0 && b >= 0) matched.push(asRange(a, b));
        } else if (a >= 0) {
          matched.push({ from: a, to: a });
          if (i === splits.length) break;
        }
      }
      result = matched.length === 1 ? matched[0] : matched.length > 1 ? null : -1;
    }
  }
  if (result === -2) return { error: `port number in '${text}' is too big` };
  if (result === null) return { error: `port range '${text}' is ambiguous` };
  if (typeof result === 'number') return result >= 0 ? { range: { from: result, to: result } } : { error: `'${text}' is invalid port range` };
  return { range: result };
}

// ---------------------------------------------------------------------------------------------
// What the files say

interface PortEntry {
  port: Attr;
  protocol: Attr;
  range?: PortRange;
}

interface ForwardPortEntry extends PortEntry {
  toPort?: Attr;
  toRange?: PortRange;
  toAddr?: Attr;
  span: Span;
}

interface RichRule {
  span: Span;
  family?: IpFamily;
  priority: number;
  source?: string;
  /** `<destination address>` when not inverted. */
  destination?: string;
  /** Conditions we read but do not evaluate (FirewallRule.unmodelled). */
  unmodelled: string[];
  services: Attr[];
  ports: PortEntry[];
  sourcePorts: PortEntry[];
  forwardPorts: ForwardPortEntry[];
  protocols: string[];
  action?: 'accept' | 'reject' | 'drop' | 'mark';
  limit: boolean;
  log: boolean;
}

export interface ZoneSyntax {
  name: string;
  target?: Attr;
  services: Attr[];
  ports: PortEntry[];
  sourcePorts: PortEntry[];
  forwardPorts: ForwardPortEntry[];
  rules: RichRule[];
  interfaces: string[];
  sources: string[];
  /** The file parsed without errors that make firewalld drop it. */
  valid: boolean;
}

export interface ServiceSyntax {
  name: string;
  ports: PortEntry[];
  sourcePorts: PortEntry[];
  protocols: string[];
  includes: Attr[];
  /** `<destination ipv4= ipv6=>`: the service is allowed only to these addresses, and only in the families named. */
  destination?: { ipv4?: string; ipv6?: string };
  rootSpan: Span;
}

export type FirewalldExtra = { kind: 'zone'; zone: ZoneSyntax } | { kind: 'service'; service: ServiceSyntax } | { kind: 'config'; defaultZone?: Attr };

function baseName(file: string): string {
  const b = file.slice(file.lastIndexOf('/') + 1);
  return b.endsWith('.xml') ? b.slice(0, -4) : b;
}

function readPort(
  el: XmlElement,
  file: string,
  findings: Finding[],
  serviceToPort: ServiceLookup,
  code: 'zone' | 'rule',
  portAttr = 'port',
): PortEntry | undefined {
  const port = el.attrs.get(portAttr);
  const protocol = el.attrs.get('protocol');
  if (!port || !protocol) return undefined;
  const entry: PortEntry = { port, protocol };
  const where = code === 'rule' ? ' (firewalld skips this rich rule)' : '';
  const checked = checkPort(port.value, serviceToPort);
  if ('error' in checked) {
    const message = `firewalld: INVALID_PORT: ${checked.error}${where}.`;
    if (looksLikeServiceName(port.value) && serviceToPort(port.value) === undefined)
      findings.push(
        unknownService(file, port.span, port.value, message, {
          messageId: UNKNOWN_SERVICE_MESSAGES.portName,
          program: 'firewalld',
          protocol: asProtocol(protocol.value),
          known: serviceToPort.known?.(),
          rewritable: port.span.end - port.span.start === port.value.length,
        }),
      );
    else findings.push(invalidPort(file, port.span, message));
    return undefined;
  }
  if (!PORT_PROTOCOLS.has(protocol.value)) {
    findings.push(invalidPort(file, protocol.span, `firewalld: INVALID_PROTOCOL: '${protocol.value}' not from {'tcp'|'udp'|'sctp'|'dccp'}${where}.`));
    return undefined;
  }
  entry.range = checked.range;
  return entry;
}

export function parseZoneSyntax(text: string, file: string, serviceToPort: ServiceLookup): { zone: ZoneSyntax; findings: Finding[] } {
  const findings: Finding[] = [];
  const zone: ZoneSyntax = {
    name: baseName(file),
    services: [],
    ports: [],
    sourcePorts: [],
    forwardPorts: [],
    rules: [],
    interfaces: [],
    sources: [],
    valid: false,
  };
  const root = parseXml(text, file, findings);
  if (!root || findings.length > 0) return { zone, findings };
  if (root.name !== 'zone') {
    findings.push(syntax(file, root.span, `A zone file starts with <zone>, not <${root.name}> (firewalld: PARSE_ERROR).`));
    return { zone, findings };
  }
  if (!checkElements(root, ZONE_ELEMENTS, file, findings)) return { zone, findings };
  const target = root.attrs.get('target');
  if (target && !ZONE_TARGETS.has(target.value)) {
    findings.push(syntax(file, target.span, `firewalld: INVALID_TARGET: '${target.value}': a zone target is ACCEPT, %%REJECT%%, DROP or default.`));
    return { zone, findings };
  }
  zone.target = target;
  let fatal = false;
  for (const el of root.children) {
    switch (el.name) {
      case 'service':
        zone.services.push(el.attrs.get('name')!);
        break;
      case 'port':
      case 'source-port': {
        const entry = readPort(el, file, findings, serviceToPort, 'zone');
        if (!entry) fatal = true;
        else (el.name === 'port' ? zone.ports : zone.sourcePorts).push(entry);
        break;
      }
      case 'forward-port': {
        const fp = readForwardPort(el, file, findings, serviceToPort, 'zone');
        if (!fp) fatal = true;
        else zone.forwardPorts.push(fp);
        break;
      }
      case 'interface':
        zone.interfaces.push(el.attrs.get('name')!.value);
        break;
      case 'source': {
        const a = el.attrs.get('address') ?? el.attrs.get('ipset');
        if (a) zone.sources.push(a.value);
        break;
      }
      case 'rule': {
        const rule = readRichRule(el, file, findings, serviceToPort);
        if (rule) zone.rules.push(rule);
        break;
      }
    }
  }
  zone.valid = !fatal;
  return { zone, findings };
}

function readForwardPort(el: XmlElement, file: string, findings: Finding[], serviceToPort: ServiceLookup, code: 'zone' | 'rule'): ForwardPortEntry | undefined {
  const base = readPort(el, file, findings, serviceToPort, code);
  if (!base) return undefined;
  const fp: ForwardPortEntry = { ...base, span: el.span, toAddr: el.attrs.get('to-addr') };
  const toPort = el.attrs.get('to-port');
  if (toPort && toPort.value !== '') {
    const checked = checkPort(toPort.value, serviceToPort);
    if ('error' in checked) {
      findings.push(invalidPort(file, toPort.span, `firewalld: INVALID_PORT: ${checked.error}${code === 'rule' ? ' (firewalld skips this rich rule)' : ''}.`));
      return undefined;
    }
    fp.toPort = toPort;
    fp.toRange = checked.range;
  }
  return fp;
}

function readRichRule(el: XmlElement, file: string, findings: Finding[], serviceToPort: ServiceLookup): RichRule | undefined {
  const fam = el.attrs.get('family')?.value;
  const prio = Number(el.attrs.get('priority')?.value ?? '0');
  const rule: RichRule = {
    span: el.span,
    family: fam === 'ipv4' || fam === 'ipv6' ? fam : undefined,
    priority: Number.isFinite(prio) ? prio : 0,
    services: [],
    ports: [],
    sourcePorts: [],
    forwardPorts: [],
    protocols: [],
    limit: false,
    log: false,
    unmodelled: [],
  };
  let ok = true;
  const inverted = (c: XmlElement) => c.attrs.get('invert')?.value === 'True' || c.attrs.get('invert')?.value === 'yes';
  for (const c of el.children) {
    switch (c.name) {
      case 'source': {
        const a = c.attrs.get('address') ?? c.attrs.get('mac') ?? c.attrs.get('ipset');
        if (a) rule.source = `${inverted(c) ? 'not ' : ''}${a.value}`;
        if (a && inverted(c)) rule.unmodelled.push(`source not ${a.value}`);
        else if (a && a !== c.attrs.get('address')) rule.unmodelled.push(`source ${c.attrs.get('mac') ? 'mac' : 'ipset'} ${a.value}`);
        break;
      }
      case 'destination': {
        const address = c.attrs.get('address');
        const ipset = c.attrs.get('ipset');
        if (address && !inverted(c)) rule.destination = address.value;
        else if (address || ipset) rule.unmodelled.push(`destination ${inverted(c) ? 'not ' : ''}${address ? '' : 'ipset '}${(address ?? ipset)!.value}`);
        break;
      }
      case 'icmp-block':
      case 'icmp-type':
      case 'masquerade':
      case 'tcp-mss-clamp':
        rule.unmodelled.push(c.name);
        break;
      case 'service':
        rule.services.push(c.attrs.get('name')!);
        break;
      case 'port':
      case 'source-port': {
        const p = readPort(c, file, findings, serviceToPort, 'rule');
        if (!p) ok = false;
        else (c.name === 'port' ? rule.ports : rule.sourcePorts).push(p);
        break;
      }
      case 'forward-port': {
        const fp = readForwardPort(c, file, findings, serviceToPort, 'rule');
        if (!fp) ok = false;
        else rule.forwardPorts.push(fp);
        break;
      }
      case 'protocol':
        rule.protocols.push(c.attrs.get('value')!.value);
        break;
      case 'accept':
      case 'reject':
      case 'drop':
      case 'mark':
        rule.action = c.name;
        if (c.children.some((x) => x.name === 'limit')) rule.limit = true;
        break;
      case 'log':
      case 'nflog':
        rule.log = true;
        break;
    }
  }
  return ok ? rule : undefined;
}

export function parseServiceSyntax(text: string, file: string, serviceToPort: ServiceLookup): { service: ServiceSyntax; findings: Finding[] } {
  const findings: Finding[] = [];
  const service: ServiceSyntax = { name: baseName(file), ports: [], sourcePorts: [], protocols: [], includes: [], rootSpan: { start: 0, end: 0 } };
  const root = parseXml(text, file, findings);
  if (!root || findings.length > 0) return { service, findings };
  service.rootSpan = root.span;
  if (root.name !== 'service') {
    findings.push(syntax(file, root.span, `A service file starts with <service>, not <${root.name}> (firewalld: PARSE_ERROR).`));
    return { service, findings };
  }
  if (!checkElements(root, SERVICE_ELEMENTS, file, findings)) return { service, findings };
  for (const el of root.children) {
    if (el.name === 'port' || el.name === 'source-port') {
      const port = el.attrs.get('port');
      const protocol = el.attrs.get('protocol');
      // `<port port="" protocol="gre"/>` is a protocol, not a port.
      if (el.name === 'port' && port?.value === '' && protocol) {
        service.protocols.push(protocol.value);
        continue;
      }
      const entry = readPort(el, file, findings, serviceToPort, 'zone');
      if (entry) (el.name === 'port' ? service.ports : service.sourcePorts).push(entry);
    } else if (el.name === 'protocol') {
      const v = el.attrs.get('value');
      if (v) service.protocols.push(v.value);
    } else if (el.name === 'include') {
      const s = el.attrs.get('service');
      if (s) service.includes.push(s);
    } else if (el.name === 'destination') {
      const v4 = el.attrs.get('ipv4')?.value;
      const v6 = el.attrs.get('ipv6')?.value;
      service.destination = { ...(v4 ? { ipv4: v4 } : {}), ...(v6 ? { ipv6: v6 } : {}) };
    }
  }
  return { service, findings };
}

export function parseConfigSyntax(text: string): { defaultZone?: Attr } {
  let offset = 0;
  let defaultZone: Attr | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\s*DefaultZone\s*=\s*)(\S*)\s*$/.exec(line.replace(/\r$/, ''));
    if (m) defaultZone = { value: m[2], span: { start: offset + m[1].length, end: offset + m[1].length + m[2].length } };
    offset += line.length + 1;
  }
  return { defaultZone };
}

// ---------------------------------------------------------------------------------------------
// From a zone to facts, rules and findings

/** firewalld adds a service with a `<destination>` only for the families it names, matching only those addresses. */
type ServiceDestination = { ipv4?: string; ipv6?: string } | undefined;

interface ServicePorts {
  ports: { protocol: string; range: PortRange; destination?: ServiceDestination }[];
  sourcePorts: { protocol: string; range: PortRange; destination?: ServiceDestination }[];
}

type ServiceResolver = (name: string) => ServicePorts | undefined;

/** A resolver over workspace services (first) and stock data, following `<include service>`. */
function serviceResolver(
  workspace: Map<string, ServiceSyntax>,
  stock: FirewalldServiceData,
  serviceToPort: (n: string) => number | undefined,
): ServiceResolver {
  const resolve = (name: string, seen: Set<string>): ServicePorts | undefined => {
    if (seen.has(name)) return { ports: [], sourcePorts: [] };
    seen.add(name);
    const own = workspace.get(name);
    const stockDef: FirewalldServiceDef | undefined = Object.prototype.hasOwnProperty.call(stock.services, name) ? stock.services[name] : undefined;
    if (!own && !stockDef) return undefined;
    const out: ServicePorts = { ports: [], sourcePorts: [] };
    const includes: string[] = [];
    const destination = own ? own.destination : stockDef && (stockDef.destination.ipv4 || stockDef.destination.ipv6) ? stockDef.destination : undefined;
    if (own) {
      for (const p of own.ports) if (p.range) out.ports.push({ protocol: p.protocol.value, range: p.range, destination });
      for (const p of own.sourcePorts) if (p.range) out.sourcePorts.push({ protocol: p.protocol.value, range: p.range, destination });
      pushAll(
        includes,
        own.includes.map((i) => i.value),
      );
    } else if (stockDef) {
      for (const p of stockDef.ports) {
        const c = checkPort(p.port, serviceToPort);
        if ('range' in c) out.ports.push({ protocol: p.protocol, range: c.range, destination });
      }
      for (const p of stockDef.sourcePorts) {
        const c = checkPort(p.port, serviceToPort);
        if ('range' in c) out.sourcePorts.push({ protocol: p.protocol, range: c.range, destination });
      }
      pushAll(includes, stockDef.includes);
    }
    for (const inc of includes) {
      const sub = resolve(inc, seen);
      if (sub) {
        pushAll(out.ports, sub.ports);
        pushAll(out.sourcePorts, sub.sourcePorts);
      }
    }
    return out;
  };
  return (name) => resolve(name, new Set());
}

function asProtocol(p: string): Protocol | undefined {
  return p === 'tcp' || p === 'udp' || p === 'sctp' ? p : undefined;
}

interface ZoneResult {
  facts: PortFact[];
  findings: Finding[];
  firewall: FirewallFacts;
}

/** A zone's facts and its firewall: the inbound policy of its target, its rules in packet order. */
function evaluateZone(zone: ZoneSyntax, file: string, resolve: ServiceResolver, opts: ZoneOptions): ZoneResult {
  const ev = new ZoneEvaluator(zone, file, resolve, opts);
  const inputRules = ev.inputRules();
  const t = zone.target?.value;
  const action = t === 'ACCEPT' ? 'accept' : t === 'DROP' ? 'drop' : 'reject';
  const firewall: FirewallFacts = { tool: 'firewalld', inboundPolicy: { action, span: zone.target?.span, family: 'both' }, inputRules, forwards: ev.forwards };
  return { facts: ev.facts, findings: ev.findings, firewall };
}

interface ZoneOptions {
  /** PortFact.context of the zone's facts. */
  context: string;
  /** Report services neither stock nor in the workspace (only where the workspace's services are known). */
  reportUnknownServices: boolean;
  /** The services firewalld knows (stock and the workspace's), for the "Use NAME" fixes. */
  knownServices?: readonly string[];
}

/**
 * One zone read into facts and FirewallRules: its services, ports, source ports, forward ports and
 * rich rules, each rule under the zone's sources and interfaces.
 */
class ZoneEvaluator {
  readonly facts: PortFact[] = [];
  readonly findings: Finding[] = [];
  readonly forwards: FirewallForward[] = [];
  private readonly zoneSource: string | undefined;
  private readonly zoneIface: string | undefined;
  /** The zone is bound to lo alone. */
  private readonly zoneLoopback: boolean;

  constructor(
    private readonly zone: ZoneSyntax,
    private readonly file: string,
    private readonly resolve: ServiceResolver,
    private readonly opts: ZoneOptions,
  ) {
    this.zoneSource = zone.sources.length ? zone.sources.join(',') : undefined;
    this.zoneIface = zone.interfaces.length ? zone.interfaces.join(',') : undefined;
    this.zoneLoopback = zone.interfaces.length > 0 && zone.interfaces.every((i) => i === 'lo');
  }

  private fact(span: Span, protocol: string, range: PortRange, detail: string, role: 'firewall' | 'forward' = 'firewall'): void {
    const p = asProtocol(protocol);
    if (!p) return; // dccp: PortFact has no such protocol
    this.facts.push({
      role,
      file: this.file,
      span,
      protocol: p,
      port: range.from,
      portEnd: range.to,
      program: 'firewalld',
      context: this.opts.context,
      detail,
    });
  }

  private rule(
    span: Span,
    protocol: string | undefined,
    range: PortRange | undefined,
    action: FirewallAction,
    extra: Partial<FirewallRule> = {},
  ): FirewallRule | undefined {
    const p = protocol === undefined ? 'any' : asProtocol(protocol);
    if (!p) return undefined;
    const r: FirewallRule = {
      span,
      protocol: p,
      ports: range ? [range] : undefined,
      action,
      family: 'both',
      source: this.zoneSource,
      iface: this.zoneIface,
      ...extra,
      chain: this.zone.name,
    };
    if (this.zoneLoopback) r.loopbackOnly = true;
    return r;
  }

  private serviceRules(svc: Attr, verb: string, action: FirewallAction, extra: Partial<FirewallRule>, suffix: string): FirewallRule[] {
    const ports = this.resolve(svc.value);
    if (!ports) {
      if (this.opts.reportUnknownServices)
        this.findings.push(
          unknownService(
            this.file,
            svc.span,
            svc.value,
            `firewalld: INVALID_SERVICE: '${svc.value}' is neither a stock service nor defined in the workspace's services/*.xml.`,
            {
              messageId: UNKNOWN_SERVICE_MESSAGES.firewalldService,
              program: 'firewalld',
              known: this.opts.knownServices && { names: this.opts.knownServices },
              rewritable: svc.span.end - svc.span.start === svc.value.length,
            },
          ),
        );
      return [];
    }
    const out: FirewallRule[] = [];
    const dest = (d: ServiceDestination) => (d && (d.ipv4 || d.ipv6) ? ` to ${[d.ipv4, d.ipv6].filter(Boolean).join(', ')}` : '');
    for (const p of ports.ports) {
      this.fact(
        svc.span,
        p.protocol,
        p.range,
        `${verb} ${p.protocol.toUpperCase()} ${rangeText(p.range)} inbound${dest(p.destination)}${suffix} (service ${svc.value})`,
      );
      for (const x of perServiceFamily(p.destination, extra)) {
        const r = this.rule(svc.span, p.protocol, p.range, action, x);
        if (r) out.push(r);
      }
    }
    for (const p of ports.sourcePorts) {
      this.fact(
        svc.span,
        p.protocol,
        p.range,
        `${verb} ${p.protocol.toUpperCase()} from source port ${rangeText(p.range)} inbound${dest(p.destination)}${suffix} (service ${svc.value})`,
      );
      for (const x of perServiceFamily(p.destination, { ...extra, note: `source port ${rangeText(p.range)}`, sourcePorts: [p.range] })) {
        const r = this.rule(svc.span, p.protocol, undefined, action, x);
        if (r) out.push(r);
      }
    }
    return out;
  }

  private forward(fp: ForwardPortEntry): void {
    const to = fp.toRange ?? fp.range!;
    const target = fp.toAddr ? `${fp.toAddr.value.includes(':') ? `[${fp.toAddr.value}]` : fp.toAddr.value}:${rangeText(to)}` : `local port ${rangeText(to)}`;
    this.fact(fp.port.span, fp.protocol.value, fp.range!, `forwards ${fp.protocol.value.toUpperCase()} ${rangeText(fp.range!)} to ${target}`);
    if (fp.toPort)
      this.fact(
        fp.toPort.span,
        fp.protocol.value,
        to,
        `forward target: ${fp.protocol.value.toUpperCase()} ${rangeText(fp.range!)} arrives at ${target}`,
        'forward',
      );
    const p = asProtocol(fp.protocol.value);
    this.forwards.push({ span: fp.span, protocol: p ?? 'any', ports: [fp.range!], toAddress: fp.toAddr?.value, toPorts: to, kind: 'forward-port' });
  }

  private richRules(r: RichRule): FirewallRule[] {
    const action: FirewallAction =
      r.action === 'accept'
        ? r.limit
          ? 'limit'
          : 'accept'
        : r.action === 'reject'
          ? 'reject'
          : r.action === 'drop'
            ? 'drop'
            : r.action === 'mark'
              ? 'other'
              : 'log';
    const verb =
      { accept: r.limit ? 'allows (rate-limited)' : 'allows', limit: 'allows (rate-limited)', reject: 'rejects', drop: 'drops', other: 'marks', log: 'logs' }[
        action as string
      ] ?? 'matches';
    const extra: Partial<FirewallRule> = { family: r.family ?? 'both', source: r.source ?? this.zoneSource, note: 'rich rule' };
    if (r.destination) extra.destination = r.destination;
    const unmodelled = [...r.unmodelled, ...(r.limit ? ['rate limit'] : [])];
    if (unmodelled.length > 0) extra.unmodelled = unmodelled;
    const suffix = r.source ? ` from ${r.source}` : '';
    const out: FirewallRule[] = [];
    for (const s of r.services) pushAll(out, this.serviceRules(s, verb, action, extra, suffix));
    for (const p of r.ports) {
      this.fact(p.port.span, p.protocol.value, p.range!, `${verb} ${p.protocol.value.toUpperCase()} ${rangeText(p.range!)} inbound${suffix}`);
      const x = this.rule(p.port.span, p.protocol.value, p.range, action, extra);
      if (x) out.push(x);
    }
    for (const p of r.sourcePorts) {
      this.fact(p.port.span, p.protocol.value, p.range!, `${verb} ${p.protocol.value.toUpperCase()} from source port ${rangeText(p.range!)} inbound${suffix}`);
      const x = this.rule(p.port.span, p.protocol.value, undefined, action, {
        ...extra,
        note: `rich rule; source port ${rangeText(p.range!)}`,
        sourcePorts: [p.range!],
      });
      if (x) out.push(x);
    }
    for (const fp of r.forwardPorts) this.forward(fp);
    if (r.services.length + r.ports.length + r.sourcePorts.length + r.forwardPorts.length === 0) {
      // A <protocol> we keep as 'any' (vrrp, icmp, ...): the rule does not match every protocol.
      const protocolCond = r.protocols.map((x) => `protocol ${x}`);
      const all = [...(extra.unmodelled ?? []), ...protocolCond];
      const x = this.rule(r.span, undefined, undefined, action, {
        ...extra,
        note: r.protocols.length ? `rich rule; protocol ${r.protocols.join(',')}` : 'rich rule',
        ...(all.length ? { unmodelled: all } : {}),
      });
      if (x) out.push(x);
    }
    return out;
  }

  /**
   * Packet order in firewalld's zone chains: rich rules with priority < 0, then log, deny and allow
   * (services, ports and accepting rich rules at priority 0), then rich rules with priority > 0.
   */
  inputRules(): FirewallRule[] {
    const zone = this.zone;
    const byPriority = (a: RichRule, b: RichRule) => a.priority - b.priority;
    const pre = zone.rules.filter((r) => r.priority < 0).sort(byPriority);
    const post = zone.rules.filter((r) => r.priority > 0).sort(byPriority);
    const mid = zone.rules.filter((r) => r.priority === 0);
    const inputRules: FirewallRule[] = [];
    for (const r of pre) pushAll(inputRules, this.richRules(r));
    for (const r of mid.filter((x) => x.action !== 'accept')) pushAll(inputRules, this.richRules(r));
    for (const s of zone.services) pushAll(inputRules, this.serviceRules(s, 'allows', 'accept', {}, ''));
    for (const p of zone.ports) {
      this.fact(p.port.span, p.protocol.value, p.range!, `allows ${p.protocol.value.toUpperCase()} ${rangeText(p.range!)} inbound`);
      const r = this.rule(p.port.span, p.protocol.value, p.range, 'accept');
      if (r) inputRules.push(r);
    }
    for (const p of zone.sourcePorts) {
      this.fact(p.port.span, p.protocol.value, p.range!, `allows ${p.protocol.value.toUpperCase()} from source port ${rangeText(p.range!)} inbound`);
      const r = this.rule(p.port.span, p.protocol.value, undefined, 'accept', { note: `source port ${rangeText(p.range!)}`, sourcePorts: [p.range!] });
      if (r) inputRules.push(r);
    }
    for (const fp of zone.forwardPorts) this.forward(fp);
    for (const r of mid.filter((x) => x.action === 'accept')) pushAll(inputRules, this.richRules(r));
    for (const r of post) pushAll(inputRules, this.richRules(r));
    return inputRules;
  }
}

/** A service destination splits the rule per family it names (firewalld adds it for those families only). */
function perServiceFamily(d: ServiceDestination, x: Partial<FirewallRule>): Partial<FirewallRule>[] {
  if (!d || (!d.ipv4 && !d.ipv6)) return [x];
  const fams = (['ipv4', 'ipv6'] as const).filter((f) => d[f] && (x.family === undefined || x.family === 'both' || x.family === f));
  return fams.map((f) => ({ ...x, family: f, destination: x.destination ?? d[f] }));
}

// ---------------------------------------------------------------------------------------------
// The format modules

const ZONE_PATH = /(^|\/)firewalld\/zones\/[^/]+\.xml$/;
const SERVICE_PATH = /(^|\/)firewalld\/services\/[^/]+\.xml$/;
const CONFIG_PATH = /(^|\/)firewalld\.conf$/;

/** What a zone file pulls in: the host's own service definitions and firewalld.conf. */
function zoneIncludes(): IncludeRef[] {
  const span = { start: 0, end: 0 };
  return [
    { span, pattern: '/etc/firewalld/services/*.xml', relativeTo: '/etc/firewalld', context: 'service' },
    { span, pattern: '../services/*.xml', relativeTo: 'including-file-dir', context: 'service' },
    { span, pattern: '/etc/firewalld/firewalld.conf', relativeTo: '/etc/firewalld', context: 'config' },
    { span, pattern: '../firewalld.conf', relativeTo: 'including-file-dir', context: 'config' },
  ];
}

export function createFirewalldModules(stock: FirewalldServiceData, serviceToPort: ServiceLookup): FormatModule[] {
  const noWorkspace = serviceResolver(new Map(), stock, serviceToPort);

  function parseService(text: string, file: string): FileParse {
    const { service, findings } = parseServiceSyntax(text, file, serviceToPort);
    const facts: PortFact[] = [];
    const add = (p: PortEntry, what: string) => {
      const proto = asProtocol(p.protocol.value);
      if (proto && p.range)
        facts.push({
          role: 'firewall',
          file,
          span: p.port.span,
          protocol: proto,
          port: p.range.from,
          portEnd: p.range.to,
          program: 'firewalld',
          context: `service ${service.name}`,
          detail: `service ${service.name} ${what} ${proto.toUpperCase()} ${rangeText(p.range)} (it opens where a zone lists the service)`,
        });
    };
    for (const p of service.ports) add(p, 'covers');
    for (const p of service.sourcePorts) add(p, 'covers source port');
    return { format: 'firewalld-service', file, facts, findings, includes: [], extra: { kind: 'service', service } satisfies FirewalldExtra };
  }

  function parseConfig(text: string, file: string): FileParse {
    return {
      format: 'firewalld-config',
      file,
      facts: [],
      findings: [],
      includes: [],
      extra: { kind: 'config', ...parseConfigSyntax(text) } satisfies FirewalldExtra,
    };
  }

  function parseZone(text: string, file: string, context?: string): FileParse {
    if (context === 'service') return parseService(text, file);
    if (context === 'config') return parseConfig(text, file);
    const { zone, findings } = parseZoneSyntax(text, file, serviceToPort);
    const result = evaluateZone(zone, file, noWorkspace, { context: `zone ${zone.name}`, reportUnknownServices: false });
    return {
      format: 'firewalld-zone',
      file,
      facts: result.facts,
      findings,
      includes: zoneIncludes(),
      firewall: result.firewall,
      extra: { kind: 'zone', zone } satisfies FirewalldExtra,
    };
  }

  function linkZone(instance: InstanceInput): InstanceOutput {
    const root = instance.root.extra as FirewalldExtra | undefined;
    if (!root || root.kind !== 'zone') return { facts: instance.root.facts, findings: instance.root.findings };
    const workspace = new Map<string, ServiceSyntax>();
    let defaultZone: string | undefined;
    for (const f of instance.files.slice(1)) {
      const x = f.extra as FirewalldExtra | undefined;
      if (x?.kind === 'service' && !workspace.has(x.service.name)) workspace.set(x.service.name, x.service);
      if (x?.kind === 'config') defaultZone ??= x.defaultZone?.value;
    }
    // firewalld.conf's DefaultZone, else firewalld's own default, public.
    const isDefault = (defaultZone ?? 'public') === root.zone.name;
    const result = evaluateZone(root.zone, instance.root.file, serviceResolver(workspace, stock, serviceToPort), {
      context: `zone ${root.zone.name}${isDefault ? ' (the default zone)' : ''}`,
      reportUnknownServices: root.zone.valid,
      knownServices: [...Object.keys(stock.services), ...workspace.keys()],
    });
    // A zone is active when it is the default zone (interfaces and sources bind others at run time).
    const zone = { name: root.zone.name, sources: root.zone.sources, interfaces: root.zone.interfaces, isDefault };
    const firewall = isDefault ? { ...result.firewall, enabled: true, zone } : { ...result.firewall, zone };
    return { facts: result.facts, findings: [...instance.root.findings, ...result.findings], firewall };
  }

  return [
    {
      id: 'firewalld-zone',
      writer: firewalldWriter,
      matchesPath: (p) => ZONE_PATH.test(p),
      matchesContent: (t) => /^\s*(<\?xml[^>]*>\s*)?<zone[\s>]/.test(t),
      parse: parseZone,
      link: linkZone,
    },
    {
      id: 'firewalld-service',
      matchesPath: (p) => SERVICE_PATH.test(p),
      matchesContent: (t) => /^\s*(<\?xml[^>]*>\s*)?<service[\s>]/.test(t),
      parse: parseService,
    },
    { id: 'firewalld-config', matchesPath: (p) => CONFIG_PATH.test(p), parse: parseConfig },
  ];
}
