/**
 * systemd-resolved (`resolved.conf`, `resolved.conf.d/*.conf`): the DNS stub listeners it opens,
 * read the way systemd 252 reads them (resolved-conf.c, resolved-dns-stub.c):
 * - `DNSStubListener=` yes (the default) | no | udp | tcp: the stub on 127.0.0.53:53 and the proxy
 *   stub on 127.0.0.54:53, with SO_REUSEADDR (`reuseAddr` on the fact); the stub on 127.0.0.53 is also
 *   bound to the loopback device (SO_BINDTODEVICE lo), the proxy stub is not. When one of them cannot
 *   bind, resolved closes all four and carries on without them ("Turning off local DNS stub support");
 * - `DNSStubListenerExtra=[udp:|tcp:]ADDRESS[:PORT]` (IPv6 in brackets when a port follows), one per
 *   assignment, port 53 by default; an empty assignment clears the list. Each socket has SO_REUSEADDR
 *   and IP_FREEBIND, no device and no IPV6_V6ONLY; one that cannot bind is logged and left out.
 * The main file is read first, then the drop-ins of resolved.conf.d/ in file-name order; the last
 * assignment wins. resolved never refuses its configuration: a value it cannot parse is logged and
 * ignored, so such lines get a warning, not an error.
 * A stand-alone drop-in (no resolved.conf in the workspace) says only what it writes: the default
 * stubs are modelled only where the main file is, so several drop-ins never stand for several resolveds.
 */
import * as path from 'path';
import { formatHostPort, parseIp } from '../../core/address';
import type { FileParse, Finding, FormatModule, InstanceInput, InstanceOutput, IpFamily, PortFact, Protocol, Span } from '../../core/types';
import { parseIni, type IniAssignment } from '../systemd/ini';
import { FALSE_WORDS, ignoredLine, inetPtonV4, TRUE_WORDS } from '../systemd/values';

export const RESOLVED_PROGRAM = 'systemd-resolved';

type StubMode = 'yes' | 'no' | 'udp' | 'tcp';

interface StubSetting {
  mode: StubMode;
  span: Span;
  file: string;
}

interface ExtraListener {
  protocols: Protocol[];
  family: IpFamily;
  /** undefined: the family's wildcard. */
  address?: string;
  port: number;
  /** The port as written, or the whole value when the port is the default 53. */
  span: Span;
  file: string;
  text: string;
}

/** One assignment of the stub settings, in the order resolved reads them. */
type Setting = { kind: 'mode'; setting: StubSetting } | { kind: 'extra'; extra: ExtraListener } | { kind: 'reset' };

export interface ResolvedExtra {
  settings: Setting[];
  /** Where the [Resolve] section starts (the span implicit stubs point at). */
  sectionSpan?: Span;
  /** The file is resolved's configuration: it sits in a systemd/ directory or has a [Resolve] section. */
  isResolvedConfig: boolean;
}

/** dns_stub_listener_mode_from_string(): a boolean, or udp / tcp. */
function stubMode(value: string): StubMode | undefined {
  const v = value.toLowerCase();
  if (TRUE_WORDS.has(v)) return 'yes';
  if (FALSE_WORDS.has(v)) return 'no';
  if (value === 'udp' || value === 'tcp') return value;
  return undefined;
}

/** inet_pton(): IPv4 only as a dotted quad of decimal numbers. */
function ipv4(text: string): ParsedV4 | undefined {
  const v4 = inetPtonV4(text);
  return v4 && { family: 'ipv4', address: v4.address };
}

interface ParsedV4 {
  family: IpFamily;
  address?: string;
}

function ipv6(text: string): ParsedV4 | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(':')) return undefined;
  const p = parseIp(text);
  return p?.family === 'ipv6' ? p : undefined;
}

/** parse_ip_port(): 1-65535 in decimal. */
function ipPort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * in_addr_port_ifindex_name_from_string_auto() without interface or server name: "ADDR",
 * "ADDR:PORT" (IPv4), "IPV6" or "[IPV6]:PORT". A string resolved refuses gives a finding.
 */
