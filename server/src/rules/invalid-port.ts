/**
 * invalid-port: a port the program does not accept. Reported by the parsers, except a Kubernetes nodePort
 * outside the cluster's --service-node-port-range, judged here with the folder's `.portolan.json`.
 */
import type { HostModel, RuleContext } from '../core/hostModel';
import { DEFAULT_NODE_PORT_RANGE } from '../core/portolanJson';
import type { Finding } from '../core/types';
import { createRule } from './rule';

const NODE_PORT_RANGE = 'node-port-range';

/** Each Service nodePort (a `clusterPort` fact) outside its folder's nodePort range: the API server refuses it. */
function nodePortRange(ctx: RuleContext, host: HostModel): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const f of host.facts) {
    if (!f.clusterPort) continue;
    const configured = ctx.nodePortRangeOf?.(f.file);
    const range = configured ?? DEFAULT_NODE_PORT_RANGE;
    const key = `${f.file}:${f.span.start}:${f.span.end}`;
    if ((f.port >= range.from && f.port <= range.to) || seen.has(key)) continue;
    seen.add(key);
    out.push({
      file: f.file,
      span: f.span,
      severity: 'error',
      code: 'invalid-port',
      messageId: NODE_PORT_RANGE,
      message: configured
        ? `nodePort ${f.port} is outside ${range.from}-${range.to} (.portolan.json kubernetes.nodePortRange): the API server refuses it ("provided port is not in the valid range").`
        : `nodePort ${f.port} is outside 30000-32767: the API server refuses it ("provided port is not in the valid range"), unless the cluster's --service-node-port-range was widened (say so in .portolan.json: "kubernetes": {"nodePortRange": "…"}).`,
      data: { port: f.port, portEnd: f.portEnd, protocol: f.protocol, program: f.program },
    });
  }
  return out;
}

export const invalidPort = createRule({
  name: 'invalid-port',
  meta: {
    code: 'invalid-port',
    severity: 'error',
    description: 'A port number or range the program does not accept (0, above 65535, a reversed range, a malformed port).',
    fixable: true,
    reportedBy: 'host',
    fixes: [
      {
        title: 'Swap to LOW:HIGH',
        preferred: true,
        when: "A reversed range written as two literal ends, in the file's own syntax: iptables/ip6tables `--dport`/`--sport` `9000:8000` (tcp, sctp; udp, which iptables accepts but matches nothing), a multiport entry, `--to-ports` and a DNAT/SNAT port range `9000-8000`; an nft range `9000-8000`; a ufw tuple's `2000:1000`, one fix for the tuple and every -A line of its block that ufw writes from it (`--dports`/`--dport`, `--sports`/`--sport`), offered on each of their findings; a compose short-syntax host or container range and an expose range `9000-8000`. Only the two ends change places. (firewalld swaps a reversed `<port>` itself: no finding; docker-compose 1.29 refuses any range in long syntax's published: no fix.)",
      },
    ],
    messages: {
      [NODE_PORT_RANGE]:
        'A Kubernetes Service nodePort outside the cluster\'s --service-node-port-range: 30000-32767, or the folder\'s `.portolan.json` `"kubernetes": {"nodePortRange": "20000-40000"}` (error).',
    },
    docs: {
      body: 'A port is a number from 1 to 65535 (0 only where the program reads it as "any"), and a range runs from low to high. Each format reader reports a port its program would refuse, at the port as written (these findings carry no messageId). A service name the program cannot look up is `unknown-service`, not this. Kubernetes manifests: containerPort, hostPort, Service port and targetPort as the API server validates them (ValidateService, validateContainerPorts in pkg/apis/core/validation), and a nodePort on a ClusterIP Service, by the reader; a nodePort outside the API server\'s --service-node-port-range (default 30000-32767; the Kubernetes documentation, Service type NodePort: "provided port is not in the valid range") by this rule over the host model, with the range a cluster was given written in the folder\'s `.portolan.json` as `"kubernetes": {"nodePortRange": "20000-40000"}` (kube-apiserver\'s syntax: `low-high`, `low+count` or one port).',
      fires: { 'etc/ssh/sshd_config': 'Port 70000\n' },
      silent: { 'etc/ssh/sshd_config': 'Port 7000\n' },
    },
  },
  create(ctx) {
    return (host) => nodePortRange(ctx, host);
  },
});
