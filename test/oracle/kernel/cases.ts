/**
 * Cases for the kernel oracle: programs that bind ports on one host, started in order. Each case is
 * written as the config text of real programs (sshd_config, nginx.conf, docker-compose.yml); the
 * Docker side is played by a stand-in listener that binds what docker-proxy binds for each
 * published port. Deterministic: the same list on every run, each case on ports of its own.
 */

export type Protocol = 'tcp' | 'udp';

/** One published port of a compose service, as Docker reads it. */
export interface Publish {
  /** host_ip; none means Docker binds 0.0.0.0 and :: (v6-only). */
  hostIp?: string;
  from: number;
  to: number;
  /** First container port (a range of the same length when `to > from`, unless `oneTarget`). */
  target: number;
  /** A host range published to the one container port `target`: Docker takes one free port of the range. */
  oneTarget?: boolean;
  protocol: Protocol;
  /** Written in the long syntax (target/published/host_ip/protocol keys; single ports only: its target takes no range). */
  long?: boolean;
}

export interface ComposeService {
  name: string;
  ports: Publish[];
}

/** A systemd .socket unit, written as `NAME.socket`; systemd binds its sockets as one unit (all or nothing). */
export interface SocketSpec {
  name: string;
  /** ListenStream= (tcp) / ListenDatagram= (udp); no address: the PORT form, IPv6 wildcard. */
  listens: { protocol: Protocol; address?: string; port: number }[];
  bindIPv6Only?: 'default' | 'both' | 'ipv6-only';
  reusePort?: boolean;
  freeBind?: boolean;
}

/** A listening socket of the stand-in (sockets.py) and the options it sets before bind(). */
export interface StandInSocket {
  protocol: Protocol;
  family: 'ipv4' | 'ipv6';
  address: string;
  port: number;
  reuseaddr?: boolean;
  reuseport?: boolean;
  bindToDevice?: string;
  freebind?: boolean;
  /** IPV6_V6ONLY to set; absent: left alone, net.ipv6.bindv6only decides (0 in the test's namespace). */
  v6only?: boolean;
  /**
   * Sockets of one group stand or fall together: when one cannot bind, the group's sockets are closed
   * and the rest of the group is not tried; other groups go on. Absent: a group of its own.
   */
  group?: string;
}

/** systemd-resolved's stub settings, written into resolved.conf. */
export interface ResolvedSpec {
  /** DNSStubListener= (yes when absent). */
  mode?: 'yes' | 'no' | 'udp' | 'tcp';
  /** DNSStubListenerExtra= lines: [udp:|tcp:]address[:port]. */
  extras?: { protocol?: Protocol; address: string; port?: number }[];
}

export type Unit =
  | { kind: 'sshd'; text: string }
  | { kind: 'nginx'; text: string; blocks: NginxBlocks }
  /** `proxy`: Docker's own /usr/sbin/docker-proxy binds the publishes (fixed ports only), not the stand-in. */
  | { kind: 'compose'; services: ComposeService[]; proxy?: boolean }
  | { kind: 'socket'; text: string; spec: SocketSpec }
  | { kind: 'resolved'; text: string; spec: ResolvedSpec };

export interface KernelCase {
  id: number;
  name: string;
  /** Programs in start order; a compose file starts its services in the order written. */
  units: Unit[];
}

// ---------------------------------------------------------------------------------------------
// Config text

export interface NginxBlocks {
  /** Bodies of http server{} blocks (directives separated by '; '). */
  http?: string[];
  /** Files of server{} blocks the http block includes (`include conf.d/*.conf;`, relative to nginx.conf), name → body. */
  httpIncludes?: Record<string, string>;
  /** Bodies of stream server{} blocks. */
  stream?: string[];
}

export function nginxConf(blocks: NginxBlocks): string {
  const lines: string[] = [];
  if (blocks.stream) lines.push('load_module /usr/lib/nginx/modules/ngx_stream_module.so;');
  lines.push('worker_processes 1;', 'events {}');
  if (blocks.http || blocks.httpIncludes) {
    lines.push('http {', '    access_log off;');
    if (blocks.httpIncludes) lines.push('    include conf.d/*.conf;');
    (blocks.http ?? []).forEach((body, i) => lines.push(`    server {`, `        server_name s${i};`, ...statements(body, '        '), '    }'));
    lines.push('}');
  }
  if (blocks.stream) {
    lines.push('stream {');
    for (const body of blocks.stream) lines.push('    server {', ...statements(body, '        '), '        return "ok";', '    }');
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}

/** The files an nginx.conf of `nginxConf` includes, by path relative to it. */
export function nginxIncludedFiles(blocks: NginxBlocks): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, body] of Object.entries(blocks.httpIncludes ?? {}))
    files[`conf.d/${name}.conf`] = `server {\n    server_name ${name};\n${statements(body, '    ').join('\n')}\n}\n`;
  return files;
}

function statements(body: string, indent: string): string[] {
  return body
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => `${indent}${s};`);
}