function readExtra(a: IniAssignment, file: string, findings: Finding[]): ExtraListener | undefined {
  let s = a.value;
  let skip = 0;
  let protocols: Protocol[] = ['udp', 'tcp'];
  if (s.startsWith('udp:') || s.startsWith('tcp:')) {
    protocols = [s.slice(0, 3) as Protocol];
    s = s.slice(4);
    skip = 4;
  }
  const at = (from: number, length: number): Span =>
    a.plain ? { start: a.valueSpan.start + skip + from, end: a.valueSpan.start + skip + from + length } : a.valueSpan;
  const refuse = (span: Span, message: string, code: 'syntax' | 'invalid-port' = 'syntax') => {
    findings.push(ignoredLine(file, span, code, `${message}: systemd-resolved ignores this DNSStubListenerExtra.`));
    return undefined;
  };
  if (s.includes('#') || s.includes('%')) return refuse(a.valueSpan, 'An interface (%) or server name (#) is not accepted here');
  const colon = s.lastIndexOf(':');
  let addr: ParsedV4 | undefined;
  let port = 53;
  let portSpan: Span | undefined;
  const badPort = (text: string, from: number) =>
    refuse(text === '' ? a.valueSpan : at(from, text.length), `Bad port "${text}" (resolved accepts 1-65535)`, 'invalid-port');
  if (colon < 0) {
    addr = ipv4(s);
  } else if (s.startsWith('[')) {
    if (s[colon - 1] !== ']') return refuse(a.valueSpan, `"${s}" is not an address: write [IPv6]:PORT`);
    const p = ipPort(s.slice(colon + 1));
    if (p === undefined) return badPort(s.slice(colon + 1), colon + 1);
    port = p;
    portSpan = at(colon + 1, s.length - colon - 1);
    addr = ipv6(s.slice(1, colon - 1));
  } else {
    addr = ipv6(s);
    if (!addr) {
      addr = ipv4(s.slice(0, colon));
      if (!addr) return refuse(a.valueSpan, `"${s}" is not an IP address`);
      const p = ipPort(s.slice(colon + 1));
      if (p === undefined) return badPort(s.slice(colon + 1), colon + 1);
      port = p;
      portSpan = at(colon + 1, s.length - colon - 1);
    }
  }
  if (!addr) return refuse(a.valueSpan, `"${s}" is not an IP address`);
  return { protocols, family: addr.family, address: addr.address, port, span: portSpan ?? a.valueSpan, file, text: a.value };
}

function parseResolved(text: string, file: string): FileParse {
  const ini = parseIni(text);
  const findings: Finding[] = [];
  const settings: Setting[] = [];
  for (const a of ini.assignments) {
    if (a.section !== 'Resolve') continue;
    if (a.key === 'DNSStubListener') {
      const mode = stubMode(a.value);
      if (mode === undefined) {
        findings.push(
          ignoredLine(file, a.valueSpan, 'syntax', `Bad DNSStubListener "${a.value}": resolved accepts yes, no, udp or tcp, and ignores this line.`),
        );
        continue;
      }
      settings.push({ kind: 'mode', setting: { mode, span: a.valueSpan, file } });
    } else if (a.key === 'DNSStubListenerExtra') {
      if (a.value === '') {
        settings.push({ kind: 'reset' });
        continue;
      }
      const extra = readExtra(a, file, findings);
      if (extra) settings.push({ kind: 'extra', extra });
    }
  }
  const section = ini.sections.find((s) => s.name === 'Resolve');
  const isResolvedConfig = !!section || path.posix.basename(path.posix.dirname(file)) === 'systemd' || isDropIn(file);
  const extra: ResolvedExtra = { settings, sectionSpan: section?.span, isResolvedConfig };
  // The drop-ins of resolved.conf.d/ next to the main file, read after it.
  const includes = isDropIn(file) ? [] : [{ span: { start: 0, end: 0 }, pattern: 'resolved.conf.d/*.conf', relativeTo: 'including-file-dir' }];
  return { format: 'resolved', file, facts: [], findings, includes, extra };
}

