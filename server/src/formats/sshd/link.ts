/**
 * sshd's linker: the files of one sshd (a root and what it includes) become its binds, every
 * ListenAddress x Port with the defaults sshd fills in and the AddressFamily it applies.
 */
import { pushAll } from '../../core/arrays';
import { formatHostPort, type ParsedAddress } from '../../core/address';
import type { FileParse, Finding, InstanceInput, InstanceOutput, IpFamily, PortFact, Span, IncludeRef } from '../../core/types';
import { err, type SshdExtra, type SshdListen, type SshdPort } from './parse';

/** The AddressFamily sshd applies: the first one it reads, Include files read where they are included. */
function effectiveAddressFamily(instance: InstanceInput): SshdExtra['addressFamily'] {
  const targets = new Map<IncludeRef, FileParse[]>();
  for (const e of instance.edges) targets.set(e.ref, [...(targets.get(e.ref) ?? []), e.to]);
  const seen = new Set<FileParse>();
  const visit = (f: FileParse): SshdExtra['addressFamily'] => {
    if (seen.has(f)) return undefined;
    seen.add(f);
    const x = f.extra as SshdExtra | undefined;
    const at = x?.addressFamily ? x.addressFamilyAt! : Infinity;
    for (const ref of f.includes) {
      if (ref.span.start > at) break;
      for (const to of targets.get(ref) ?? []) {
        const found = visit(to);
        if (found) return found;
      }
    }
    return x?.addressFamily;
  };
  return visit(instance.root);
}

/**
 * What getaddrinfo() answers for the host under AddressFamily. glibc reads an /etc/hosts line
 * for ::1 as 127.0.0.1 when asked for IPv4 only, so a loopback name keeps an IPv4 answer.
 */
function familyAnswers(l: SshdListen, addressFamily: SshdExtra['addressFamily']): ParsedAddress[] {
  if (addressFamily !== 'inet' || !l.byName) return l.addresses;
  const mapped = l.addresses.map((a) => (a.family === 'ipv6' && a.address === '::1' ? { family: 'ipv4' as const, address: '127.0.0.1' } : a));
  return mapped.filter((a, i) => mapped.findIndex((b) => b.family === a.family && b.address === a.address) === i);
}

/** The binds of one sshd: every ListenAddress x Port, defaults filled in as sshd fills them. */
export function linkSshd(instance: InstanceInput, fragmentOnly: boolean): InstanceOutput {
  const ports: SshdPort[] = [];
  const listens: SshdListen[] = [];
  for (const f of instance.files) {
    const x = f.extra as SshdExtra | undefined;
    if (!x) continue;
    pushAll(ports, x.ports);
    pushAll(listens, x.listens);
  }
  const addressFamily = effectiveAddressFamily(instance);
  const facts: PortFact[] = [];
  const findings: Finding[] = instance.files.flatMap((f) => f.findings);
  for (const c of instance.cycles ?? []) {
    findings.push(
      err(
        c.from.file,
        c.ref.span,
        'syntax',
        `Include "${c.ref.pattern}" leads back to ${c.target}, which is being read: sshd refuses to start (Too many recursive configuration includes).`,
      ),
    );
  }
  const implicitPort = ports.length === 0;
  // The stock sshd_config is not in the workspace: its default port is shown at the top of the first drop-in.
  const defaultFile = (instance.root.extra as SshdExtra | undefined)?.implicit ? (instance.files[1]?.file ?? instance.root.file) : instance.root.file;
  // A stand-alone sshd_config.d fragment assumes no default port: the main config may set one.
  const effectivePorts: SshdPort[] = implicitPort
    ? fragmentOnly
      ? []
      : [{ port: 22, span: listens[0]?.hostSpan ?? { start: 0, end: 0 }, file: listens[0]?.file ?? defaultFile }]
    : ports;
  const allowed = (fam: IpFamily) => !addressFamily || addressFamily === 'any' || (addressFamily === 'inet') === (fam === 'ipv4');
  const make = (
    port: SshdPort | { port: number; span: Span; file: string },
    fam: IpFamily | undefined,
    address: string | undefined,
    context: string,
    implicit: boolean,
  ): PortFact => ({
    role: 'listen',
    file: port.file,
    span: port.span,
    protocol: 'tcp',
    port: port.port,
    portEnd: port.port,
    family: fam,
    address,
    v6only: fam === 'ipv6' ? true : undefined,
    program: 'sshd',
    instance: instance.root.file,
    context,
    implicit: implicit || undefined,
    detail: `sshd listens on ${formatHostPort(fam, address, port.port)}${implicit ? ' (default port: no Port directive)' : ''}`,
  });
  if (listens.length === 0) {
    for (const p of effectivePorts) {
      for (const fam of ['ipv4', 'ipv6'] as const) {
        if (allowed(fam)) facts.push(make(p, fam, undefined, 'sshd (no ListenAddress: all addresses)', implicitPort));
      }
    }
  }
  for (const l of listens) {
    const addresses = familyAnswers(l, addressFamily).filter((a) => allowed(a.family));
    if (l.addresses.length > 0 && addresses.length === 0) {
      const wanted = addressFamily === 'inet' ? 'IPv4' : 'IPv6';
      findings.push(
        err(
          l.file,
          l.hostSpan,
          'invalid-port',
          `"${l.hostText}" has no ${wanted} address, but AddressFamily is ${addressFamily}: sshd refuses to start (bad addr or host).`,
        ),
      );
      continue;
    }
    const targets = l.port !== undefined ? [{ port: l.port, span: l.portSpan!, file: l.file }] : effectivePorts;
    const where = l.rdomain ? `ListenAddress ${l.hostText} rdomain ${l.rdomain}` : `ListenAddress ${l.hostText}`;
    for (const p of targets) {
      if (l.addresses.length === 0) {
        // Unresolved host name: a specific address whose family is not known until run time.
        facts.push({ ...make(p, undefined, l.hostText, where, implicitPort && l.port === undefined), detail: `sshd listens on ${l.hostText}:${p.port}` });
      }
      for (const a of addresses) facts.push(make(p, a.family, a.address, where, implicitPort && l.port === undefined));
    }
  }
  // sshd-socket-generator (Ubuntu 24.04+) writes ssh.socket's listens only when these are not sshd's stock ones.
  const stock = (!addressFamily || addressFamily === 'any') && facts.every((f) => f.port === 22 && f.address === undefined && f.family !== undefined);
  if (stock) for (const f of facts) f.sshStockListen = true;
  return { facts, findings };
}
