/**
 * Podman quadlet `*.container` units (podman-systemd.unit(5), podman 4.3+): `PublishPort=` in the
 * [Container] section, in `podman run -p` syntax `[[IP:][HOST_PORT]:]CONTAINER_PORT[/PROTOCOL]`
 * (ranges on both sides, IPv6 in brackets), and `Network=host`, under which nothing is published
 * (the container binds the host's ports itself). A published port without a host IP is bound on
 * 0.0.0.0 and [::] by podman, as Docker does; one without a host port gets a random port (nothing
 * to judge). Options podman refuses make quadlet generate no unit: those are errors.
 * A `*.container` file without a [Container] section is not claimed as one.
 */
import { formatHostPort, parseIp } from '../../core/address';
import type { FileParse, Finding, FormatModule, InstanceInput, InstanceOutput, IpFamily, PortFact, Protocol, Span } from '../../core/types';
import { parseIni, type IniAssignment } from '../systemd/ini';

export const PODMAN_PROGRAM = 'podman';

interface Range {
  from: number;
  to: number;
  span: Span;
}

interface Publish {
  host?: { family?: IpFamily; address?: string };
  published?: Range;
  target: Range;
  protocol: Protocol;
}

function err(file: string, span: Span, message: string): Finding {
  return { file, span, severity: 'error', code: 'invalid-port', message };
}

function readRange(text: string, at: number, a: IniAssignment): Range | string {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return `"${text}" is not a port or range`;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || from > 65535) return `port ${from < 1 ? from : Math.max(from, to)} is outside 1-65535`;
  if (to < from) return `range ${text} runs backwards`;
  const span = a.plain ? { start: a.valueSpan.start + at, end: a.valueSpan.start + at + text.length } : a.valueSpan;
  return { from, to, span };
}

function readPublish(a: IniAssignment, file: string, findings: Finding[]): Publish | undefined {
  let s = a.value;
  let protocol: Protocol = 'tcp';
  const slash = s.lastIndexOf('/');
  if (slash >= 0) {
    const p = s.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp' && p !== 'sctp')
      return void findings.push(err(file, a.valueSpan, `PublishPort=${a.value}: unknown protocol "${p}" (podman accepts tcp, udp, sctp).`));
    protocol = p;
    s = s.slice(0, slash);
  }
  let host: Publish['host'];
  let rest = s;
  let off = 0;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    const ip = close > 0 ? parseIp(s.slice(1, close)) : undefined;
    if (!ip || s[close + 1] !== ':')
      return void findings.push(err(file, a.valueSpan, `PublishPort=${a.value}: "${s.slice(0, close + 1)}" is not an IP address.`));
    host = ip;
    rest = s.slice(close + 2);
    off = close + 2;
  }
  const parts = rest.split(':');
  if (parts.length > 3 || (host && parts.length > 2))
    return void findings.push(err(file, a.valueSpan, `PublishPort=${a.value}: write [[IP:][HOST_PORT]:]CONTAINER_PORT.`));
  if (parts.length === 3) {
    const ip = parseIp(parts[0]);
    if (!ip || ip.family !== 'ipv4') return void findings.push(err(file, a.valueSpan, `PublishPort=${a.value}: "${parts[0]}" is not an IP address.`));
    host = ip;
    off += parts[0].length + 1;
    parts.shift();
  }
  const targetText = parts[parts.length - 1];
  const publishedText = parts.length === 2 ? parts[0] : '';
  let published: Range | undefined;
  if (publishedText !== '') {
    const r = readRange(publishedText, off, a);
    if (typeof r === 'string') return void findings.push(err(file, a.valueSpan, `PublishPort=${a.value}: ${r}.`));
    published = r;
  }
  const target = readRange(targetText, off + (parts.length === 2 ? publishedText.length + 1 : 0), a);
  if (typeof target === 'string') return void findings.push(err(file, a.valueSpan, `PublishPort=${a.value}: ${target}.`));
  if (published && published.to - published.from !== target.to - target.from && target.from !== target.to)
    return void findings.push(err(file, a.valueSpan, `PublishPort=${a.value}: the host and container ranges differ in length.`));
  return { host, published, target, protocol };
}

function parseQuadlet(text: string, file: string): FileParse {
  const ini = parseIni(text);
  const findings: Finding[] = [];
  const facts: PortFact[] = [];
  if (!ini.sections.some((s) => s.name === 'Container')) return { format: 'quadlet', file, facts, findings, includes: [] };
  const inContainer = ini.assignments.filter((a) => a.section === 'Container');
  const hostNetwork = inContainer.some((a) => a.key === 'Network' && a.value === 'host');
  const name = inContainer.find((a) => a.key === 'ContainerName')?.value ?? file.replace(/^.*\//, '').replace(/\.container$/, '');
  const base = { program: PODMAN_PROGRAM, instance: file, context: `container ${name}` };
  for (const a of inContainer) {
    if (a.key !== 'PublishPort') continue;
    const p = readPublish(a, file, findings);
    if (!p) continue;
    const target = `${name}:${p.target.from === p.target.to ? p.target.from : `${p.target.from}-${p.target.to}`}/${p.protocol}`;
    if (p.published && !hostNetwork) {
      const pub = p.published;
      const binds: { family?: IpFamily; address?: string }[] = p.host ? [p.host] : [{ family: 'ipv4' }, { family: 'ipv6' }];
      for (const b of binds) {
        facts.push({
          ...base,
          role: 'publish',
          file,
          span: pub.span,
          protocol: p.protocol,
          port: pub.from,
          portEnd: pub.to,
          family: b.family,
          address: b.address,
          v6only: b.family === 'ipv6' ? true : undefined,
          oneOf: (p.target.from === p.target.to && pub.to !== pub.from) || undefined,
          detail: `podman publishes ${formatHostPort(b.family, b.address, pub.from, pub.to)} → ${target}`,
        });
      }
    }
    facts.push({
      ...base,
      role: 'container',
      file,
      span: p.target.span,
      protocol: p.protocol,
      port: p.target.from,
      portEnd: p.target.to,
      detail: hostNetwork
        ? `container port ${target}: Network=host publishes nothing (the container binds the host's ports itself)`
        : `container port ${target}${p.published ? '' : ', published on a random host port'}`,
    });
  }
  return { format: 'quadlet', file, facts, findings, includes: [] };
}

function link(instance: InstanceInput): InstanceOutput {
  return { facts: instance.files.flatMap((f) => f.facts), findings: instance.files.flatMap((f) => f.findings) };
}

export function createQuadletModule(): FormatModule {
  return {
    id: 'quadlet',
    matchesPath: (p) => /(^|\/)[^/]+\.container$/.test(p),
    matchesContent: (text) => /^[^\S\n]*\[Container\]\s*$/m.test(text) && /^[^\S\n]*Image\s*=/m.test(text),
    parse: parseQuadlet,
    link,
  };
}