function isDropIn(file: string): boolean {
  return /(^|\/)resolved\.conf\.d\/[^/]+\.conf$/.test(file);
}

const STUBS = ['127.0.0.53', '127.0.0.54'];

function link(instance: InstanceInput): InstanceOutput {
  const findings = instance.files.flatMap((f) => f.findings);
  const root = instance.root;
  const rootExtra = root.extra as ResolvedExtra | undefined;
  if (!rootExtra?.isResolvedConfig) return { facts: [], findings };
  const standaloneDropIn = isDropIn(root.file);
  // The main file first, then the drop-ins in file-name order.
  const dropIns = instance.files.filter((f) => f !== root).sort((a, b) => (path.posix.basename(a.file) < path.posix.basename(b.file) ? -1 : 1));
  let mode: StubSetting | undefined;
  let extras: ExtraListener[] = [];
  for (const f of [root, ...dropIns]) {
    for (const s of (f.extra as ResolvedExtra | undefined)?.settings ?? []) {
      if (s.kind === 'mode') mode = s.setting;
      else if (s.kind === 'reset') extras = [];
      else if (
        !extras.some(
          (e) => e.family === s.extra.family && e.address === s.extra.address && e.port === s.extra.port && e.protocols.join() === s.extra.protocols.join(),
        )
      )
        extras.push(s.extra);
    }
  }
  const facts: PortFact[] = [];
  // resolved-dns-stub.c (set_dns_stub_common_socket_options): SO_REUSEADDR on every stub socket, main and extra.
  // Neither sets IPV6_V6ONLY: an extra on [::] follows net.ipv6.bindv6only (0: it takes IPv4 too), as v6only undefined says.
  const base = { role: 'listen' as const, program: RESOLVED_PROGRAM, instance: root.file, reuseAddr: true };
  if (!standaloneDropIn || mode) {
    const m = mode?.mode ?? 'yes';
    const protocols: Protocol[] = m === 'yes' ? ['udp', 'tcp'] : m === 'no' ? [] : [m];
    const span = mode?.span ?? rootExtra.sectionSpan ?? { start: 0, end: 0 };
    const file = mode?.file ?? root.file;
    for (const address of STUBS) {
      for (const protocol of protocols) {
        facts.push({
          ...base,
          file,
          span,
          protocol,
          port: 53,
          portEnd: 53,
          family: 'ipv4',
          address,
          context: address === STUBS[0] ? 'DNS stub listener' : 'DNS proxy stub listener',
          implicit: mode ? undefined : true,
          detail: `systemd-resolved listens on ${address}:53/${protocol} (${address === STUBS[0] ? 'its DNS stub' : 'its DNS proxy stub'}${mode ? '' : ': DNSStubListener=yes is the default'})`,
        });
      }
    }
  }
  for (const e of extras) {
    for (const protocol of e.protocols) {
      facts.push({
        ...base,
        file: e.file,
        span: e.span,
        protocol,
        port: e.port,
        portEnd: e.port,
        family: e.family,
        address: e.address,
        context: `DNSStubListenerExtra=${e.text}`,
        detail: `systemd-resolved listens on ${formatHostPort(e.family, e.address, e.port)}/${protocol} (extra DNS stub listener)`,
      });
    }
  }
  return { facts, findings };
}

export function createResolvedModule(): FormatModule {
  return {
    id: 'resolved',
    matchesPath: (p) => /(^|\/)resolved\.conf$/.test(p) || isDropIn(p),
    matchesContent: (text) =>
      /^[^\S\n]*\[Resolve\]\s*$/m.test(text) && /^[^\S\n]*(DNS|FallbackDNS|Domains|DNSStubListener|DNSSEC|LLMNR|MulticastDNS)\s*=/m.test(text),
    parse: (text, file) => parseResolved(text, file),
    link,
    isFragment: isDropIn,
  };
}