function hostPart(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

function range(from: number, to: number): string {
  return from === to ? `${from}` : `${from}-${to}`;
}

function targetText(p: Publish): string {
  return p.oneTarget ? `${p.target}` : range(p.target, p.target + (p.to - p.from));
}

/** docker-compose.yml text, and where each service's block lies in it (for telling services apart). */
export function composeText(services: ComposeService[]): { text: string; spans: { start: number; end: number }[] } {
  let text = 'services:\n';
  const spans: { start: number; end: number }[] = [];
  for (const s of services) {
    const start = text.length;
    text += `  ${s.name}:\n    image: nginx\n    ports:\n`;
    for (const p of s.ports) {
      const target = targetText(p);
      if (p.long) {
        text += `      - target: ${target}\n        published: "${range(p.from, p.to)}"\n`;
        if (p.hostIp) text += `        host_ip: "${p.hostIp}"\n`;
        text += `        protocol: ${p.protocol}\n`;
      } else {
        const host = p.hostIp ? `${hostPart(p.hostIp)}:` : '';
        text += `      - "${host}${range(p.from, p.to)}:${target}${p.protocol === 'udp' ? '/udp' : ''}"\n`;
      }
    }
    spans.push({ start, end: text.length });
  }
  return { text, spans };
}

/** What the Docker stand-in binds for a service: each published port on each host address. */
export function dockerMappings(
  service: ComposeService,
): { protocol: Protocol; addresses: { address: string; family: 'ipv4' | 'ipv6' }[]; from: number; to: number; oneOf: boolean }[] {
  return service.ports.map((p) => ({
    protocol: p.protocol,
    addresses: (p.hostIp ? [p.hostIp] : ['0.0.0.0', '::']).map((address) => ({
      address,
      family: address.includes(':') ? ('ipv6' as const) : ('ipv4' as const),
    })),
    from: p.from,
    to: p.to,
    oneOf: !!p.oneTarget && p.to > p.from,
  }));
}

export function resolvedText(spec: ResolvedSpec): string {
  const lines = ['[Resolve]', 'DNS=192.0.2.1'];
  if (spec.mode) lines.push(`DNSStubListener=${spec.mode}`);
  for (const e of spec.extras ?? []) {
    const host = e.port === undefined ? e.address : `${hostPart(e.address)}:${e.port}`;
    lines.push(`DNSStubListenerExtra=${e.protocol ? `${e.protocol}:` : ''}${host}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The sockets systemd-resolved opens, with the options it sets before bind() (resolved-dns-stub.c,
 * systemd 252 to 257: manager_dns_stub_start, manager_dns_stub_fd, manager_dns_stub_fd_extra,
 * set_dns_stub_common_socket_options):
 * - UDP then TCP on 127.0.0.53:53, then on 127.0.0.54:53 (DNSStubListener=udp/tcp: that protocol only),
 *   each with SO_REUSEADDR, IP_PKTINFO and IP_RECVTTL; 127.0.0.53's also bound to the loopback device
 *   (socket_bind_to_ifindex(LOOPBACK_IFINDEX)) with TTL 1, the proxy stub 127.0.0.54's not. When one
 *   bind fails with EADDRINUSE resolved closes all of them (manager_dns_stub_stop) and keeps running:
 *   one group.
 * - then each DNSStubListenerExtra=, UDP then TCP, with the same common options plus IP_FREEBIND, no
 *   device and no IPV6_V6ONLY; one that fails is logged and skipped: a group of its own.
 */
export function resolvedSockets(spec: ResolvedSpec): StandInSocket[] {
  const mode = spec.mode ?? 'yes';
  const protocols: Protocol[] = mode === 'yes' ? ['udp', 'tcp'] : mode === 'no' ? [] : [mode];
  const out: StandInSocket[] = [];
  for (const address of ['127.0.0.53', '127.0.0.54'])
    for (const protocol of protocols)
      out.push({ protocol, family: 'ipv4', address, port: 53, reuseaddr: true, bindToDevice: address === '127.0.0.53' ? 'lo' : undefined, group: 'stub' });
  (spec.extras ?? []).forEach((e, i) => {
    for (const protocol of e.protocol ? [e.protocol] : (['udp', 'tcp'] as Protocol[]))
      out.push({
        protocol,
        family: e.address.includes(':') ? 'ipv6' : 'ipv4',
        address: e.address,
        port: e.port ?? 53,
        reuseaddr: true,
        freebind: true,
        group: `extra ${i} ${protocol}`,
      });
  });
  return out;
}

export function socketUnitText(spec: SocketSpec): string {
  const lines = ['[Unit]', `Description=${spec.name}`, '', '[Socket]'];
  for (const l of spec.listens) {
    const where = l.address === undefined ? `${l.port}` : `${hostPart(l.address)}:${l.port}`;
    lines.push(`${l.protocol === 'tcp' ? 'ListenStream' : 'ListenDatagram'}=${where}`);
  }
  if (spec.bindIPv6Only) lines.push(`BindIPv6Only=${spec.bindIPv6Only}`);
  if (spec.reusePort !== undefined) lines.push(`ReusePort=${spec.reusePort ? 'yes' : 'no'}`);
  if (spec.freeBind !== undefined) lines.push(`FreeBind=${spec.freeBind ? 'yes' : 'no'}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The sockets systemd binds for a .socket unit, with the options socket_address_listen() sets
 * (src/shared/socket-label.c, systemd 252 to 257): IPV6_V6ONLY only when BindIPv6Only= is not
 * `default` (both: 0, ipv6-only: 1; default leaves net.ipv6.bindv6only to decide), SO_REUSEPORT for
 * ReusePort=yes, IP_FREEBIND for FreeBind=yes, and SO_REUSEADDR always. `PORT` alone is [::]:PORT
 * (socket_address_parse). A unit whose socket cannot bind fails and closes them all: one group.
 */
export function socketUnitSockets(spec: SocketSpec): StandInSocket[] {
  return spec.listens.map((l) => {
    const family = l.address === undefined || l.address.includes(':') ? ('ipv6' as const) : ('ipv4' as const);
    const v6only = family === 'ipv6' && spec.bindIPv6Only && spec.bindIPv6Only !== 'default' ? spec.bindIPv6Only === 'ipv6-only' : undefined;
    return {
      protocol: l.protocol,
      family,
      address: l.address ?? '::',
      port: l.port,
      reuseaddr: true,
      reuseport: spec.reusePort || undefined,
      freebind: spec.freeBind || undefined,
      v6only,
      group: spec.name,
    };
  });
}

export function unitLabel(u: Unit): string {
  if (u.kind === 'resolved') return `resolved[${u.text.trim().split('\n').slice(2).join(' ') || 'defaults'}]`;
  if (u.kind === 'socket') return `${u.spec.name}.socket[${u.text.trim().split('\n').slice(4).join(' ')}]`;
  if (u.kind === 'sshd') return `sshd[${u.text.trim().replace(/\n/g, ' ⏎ ')}]`;
  if (u.kind === 'nginx') {
    const servers = (module: string, bodies: string[] | undefined) => (bodies ?? []).map((b) => `${module}{${statements(b, '').join(' ')}}`);
    const included = Object.entries(u.blocks.httpIncludes ?? {}).map(([name, b]) => `conf.d/${name}.conf:http{${statements(b, '').join(' ')}}`);
    return `nginx[${[...servers('http', u.blocks.http), ...included, ...servers('stream', u.blocks.stream)].join(' ')}]`;
  }
  return `${u.proxy ? 'docker-proxy' : 'compose'}[${u.services.map((s) => `${s.name}: ${s.ports.map((p) => (p.long ? `{published ${range(p.from, p.to)}${p.hostIp ? ` host_ip ${p.hostIp}` : ''} ${p.protocol}}` : `${p.hostIp ? `${hostPart(p.hostIp)}:` : ''}${range(p.from, p.to)}:${targetText(p)}${p.protocol === 'udp' ? '/udp' : ''}`)).join(', ')}`).join('; ')}]`;
}

// ---------------------------------------------------------------------------------------------
// Building blocks, each a function of the case's port P

type Atom = { label: string; unit: (p: number) => Unit };

const sshd = (label: string, text: (p: number) => string): Atom => ({ label, unit: (p) => ({ kind: 'sshd', text: text(p) }) });
const nginx = (label: string, blocks: (p: number) => NginxBlocks): Atom => ({ label, unit: (p) => nginxUnit(blocks(p)) });
const docker = (label: string, ports: (p: number) => Publish[]): Atom => ({
  label,
  unit: (p) => ({ kind: 'compose', services: [{ name: 'web', ports: ports(p) }] }),
});
const pub = (from: number, hostIp?: string, protocol: Protocol = 'tcp', extra: Partial<Publish> = {}): Publish => ({
  hostIp,
  from,
  to: from,
  target: protocol === 'udp' ? 53 : 80,
  protocol,
  ...extra,
});

/** TCP binds of every program: wildcard and specific, IPv4 and IPv6, v6-only and dual-stack. */
const TCP_ATOMS: Atom[] = [
  sshd('sshd all', (p) => `Port ${p}\n`),
  sshd('sshd inet', (p) => `Port ${p}\nAddressFamily inet\n`),
  sshd('sshd inet6', (p) => `AddressFamily inet6\nPort ${p}\n`),
  sshd('sshd 127.0.0.1', (p) => `ListenAddress 127.0.0.1:${p}\n`),
  sshd('sshd 127.0.0.2', (p) => `Port ${p}\nListenAddress 127.0.0.2\n`),
  sshd('sshd [::1]', (p) => `ListenAddress [::1]:${p}\n`),
  sshd('sshd ::', (p) => `ListenAddress ::\nPort ${p}\n`),
  sshd('sshd 0.0.0.0', (p) => `ListenAddress 0.0.0.0:${p}\n`),
  nginx('nginx *', (p) => ({ http: [`listen ${p}`] })),
  nginx('nginx 127.0.0.1', (p) => ({ http: [`listen 127.0.0.1:${p}`] })),
  nginx('nginx 127.0.0.2', (p) => ({ http: [`listen 127.0.0.2:${p}`] })),
  nginx('nginx [::]', (p) => ({ http: [`listen [::]:${p}`] })),
  nginx('nginx [::] dual-stack', (p) => ({ http: [`listen [::]:${p} ipv6only=off`] })),
  nginx('nginx [::1]', (p) => ({ http: [`listen [::1]:${p}`] })),
  nginx('nginx * + 127.0.0.1', (p) => ({ http: [`listen ${p}; listen 127.0.0.1:${p}`] })),
  nginx('nginx * + [::]', (p) => ({ http: [`listen ${p}`, `listen [::]:${p}`] })),
  nginx('nginx stream 127.0.0.1', (p) => ({ stream: [`listen 127.0.0.1:${p}`] })),
  docker('docker all', (p) => [pub(p)]),
  docker('docker 127.0.0.1', (p) => [pub(p, '127.0.0.1')]),
  docker('docker 127.0.0.2', (p) => [pub(p, '127.0.0.2')]),
  docker('docker 0.0.0.0', (p) => [pub(p, '0.0.0.0')]),
  docker('docker [::]', (p) => [pub(p, '::')]),
  docker('docker [::1]', (p) => [pub(p, '::1')]),
  docker('docker long 127.0.0.1', (p) => [pub(p, '127.0.0.1', 'tcp', { long: true })]),
];

/** UDP binds: nginx stream and Docker (sshd speaks TCP only). */
const UDP_ATOMS: Atom[] = [
  nginx('nginx udp *', (p) => ({ stream: [`listen ${p} udp`] })),
  nginx('nginx udp 127.0.0.1', (p) => ({ stream: [`listen 127.0.0.1:${p} udp`] })),
  nginx('nginx udp [::]', (p) => ({ stream: [`listen [::]:${p} udp`] })),
  nginx('nginx udp [::] dual-stack', (p) => ({ stream: [`listen [::]:${p} udp ipv6only=off`] })),
  docker('docker udp all', (p) => [pub(p, undefined, 'udp')]),
  docker('docker udp 127.0.0.1', (p) => [pub(p, '127.0.0.1', 'udp')]),
  docker('docker udp [::1]', (p) => [pub(p, '::1', 'udp')]),
  docker('docker udp long 127.0.0.2', (p) => [pub(p, '127.0.0.2', 'udp', { long: true })]),
];

/** TCP binds met by UDP binds of the same number. */
const TCP_BESIDE_UDP = ['sshd all', 'nginx *', 'nginx stream 127.0.0.1', 'docker all'];

export function generateCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  const add = (name: string, units: (p: number) => Unit[]) => {
    const id = cases.length;
    // Ports of their own per case (P-3 .. P+6), below every ephemeral range.
    const p = 10000 + id * 10 + 3;
    cases.push({ id, name, units: units(p) });
  };
  const pairs = (atoms: Atom[]) => {
    for (let i = 0; i < atoms.length; i++) {
      for (let j = i; j < atoms.length; j++) {
        // Alternate which one starts first.
        const [first, second] = (i + j) % 2 === 0 ? [atoms[i], atoms[j]] : [atoms[j], atoms[i]];
        add(`${first.label} then ${second.label}`, (p) => [first.unit(p), second.unit(p)]);
      }
    }
  };
  pairs(TCP_ATOMS);
  pairs(UDP_ATOMS);
  for (const u of UDP_ATOMS) {
    for (const label of TCP_BESIDE_UDP) {
      const t = TCP_ATOMS.find((a) => a.label === label)!;
      add(`${t.label} then ${u.label}`, (p) => [t.unit(p), u.unit(p)]);
    }
  }

  // Different port numbers never meet.
  add('sshd all then docker all on the next port', (p) => [sshdUnit(`Port ${p}\n`), dockerUnit([pub(p + 1)])]);
  add('nginx * then nginx * on the next port', (p) => [nginxUnit({ http: [`listen ${p}`] }), nginxUnit({ http: [`listen ${p + 1}`] })]);

  // Defaults: sshd without Port binds 22 everywhere; an http server without listen binds *:80.
  add('sshd defaults then docker 127.0.0.1:22', () => [sshdUnit('# defaults\n'), dockerUnit([pub(22, '127.0.0.1')])]);
  add('sshd defaults then docker [::1]:22', () => [sshdUnit('PermitRootLogin no\n'), dockerUnit([pub(22, '::1')])]);
  add('nginx server without listen then docker 127.0.0.1:80', () => [nginxUnit({ http: ['root /srv'] }), dockerUnit([pub(80, '127.0.0.1')])]);
  add('nginx server without listen then docker [::1]:80', () => [nginxUnit({ http: ['root /srv'] }), dockerUnit([pub(80, '::1')])]);

  // localhost is 127.0.0.1 and ::1 (/etc/hosts as Debian writes it).
  add('sshd localhost then docker [::1]', (p) => [sshdUnit(`Port ${p}\nListenAddress localhost\n`), dockerUnit([pub(p, '::1')])]);
  add('sshd localhost then docker 127.0.0.2', (p) => [sshdUnit(`Port ${p}\nListenAddress localhost\n`), dockerUnit([pub(p, '127.0.0.2')])]);
  add('nginx localhost then docker 127.0.0.1', (p) => [nginxUnit({ http: [`listen localhost:${p}`] }), dockerUnit([pub(p, '127.0.0.1')])]);
  add('nginx localhost then docker [::1]', (p) => [nginxUnit({ http: [`listen localhost:${p}`] }), dockerUnit([pub(p, '::1')])]);
  add('nginx localhost then docker 127.0.0.2', (p) => [nginxUnit({ http: [`listen localhost:${p}`] }), dockerUnit([pub(p, '127.0.0.2')])]);

  // One nginx: the wildcard socket serves specific addresses of its family, unless one asks for its
  // own bind() (bind, or a socket option that implies it); http and stream bind separately.
  const oneNginx = (name: string, blocks: (p: number) => NginxBlocks) => add(`one nginx: ${name}`, (p) => [nginxUnit(blocks(p))]);
  oneNginx('* and 127.0.0.1 in one server', (p) => ({ http: [`listen ${p}; listen 127.0.0.1:${p}`] }));
  oneNginx('* and 127.0.0.1 in two servers', (p) => ({ http: [`listen ${p}`, `listen 127.0.0.1:${p}`] }));
  oneNginx('* and 127.0.0.1 bind', (p) => ({ http: [`listen ${p}`, `listen 127.0.0.1:${p} bind`] }));
  oneNginx('127.0.0.1 bind before *', (p) => ({ http: [`listen 127.0.0.1:${p} bind`, `listen ${p}`] }));
  oneNginx('* bind and 127.0.0.1', (p) => ({ http: [`listen ${p} bind`, `listen 127.0.0.1:${p}`] }));
  oneNginx('* and 127.0.0.1 backlog=100', (p) => ({ http: [`listen ${p}`, `listen 127.0.0.1:${p} backlog=100`] }));
  oneNginx('* and 127.0.0.1 rcvbuf=64k', (p) => ({ http: [`listen ${p}`, `listen 127.0.0.1:${p} rcvbuf=64k`] }));
  oneNginx('* and 127.0.0.1 so_keepalive=on', (p) => ({ http: [`listen ${p}`, `listen 127.0.0.1:${p} so_keepalive=on`] }));
  oneNginx('* and 127.0.0.1 deferred', (p) => ({ http: [`listen ${p}`, `listen 127.0.0.1:${p} deferred`] }));
  oneNginx('* and 127.0.0.1 bind (virtual hosts of 127.0.0.1)', (p) => ({ http: [`listen ${p}`, `listen 127.0.0.1:${p} bind`, `listen 127.0.0.1:${p}`] }));
  oneNginx('127.0.0.1 bind and 127.0.0.2 bind', (p) => ({ http: [`listen 127.0.0.1:${p} bind`, `listen 127.0.0.2:${p} bind`] }));
  oneNginx('127.0.0.1 and 127.0.0.2', (p) => ({ http: [`listen 127.0.0.1:${p}`, `listen 127.0.0.2:${p}`] }));
  oneNginx('*, 127.0.0.1 and 127.0.0.2 bind', (p) => ({ http: [`listen ${p}`, `listen 127.0.0.1:${p}`, `listen 127.0.0.2:${p} bind`] }));
  oneNginx('* in two servers', (p) => ({ http: [`listen ${p}`, `listen ${p}`] }));
  oneNginx('* and [::]', (p) => ({ http: [`listen ${p}; listen [::]:${p}`] }));
  oneNginx('[::] dual-stack and *', (p) => ({ http: [`listen [::]:${p} ipv6only=off`, `listen ${p}`] }));
  oneNginx('[::] dual-stack and 127.0.0.1', (p) => ({ http: [`listen [::]:${p} ipv6only=off`, `listen 127.0.0.1:${p}`] }));
  oneNginx('[::] dual-stack and [::1]', (p) => ({ http: [`listen [::]:${p} ipv6only=off`, `listen [::1]:${p}`] }));
  oneNginx('[::] and [::1]', (p) => ({ http: [`listen [::]:${p}`, `listen [::1]:${p}`] }));
  oneNginx('[::] and [::1] bind', (p) => ({ http: [`listen [::]:${p}`, `listen [::1]:${p} bind`] }));
  oneNginx('[::] and 127.0.0.1', (p) => ({ http: [`listen [::]:${p}`, `listen 127.0.0.1:${p}`] }));
  oneNginx('* and [::1]', (p) => ({ http: [`listen ${p}`, `listen [::1]:${p}`] }));
  oneNginx('http * and stream *', (p) => ({ http: [`listen ${p}`], stream: [`listen ${p}`] }));
  oneNginx('http * and stream 127.0.0.1', (p) => ({ http: [`listen ${p}`], stream: [`listen 127.0.0.1:${p}`] }));
  oneNginx('http 127.0.0.1 and stream 127.0.0.2', (p) => ({ http: [`listen 127.0.0.1:${p}`], stream: [`listen 127.0.0.2:${p}`] }));
  oneNginx('http * and stream * udp', (p) => ({ http: [`listen ${p}`], stream: [`listen ${p} udp`] }));
  oneNginx('stream * and stream 127.0.0.1', (p) => ({ stream: [`listen ${p}`, `listen 127.0.0.1:${p}`] }));
  oneNginx('stream * and stream 127.0.0.1 bind', (p) => ({ stream: [`listen ${p}`, `listen 127.0.0.1:${p} bind`] }));
  oneNginx('stream udp * and udp 127.0.0.1', (p) => ({ stream: [`listen ${p} udp`, `listen 127.0.0.1:${p} udp`] }));
  oneNginx('stream udp * and udp 127.0.0.1 bind', (p) => ({ stream: [`listen ${p} udp`, `listen 127.0.0.1:${p} udp bind`] }));
  oneNginx('stream tcp * and udp *', (p) => ({ stream: [`listen ${p}`, `listen ${p} udp`] }));
  oneNginx('stream [::] udp dual-stack and udp *', (p) => ({ stream: [`listen [::]:${p} udp ipv6only=off`, `listen ${p} udp`] }));

  // One nginx across files: servers of included files share its sockets.
  oneNginx('* here, 127.0.0.1 in an included file', (p) => ({ http: [`listen ${p}`], httpIncludes: { a: `listen 127.0.0.1:${p}` } }));
  oneNginx('* here, 127.0.0.1 bind in an included file', (p) => ({ http: [`listen ${p}`], httpIncludes: { a: `listen 127.0.0.1:${p} bind` } }));
  oneNginx('* in two included files', (p) => ({ httpIncludes: { a: `listen ${p}`, b: `listen ${p}` } }));
  oneNginx('dual-stack [::] and * in two included files', (p) => ({ httpIncludes: { a: `listen [::]:${p} ipv6only=off`, b: `listen ${p}` } }));
  add('nginx with an included * then docker 127.0.0.1', (p) => [
    nginxUnit({ http: [`listen 127.0.0.2:${p}`], httpIncludes: { a: `listen ${p}` } }),
    dockerUnit([pub(p, '127.0.0.1')]),
  ]);
  add('nginx with included files then nginx with included files', (p) => [
    nginxUnit({ httpIncludes: { a: `listen 127.0.0.1:${p}` } }),
    nginxUnit({ httpIncludes: { a: `listen 127.0.0.2:${p}`, b: `listen [::1]:${p}` } }),
  ]);

  // One sshd: it binds every ListenAddress x Port on its own and logs each bind that fails.
  const oneSshd = (name: string, text: (p: number) => string) => add(`one sshd: ${name}`, (p) => [sshdUnit(text(p))]);
  oneSshd('Port twice', (p) => `Port ${p}\nPort ${p}\n`);
  oneSshd('0.0.0.0 and 127.0.0.1', (p) => `ListenAddress 0.0.0.0:${p}\nListenAddress 127.0.0.1:${p}\n`);
  oneSshd('Port with 0.0.0.0 and 127.0.0.1', (p) => `Port ${p}\nListenAddress 0.0.0.0\nListenAddress 127.0.0.1\n`);
  oneSshd(':: and ::1', (p) => `ListenAddress [::]:${p}\nListenAddress [::1]:${p}\n`);
  oneSshd('localhost and ::1', (p) => `Port ${p}\nListenAddress localhost\nListenAddress ::1\n`);
  oneSshd(':: and 0.0.0.0', (p) => `Port ${p}\nListenAddress ::\nListenAddress 0.0.0.0\n`);
  oneSshd('127.0.0.1 and 127.0.0.2', (p) => `ListenAddress 127.0.0.1:${p}\nListenAddress 127.0.0.2:${p}\n`);
  oneSshd('two ports', (p) => `Port ${p}\nPort ${p + 1}\n`);
  oneSshd('two ports on 127.0.0.1 and one more', (p) => `Port ${p}\nPort ${p + 1}\nListenAddress 127.0.0.1\nListenAddress 127.0.0.1:${p + 2}\n`);

  // One compose project: every service is a container of its own, with its own docker-proxy binds.
  const oneCompose = (name: string, services: (p: number) => ComposeService[]) =>
    add(`one compose: ${name}`, (p) => [{ kind: 'compose', services: services(p) }]);
  oneCompose('two services on all addresses', (p) => [
    { name: 'a', ports: [pub(p)] },
    { name: 'b', ports: [pub(p)] },
  ]);
  oneCompose('two services on 127.0.0.1 and 127.0.0.2', (p) => [
    { name: 'a', ports: [pub(p, '127.0.0.1')] },
    { name: 'b', ports: [pub(p, '127.0.0.2')] },
  ]);
  oneCompose('two services on all and 127.0.0.1', (p) => [
    { name: 'a', ports: [pub(p)] },
    { name: 'b', ports: [pub(p, '127.0.0.1')] },
  ]);
  oneCompose('two services, tcp and udp', (p) => [
    { name: 'a', ports: [pub(p)] },
    { name: 'b', ports: [pub(p, undefined, 'udp')] },
  ]);
  oneCompose('one service, one port to two container ports', (p) => [{ name: 'a', ports: [pub(p), { ...pub(p), target: 81 }] }]);
  oneCompose('one service, tcp and udp', (p) => [{ name: 'a', ports: [pub(p), pub(p, undefined, 'udp')] }]);
  oneCompose('ranges that overlap in one port', (p) => [
    { name: 'a', ports: [{ ...pub(p - 2), to: p }] },
    { name: 'b', ports: [{ ...pub(p), to: p + 2 }] },
  ]);
  oneCompose('adjacent ranges', (p) => [
    { name: 'a', ports: [{ ...pub(p - 2), to: p }] },
    { name: 'b', ports: [{ ...pub(p + 1), to: p + 3 }] },
  ]);

  // Port ranges: the stand-in binds every port of a published range.
  add('docker range then sshd on its last port', (p) => [dockerUnit([{ ...pub(p - 3), to: p }]), sshdUnit(`Port ${p}\n`)]);
  add('docker range then sshd just past it', (p) => [dockerUnit([{ ...pub(p - 3), to: p - 1 }]), sshdUnit(`Port ${p}\n`)]);
  add('nginx * then docker range over it', (p) => [nginxUnit({ http: [`listen ${p}`] }), dockerUnit([{ ...pub(p - 2), to: p + 2 }])]);
  add('nginx 127.0.0.2 then docker 127.0.0.1 range over it', (p) => [
    nginxUnit({ http: [`listen 127.0.0.2:${p}`] }),
    dockerUnit([{ ...pub(p - 2, '127.0.0.1'), to: p + 2 }]),
  ]);
  add('nginx udp * then docker udp range over it', (p) => [
    nginxUnit({ stream: [`listen ${p} udp`] }),
    dockerUnit([{ ...pub(p - 1, undefined, 'udp'), to: p + 1 }]),
  ]);
  add('nginx udp * then docker tcp range over it', (p) => [nginxUnit({ stream: [`listen ${p} udp`] }), dockerUnit([{ ...pub(p - 1), to: p + 1 }])]);
  add('docker 127.0.0.1 range then docker all on its last port', (p) => [dockerUnit([{ ...pub(p - 2, '127.0.0.1'), to: p + 2 }]), dockerUnit([pub(p + 2)])]);
  add('docker long all then docker long [::1]', (p) => [
    dockerUnit([pub(p, undefined, 'tcp', { long: true })]),
    dockerUnit([pub(p, '::1', 'tcp', { long: true })]),
  ]);
  add('docker [::1] range then sshd [::]', (p) => [dockerUnit([{ ...pub(p - 1, '::1'), to: p + 1 }]), sshdUnit(`ListenAddress [::]:${p + 1}\n`)]);
  add('docker range then nginx dual-stack on the next port', (p) => [
    dockerUnit([{ ...pub(p - 3, '127.0.0.1'), to: p }]),
    nginxUnit({ http: [`listen [::]:${p + 1} ipv6only=off`] }),
  ]);

  // A host range to one container port: Docker takes the first port of the range free on every address.
  const oneOf = (from: number, to: number, hostIp?: string, protocol: Protocol = 'tcp'): Publish => ({ ...pub(from, hostIp, protocol), to, oneTarget: true });
  add('nginx * then docker one of a range over it', (p) => [nginxUnit({ http: [`listen ${p}`] }), dockerUnit([oneOf(p, p + 2)])]);
  add('docker all on two ports then docker one of those two', (p) => [dockerUnit([pub(p), pub(p + 1)]), dockerUnit([oneOf(p, p + 1)])]);
  add('sshd on three ports then docker 127.0.0.1 one of those three', (p) => [
    sshdUnit(`Port ${p}\nPort ${p + 1}\nPort ${p + 2}\n`),
    dockerUnit([oneOf(p, p + 2, '127.0.0.1')]),
  ]);
  add('sshd on two ports then docker one of three', (p) => [sshdUnit(`Port ${p}\nPort ${p + 1}\n`), dockerUnit([oneOf(p, p + 2)])]);
  add('nginx 127.0.0.2 on two ports then docker 127.0.0.1 one of those two', (p) => [
    nginxUnit({ http: [`listen 127.0.0.2:${p}; listen 127.0.0.2:${p + 1}`] }),
    dockerUnit([oneOf(p, p + 1, '127.0.0.1')]),
  ]);
  add('nginx udp on two ports then docker udp one of those two', (p) => [
    nginxUnit({ stream: [`listen ${p} udp`, `listen ${p + 1} udp`] }),
    dockerUnit([oneOf(p, p + 1, undefined, 'udp')]),
  ]);
  add('sshd inet then docker one of a range over it', (p) => [sshdUnit(`Port ${p}\nAddressFamily inet\n`), dockerUnit([oneOf(p, p + 1)])]);
  add('two services take one of one range each', (p) => [
    {
      kind: 'compose',
      services: [
        { name: 'a', ports: [oneOf(p, p + 1)] },
        { name: 'b', ports: [oneOf(p, p + 1)] },
      ],
    },
  ]);
  add('three services take one of one two-port range', (p) => [
    {
      kind: 'compose',
      services: [
        { name: 'a', ports: [oneOf(p, p + 1)] },
        { name: 'b', ports: [oneOf(p, p + 1)] },
        { name: 'c', ports: [oneOf(p, p + 1)] },
      ],
    },
  ]);
  // Starting first, the range takes its first port, which a later program may want.
  add('docker one of a range, then sshd on its first port', (p) => [dockerUnit([oneOf(p, p + 2)]), sshdUnit(`Port ${p}\n`)]);
  // Two programs that each hold part of the range leave none of it free on every address.
  add('sshd inet and sshd inet6 on the two ports, then docker one of those two', (p) => [
    sshdUnit(`Port ${p}\nAddressFamily inet\n`),
    sshdUnit(`Port ${p + 1}\nAddressFamily inet6\n`),
    dockerUnit([oneOf(p, p + 1)]),
  ]);
  // Containers of two compose projects compete for one range like services of one project.
  add('two projects take one of one two-port range each', (p) => [dockerUnit([oneOf(p, p + 1)]), dockerUnit([oneOf(p, p + 1)])]);
  add('three projects on 127.0.0.1 take one of one two-port range', (p) => [
    dockerUnit([oneOf(p, p + 1, '127.0.0.1')]),
    dockerUnit([oneOf(p, p + 1, '127.0.0.1')]),
    dockerUnit([oneOf(p, p + 1, '127.0.0.1')]),
  ]);
  add('three udp services take one of one two-port range', (p) => [
    { kind: 'compose', services: ['a', 'b', 'c'].map((name) => ({ name, ports: [oneOf(p, p + 1, undefined, 'udp')] })) },
  ]);
  add('two services on 127.0.0.1 and 127.0.0.2 take one of one two-port range', (p) => [
    {
      kind: 'compose',
      services: [
        { name: 'a', ports: [oneOf(p, p + 1, '127.0.0.1')] },
        { name: 'b', ports: [oneOf(p, p + 1, '127.0.0.2')] },
      ],
    },
  ]);
  // A fixed bind inside the range, before or after Docker.
  add('nginx on the second port, then docker one of three', (p) => [nginxUnit({ http: [`listen ${p + 1}`] }), dockerUnit([oneOf(p, p + 2)])]);
  add('docker one of two, then nginx on the second port', (p) => [dockerUnit([oneOf(p, p + 1)]), nginxUnit({ http: [`listen ${p + 1}`] })]);
  add('docker one of two, then nginx on the first port', (p) => [dockerUnit([oneOf(p, p + 1)]), nginxUnit({ http: [`listen ${p}`] })]);
  add('docker one of two on 127.0.0.1, then sshd 127.0.0.2 on the first port', (p) => [
    dockerUnit([oneOf(p, p + 1, '127.0.0.1')]),
    sshdUnit(`ListenAddress 127.0.0.2:${p}\n`),
  ]);
  add('sshd on the middle port, then two services take one of three', (p) => [
    sshdUnit(`Port ${p + 1}\n`),
    {
      kind: 'compose',
      services: [
        { name: 'a', ports: [oneOf(p, p + 2)] },
        { name: 'b', ports: [oneOf(p, p + 2)] },
      ],
    },
  ]);
  add('two services take one of three, then sshd on the middle port', (p) => [
    {
      kind: 'compose',
      services: [
        { name: 'a', ports: [oneOf(p, p + 2)] },
        { name: 'b', ports: [oneOf(p, p + 2)] },
      ],
    },
    sshdUnit(`Port ${p + 1}\n`),
  ]);
  add('nginx on the second port, then two services take one of two', (p) => [
    nginxUnit({ http: [`listen ${p + 1}`] }),
    {
      kind: 'compose',
      services: [
        { name: 'a', ports: [oneOf(p, p + 1)] },
        { name: 'b', ports: [oneOf(p, p + 1)] },
      ],
    },
  ]);
  // Ranges fully covered by two fixed binds, started before or after Docker.
  add('sshd and nginx on the two ports, then docker one of those two', (p) => [
    sshdUnit(`Port ${p}\n`),
    nginxUnit({ http: [`listen ${p + 1}`, `listen [::]:${p + 1}`] }),
    dockerUnit([oneOf(p, p + 1)]),
  ]);
  add('docker one of two, then sshd and nginx on the two ports', (p) => [
    dockerUnit([oneOf(p, p + 1)]),
    sshdUnit(`Port ${p}\n`),
    nginxUnit({ http: [`listen ${p + 1}`] }),
  ]);
  add('nginx 127.0.0.1 and docker 0.0.0.0 on the two ports, then docker 127.0.0.1 one of those two', (p) => [
    nginxUnit({ http: [`listen 127.0.0.1:${p}`] }),
    dockerUnit([pub(p + 1, '0.0.0.0')]),
    dockerUnit([oneOf(p, p + 1, '127.0.0.1')]),
  ]);
  add('docker 0.0.0.0 range over both ports, then docker [::1] one of those two', (p) => [
    dockerUnit([{ ...pub(p, '0.0.0.0'), to: p + 1 }]),
    dockerUnit([oneOf(p, p + 1, '::1')]),
  ]);
  add('nginx dual-stack [::] and sshd [::1] on the two ports, then docker 127.0.0.1 one of those two', (p) => [
    nginxUnit({ http: [`listen [::]:${p} ipv6only=off`] }),
    sshdUnit(`ListenAddress [::1]:${p + 1}\n`),
    dockerUnit([oneOf(p, p + 1, '127.0.0.1')]),
  ]);

  // Three programs: what the first holds decides for the third.
  add('nginx * + 127.0.0.1, docker 127.0.0.2, sshd 127.0.0.1', (p) => [
    nginxUnit({ http: [`listen ${p}; listen 127.0.0.1:${p}`] }),
    dockerUnit([pub(p, '127.0.0.2')]),
    sshdUnit(`ListenAddress 127.0.0.1:${p}\n`),
  ]);
  add('nginx 127.0.0.1, docker 127.0.0.2, sshd 127.0.0.3', (p) => [
    nginxUnit({ http: [`listen 127.0.0.1:${p}`] }),
    dockerUnit([pub(p, '127.0.0.2')]),
    sshdUnit(`ListenAddress 127.0.0.3:${p}\n`),
  ]);
  add('docker 127.0.0.1, sshd 127.0.0.2, nginx *', (p) => [
    dockerUnit([pub(p, '127.0.0.1')]),
    sshdUnit(`ListenAddress 127.0.0.2:${p}\n`),
    nginxUnit({ http: [`listen ${p}`] }),
  ]);
  add('sshd all, docker [::1], nginx 127.0.0.1', (p) => [sshdUnit(`Port ${p}\n`), dockerUnit([pub(p, '::1')]), nginxUnit({ http: [`listen 127.0.0.1:${p}`] })]);
  add('nginx dual-stack, sshd 127.0.0.1, docker [::1]', (p) => [
    nginxUnit({ http: [`listen [::]:${p} ipv6only=off`] }),
    sshdUnit(`ListenAddress 127.0.0.1:${p}\n`),
    dockerUnit([pub(p, '::1')]),
  ]);
  add('docker 0.0.0.0, sshd all (keeps ::), docker [::1]', (p) => [dockerUnit([pub(p, '0.0.0.0')]), sshdUnit(`Port ${p}\n`), dockerUnit([pub(p, '::1')])]);
  add('docker 0.0.0.0, sshd inet6, nginx [::]', (p) => [
    dockerUnit([pub(p, '0.0.0.0')]),
    sshdUnit(`AddressFamily inet6\nPort ${p}\n`),
    nginxUnit({ http: [`listen [::]:${p}`] }),
  ]);
  add('nginx udp *, nginx udp 127.0.0.1, docker udp 127.0.0.2', (p) => [
    nginxUnit({ stream: [`listen ${p} udp`] }),
    nginxUnit({ stream: [`listen 127.0.0.1:${p} udp`] }),
    dockerUnit([pub(p, '127.0.0.2', 'udp')]),
  ]);
  add('docker udp 127.0.0.1, nginx udp *, nginx tcp *', (p) => [
    dockerUnit([pub(p, '127.0.0.1', 'udp')]),
    nginxUnit({ stream: [`listen ${p} udp`] }),
    nginxUnit({ http: [`listen ${p}`] }),
  ]);
  add('nginx [::], nginx *, docker all', (p) => [nginxUnit({ http: [`listen [::]:${p}`] }), nginxUnit({ http: [`listen ${p}`] }), dockerUnit([pub(p)])]);
  add('sshd 127.0.0.1, sshd 127.0.0.2, sshd 0.0.0.0', (p) => [
    sshdUnit(`ListenAddress 127.0.0.1:${p}\n`),
    sshdUnit(`ListenAddress 127.0.0.2:${p}\n`),
    sshdUnit(`ListenAddress 0.0.0.0:${p}\n`),
  ]);
  add('docker [::1] and 127.0.0.1, then sshd inet, then nginx [::]', (p) => [
    dockerUnit([pub(p, '::1'), pub(p, '127.0.0.1')]),
    sshdUnit(`Port ${p}\nAddressFamily inet\n`),
    nginxUnit({ http: [`listen [::]:${p}`] }),
  ]);

  // reuseport: sockets that both ask for SO_REUSEPORT share a port across processes.
  add('nginx * reuseport then nginx * reuseport', (p) => [nginxUnit({ http: [`listen ${p} reuseport`] }), nginxUnit({ http: [`listen ${p} reuseport`] })]);
  add('nginx * reuseport then nginx *', (p) => [nginxUnit({ http: [`listen ${p} reuseport`] }), nginxUnit({ http: [`listen ${p}`] })]);
  add('nginx udp * reuseport then nginx udp * reuseport', (p) => [
    nginxUnit({ stream: [`listen ${p} udp reuseport`] }),
    nginxUnit({ stream: [`listen ${p} udp reuseport`] }),
  ]);
  add('nginx udp * reuseport then docker udp all', (p) => [nginxUnit({ stream: [`listen ${p} udp reuseport`] }), dockerUnit([pub(p, undefined, 'udp')])]);
  add('nginx * then nginx * reuseport', (p) => [nginxUnit({ http: [`listen ${p}`] }), nginxUnit({ http: [`listen ${p} reuseport`] })]);
  add('nginx * reuseport then nginx 127.0.0.1 reuseport', (p) => [
    nginxUnit({ http: [`listen ${p} reuseport`] }),
    nginxUnit({ http: [`listen 127.0.0.1:${p} reuseport`] }),
  ]);
  add('nginx [::] reuseport then nginx [::1] reuseport', (p) => [
    nginxUnit({ http: [`listen [::]:${p} reuseport`] }),
    nginxUnit({ http: [`listen [::1]:${p} reuseport`] }),
  ]);
  add('nginx stream * reuseport then nginx stream * reuseport', (p) => [
    nginxUnit({ stream: [`listen ${p} reuseport`] }),
    nginxUnit({ stream: [`listen ${p} reuseport`] }),
  ]);
  // The listen that sets socket options decides for the servers that share its address:port.
  add('nginx * reuseport and * in another server, then nginx * reuseport', (p) => [
    nginxUnit({ http: [`listen ${p} reuseport`, `listen ${p}`] }),
    nginxUnit({ http: [`listen ${p} reuseport`] }),
  ]);
  add('nginx * reuseport then sshd all', (p) => [nginxUnit({ http: [`listen ${p} reuseport`] }), sshdUnit(`Port ${p}\n`)]);
  add('nginx * reuseport then docker all', (p) => [nginxUnit({ http: [`listen ${p} reuseport`] }), dockerUnit([pub(p)])]);

  // systemd-resolved's stub listeners (127.0.0.53 and 127.0.0.54, bound to lo, SO_REUSEADDR) against a
  // DNS container published on 53, and its extra listeners.
  const resolved = (spec: ResolvedSpec): Unit => ({ kind: 'resolved', text: resolvedText(spec), spec });
  // The DNS container's publishes are bound by Docker's own docker-proxy (Debian's docker.io).
  const dns = (hostIp?: string, protocols: Protocol[] = ['udp', 'tcp']) => proxyUnit(protocols.map((pr) => ({ ...pub(53, hostIp, pr), target: 53 })));
  add('resolved defaults then docker all on 53 udp+tcp', () => [resolved({}), dns()]);
  add('docker all on 53 udp+tcp then resolved defaults', () => [dns(), resolved({})]);
  add('resolved defaults then docker 0.0.0.0:53/udp', () => [resolved({}), dns('0.0.0.0', ['udp'])]);
  add('resolved defaults then docker 0.0.0.0:53/tcp', () => [resolved({}), dns('0.0.0.0', ['tcp'])]);
  add('resolved defaults then docker 127.0.0.1:53', () => [resolved({}), dns('127.0.0.1')]);
  add('resolved defaults then docker [::]:53', () => [resolved({}), dns('::')]);
  add('resolved DNSStubListener=no then docker all on 53', () => [resolved({ mode: 'no' }), dns()]);
  add('resolved DNSStubListener=udp then docker all on 53/tcp', () => [resolved({ mode: 'udp' }), dns(undefined, ['tcp'])]);
  add('resolved DNSStubListener=tcp then docker all on 53/tcp', () => [resolved({ mode: 'tcp' }), dns(undefined, ['tcp'])]);
  add('resolved defaults then nginx udp * on 53 (both SO_REUSEADDR)', () => [resolved({}), nginxUnit({ stream: ['listen 53 udp'] })]);
  add('nginx udp * on 53 then resolved defaults', () => [nginxUnit({ stream: ['listen 53 udp'] }), resolved({})]);
  add('resolved defaults then nginx stream tcp * on 53', () => [resolved({}), nginxUnit({ stream: ['listen 53'] })]);
  add('resolved defaults then sshd on 53', () => [resolved({}), sshdUnit('Port 53\n')]);
  add('resolved extra 127.0.0.1:P then docker 127.0.0.1:P', (p) => [
    resolved({ mode: 'no', extras: [{ address: '127.0.0.1', port: p }] }),
    proxyUnit([pub(p, '127.0.0.1')]),
  ]);
  add('resolved extra udp:127.0.0.2:P then docker udp all', (p) => [
    resolved({ mode: 'no', extras: [{ protocol: 'udp', address: '127.0.0.2', port: p }] }),
    proxyUnit([pub(p, undefined, 'udp')]),
  ]);
  add('resolved extra tcp:127.0.0.2:P then docker udp all', (p) => [
    resolved({ mode: 'no', extras: [{ protocol: 'tcp', address: '127.0.0.2', port: p }] }),
    proxyUnit([pub(p, undefined, 'udp')]),
  ]);
  add('resolved extra [::1]:P then sshd all', (p) => [resolved({ mode: 'no', extras: [{ address: '::1', port: p }] }), sshdUnit(`Port ${p}\n`)]);
  add('resolved extra 127.0.0.3 (port 53) then docker all on 53/udp', () => [
    resolved({ mode: 'no', extras: [{ address: '127.0.0.3' }] }),
    dns(undefined, ['udp']),
  ]);
  add('resolved extra 127.0.0.53:53 beside its own stub', () => [resolved({ extras: [{ protocol: 'udp', address: '127.0.0.53' }] })]);
  add('resolved extra tcp:127.0.0.53:53 beside its own stub', () => [resolved({ extras: [{ protocol: 'tcp', address: '127.0.0.53' }] })]);
  add('resolved defaults then resolved extra udp:127.0.0.54', () => [
    resolved({}),
    resolved({ mode: 'no', extras: [{ protocol: 'udp', address: '127.0.0.54' }] }),
  ]);
  moreResolvedCases(add, resolved, dns);
  socketUnitCases(add);
  return cases;
}

type Add = (name: string, units: (p: number) => Unit[]) => void;

/** resolved's stubs against Docker's own docker-proxy, nginx, sshd and .socket units; what it keeps when a bind fails. */
function moreResolvedCases(add: Add, resolved: (spec: ResolvedSpec) => Unit, dns: (hostIp?: string, protocols?: Protocol[]) => Unit): void {
  add('resolved defaults then docker 127.0.0.53:53/udp', () => [resolved({}), dns('127.0.0.53', ['udp'])]);
  add('resolved defaults then docker 127.0.0.54:53/tcp', () => [resolved({}), dns('127.0.0.54', ['tcp'])]);
  add('resolved DNSStubListener=udp then docker 0.0.0.0:53/udp', () => [resolved({ mode: 'udp' }), dns('0.0.0.0', ['udp'])]);
  add('resolved DNSStubListener=tcp then docker 0.0.0.0:53/udp', () => [resolved({ mode: 'tcp' }), dns('0.0.0.0', ['udp'])]);
  add('resolved DNSStubListener=udp then docker [::]:53/udp', () => [resolved({ mode: 'udp' }), dns('::', ['udp'])]);
  add('docker 0.0.0.0:53/tcp then resolved DNSStubListener=udp', () => [dns('0.0.0.0', ['tcp']), resolved({ mode: 'udp' })]);
  add('docker 127.0.0.54:53/udp then resolved defaults', () => [dns('127.0.0.54', ['udp']), resolved({})]);
  // A stub that cannot bind turns every stub off, and resolved goes on with its extras.
  add('docker 0.0.0.0:53/udp, resolved with an extra, then docker 127.0.0.53:53/tcp', (p) => [
    dns('0.0.0.0', ['udp']),
    resolved({ extras: [{ address: '127.0.0.1', port: p }] }),
    dns('127.0.0.53', ['tcp']),
  ]);
  add('docker 127.0.0.54:53/tcp, resolved with an extra, then sshd on the extra port', (p) => [
    dns('127.0.0.54', ['tcp']),
    resolved({ extras: [{ protocol: 'tcp', address: '127.0.0.1', port: p }] }),
    sshdUnit(`ListenAddress 127.0.0.1:${p}\n`),
  ]);
  add('sshd 127.0.0.1:P, resolved with two extras (one taken), then docker on the other', (p) => [
    sshdUnit(`ListenAddress 127.0.0.1:${p}\n`),
    resolved({
      mode: 'no',
      extras: [
        { protocol: 'tcp', address: '127.0.0.1', port: p },
        { protocol: 'tcp', address: '127.0.0.2', port: p },
      ],
    }),
    proxyUnit([pub(p, '127.0.0.2')]),
  ]);
  add('resolved extra udp:[::]:P (no IPV6_V6ONLY) then docker udp 127.0.0.1', (p) => [
    resolved({ mode: 'no', extras: [{ protocol: 'udp', address: '::', port: p }] }),
    proxyUnit([pub(p, '127.0.0.1', 'udp')]),
  ]);
  add('resolved extra tcp:[::]:P then nginx 127.0.0.1', (p) => [
    resolved({ mode: 'no', extras: [{ protocol: 'tcp', address: '::', port: p }] }),
    nginxUnit({ http: [`listen 127.0.0.1:${p}`] }),
  ]);
  add('resolved extra udp:0.0.0.0:P then nginx udp 127.0.0.1 (both SO_REUSEADDR)', (p) => [
    resolved({ mode: 'no', extras: [{ protocol: 'udp', address: '0.0.0.0', port: p }] }),
    nginxUnit({ stream: [`listen 127.0.0.1:${p} udp`] }),
  ]);
  add('resolved extra 127.0.0.1:P then docker 0.0.0.0:P/udp', (p) => [
    resolved({ mode: 'no', extras: [{ address: '127.0.0.1', port: p }] }),
    proxyUnit([pub(p, '0.0.0.0', 'udp')]),
  ]);
  add('resolved extra [::1]:P then docker [::1]:P/tcp', (p) => [resolved({ mode: 'no', extras: [{ address: '::1', port: p }] }), proxyUnit([pub(p, '::1')])]);
  add('resolved defaults then web.socket ListenDatagram=53 (both SO_REUSEADDR)', () => [
    resolved({}),
    socketUnit({ name: 'web', listens: [{ protocol: 'udp', port: 53 }] }),
  ]);
  add('resolved defaults then web.socket ListenStream=53', () => [resolved({}), socketUnit({ name: 'web', listens: [{ protocol: 'tcp', port: 53 }] })]);
  add('web.socket ListenDatagram=127.0.0.53:53 then resolved defaults', () => [
    socketUnit({ name: 'web', listens: [{ protocol: 'udp', address: '127.0.0.53', port: 53 }] }),
    resolved({}),
  ]);
  add('resolved extra tcp:127.0.0.1:P then web.socket ListenStream=127.0.0.1:P', (p) => [
    resolved({ mode: 'no', extras: [{ protocol: 'tcp', address: '127.0.0.1', port: p }] }),
    socketUnit({ name: 'web', listens: [{ protocol: 'tcp', address: '127.0.0.1', port: p }] }),
  ]);
}

/** systemd .socket units against each other and the other programs. */
function socketUnitCases(add: Add): void {
  const unit = (listens: SocketSpec['listens'], more: Partial<SocketSpec> = {}, name = 'web') => socketUnit({ name, listens, ...more });
  const tcp = (port: number, address?: string) => ({ protocol: 'tcp' as const, port, address });
  const udp = (port: number, address?: string) => ({ protocol: 'udp' as const, port, address });
  for (const only of [undefined, 'default', 'both', 'ipv6-only'] as const) {
    const v6 = only ? ` BindIPv6Only=${only}` : '';
    add(`socket ListenStream=P${v6} then docker 0.0.0.0`, (p) => [unit([tcp(p)], { bindIPv6Only: only }), proxyUnit([pub(p, '0.0.0.0')])]);
    add(`socket ListenStream=P${v6} then docker [::1]`, (p) => [unit([tcp(p)], { bindIPv6Only: only }), proxyUnit([pub(p, '::1')])]);
    add(`socket ListenDatagram=P${v6} then docker udp 127.0.0.1`, (p) => [unit([udp(p)], { bindIPv6Only: only }), proxyUnit([pub(p, '127.0.0.1', 'udp')])]);
    add(`docker 0.0.0.0 then socket ListenStream=P${v6}`, (p) => [proxyUnit([pub(p, '0.0.0.0')]), unit([tcp(p)], { bindIPv6Only: only })]);
    add(`socket ListenStream=[::]:P${v6} then nginx 127.0.0.1`, (p) => [
      unit([tcp(p, '::')], { bindIPv6Only: only }),
      nginxUnit({ http: [`listen 127.0.0.1:${p}`] }),
    ]);
  }
  add('socket ListenStream=P then docker all (stand-in)', (p) => [unit([tcp(p)]), dockerUnit([pub(p)])]);
  add('socket ListenStream=P BindIPv6Only=ipv6-only then docker 0.0.0.0', (p) => [
    unit([tcp(p)], { bindIPv6Only: 'ipv6-only' }),
    dockerUnit([pub(p, '0.0.0.0')]),
  ]);
  add('socket ListenStream=127.0.0.1:P then nginx *', (p) => [unit([tcp(p, '127.0.0.1')]), nginxUnit({ http: [`listen ${p}`] })]);
  add('socket ListenStream=127.0.0.1:P then nginx 127.0.0.2', (p) => [unit([tcp(p, '127.0.0.1')]), nginxUnit({ http: [`listen 127.0.0.2:${p}`] })]);
  add('socket ListenStream=[::1]:P then nginx [::]', (p) => [unit([tcp(p, '::1')]), nginxUnit({ http: [`listen [::]:${p}`] })]);
  add('socket ListenStream=0.0.0.0:P then sshd inet6', (p) => [unit([tcp(p, '0.0.0.0')]), sshdUnit(`AddressFamily inet6\nPort ${p}\n`)]);
  add('sshd inet then socket ListenStream=P BindIPv6Only=ipv6-only', (p) => [
    sshdUnit(`Port ${p}\nAddressFamily inet\n`),
    unit([tcp(p)], { bindIPv6Only: 'ipv6-only' }),
  ]);
  add('sshd inet then socket ListenStream=P', (p) => [sshdUnit(`Port ${p}\nAddressFamily inet\n`), unit([tcp(p)])]);
  // UDP: SO_REUSEADDR on both sides shares the port; docker-proxy's UDP socket has none.
  add('socket ListenDatagram=P then nginx udp 127.0.0.1 (both SO_REUSEADDR)', (p) => [unit([udp(p)]), nginxUnit({ stream: [`listen 127.0.0.1:${p} udp`] })]);
  add('nginx udp * then socket ListenDatagram=127.0.0.1:P', (p) => [nginxUnit({ stream: [`listen ${p} udp`] }), unit([udp(p, '127.0.0.1')])]);
  add('two units ListenDatagram=127.0.0.1:P', (p) => [unit([udp(p, '127.0.0.1')]), unit([udp(p, '127.0.0.1')], {}, 'other')]);
  add('two units ListenStream=127.0.0.1:P', (p) => [unit([tcp(p, '127.0.0.1')]), unit([tcp(p, '127.0.0.1')], {}, 'other')]);
  add('docker udp all then socket ListenDatagram=127.0.0.1:P', (p) => [proxyUnit([pub(p, undefined, 'udp')]), unit([udp(p, '127.0.0.1')])]);
  add('socket ListenStream=P and ListenDatagram=P then docker udp [::1]', (p) => [unit([tcp(p), udp(p)]), proxyUnit([pub(p, '::1', 'udp')])]);
  // ReusePort=: SO_REUSEPORT on both sides (one user) shares the port, on TCP too.
  add('two units ListenStream=P ReusePort=yes', (p) => [unit([tcp(p)], { reusePort: true }), unit([tcp(p)], { reusePort: true }, 'other')]);
  add('socket ReusePort=yes then socket ReusePort=no', (p) => [unit([tcp(p)], { reusePort: true }), unit([tcp(p)], { reusePort: false }, 'other')]);
  add('socket ListenStream=0.0.0.0:P ReusePort=yes then nginx * reuseport', (p) => [
    unit([tcp(p, '0.0.0.0')], { reusePort: true }),
    nginxUnit({ http: [`listen ${p} reuseport`] }),
  ]);
  add('socket ListenDatagram=P ReusePort=yes then docker udp 127.0.0.1', (p) => [unit([udp(p)], { reusePort: true }), proxyUnit([pub(p, '127.0.0.1', 'udp')])]);
  // FreeBind=: an address no interface holds binds, and meets the wildcard like any other.
  add('socket ListenStream=192.0.2.10:P FreeBind=yes then docker 0.0.0.0', (p) => [
    unit([tcp(p, '192.0.2.10')], { freeBind: true }),
    proxyUnit([pub(p, '0.0.0.0')]),
  ]);
  add('socket ListenStream=192.0.2.10:P FreeBind=yes then docker 127.0.0.1', (p) => [
    unit([tcp(p, '192.0.2.10')], { freeBind: true }),
    proxyUnit([pub(p, '127.0.0.1')]),
  ]);
  add('socket ListenStream=127.0.0.1:P FreeBind=yes then sshd 127.0.0.1', (p) => [
    unit([tcp(p, '127.0.0.1')], { freeBind: true }),
    sshdUnit(`ListenAddress 127.0.0.1:${p}\n`),
  ]);
  // A unit that cannot bind one socket binds none: what it would have held stays free.
  add('docker 127.0.0.1, a unit on 127.0.0.2 and 127.0.0.1 fails, then nginx 127.0.0.2', (p) => [
    proxyUnit([pub(p, '127.0.0.1')]),
    unit([tcp(p, '127.0.0.2'), tcp(p, '127.0.0.1')]),
    nginxUnit({ http: [`listen 127.0.0.2:${p}`] }),
  ]);
  add('a unit on P+1 and P, docker on P, then docker on P+1', (p) => [
    unit([tcp(p + 1, '127.0.0.1'), tcp(p, '127.0.0.1')]),
    proxyUnit([pub(p, '127.0.0.1')]),
    proxyUnit([pub(p + 1, '127.0.0.1')]),
  ]);
}

function sshdUnit(text: string): Unit {
  return { kind: 'sshd', text };
}
function nginxUnit(blocks: NginxBlocks): Unit {
  return { kind: 'nginx', text: nginxConf(blocks), blocks };
}
function proxyUnit(ports: Publish[]): Unit {
  return { kind: 'compose', services: [{ name: 'dns', ports }], proxy: true };
}
function socketUnit(spec: SocketSpec): Unit {
  return { kind: 'socket', text: socketUnitText(spec), spec };
}
function dockerUnit(ports: Publish[]): Unit {
  return { kind: 'compose', services: [{ name: 'web', ports }] };
}
