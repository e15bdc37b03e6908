/** invalid-port: a port the program does not accept. Reported by the parsers. */
import { parserRule } from './rule';

export const invalidPort = parserRule({
  code: 'invalid-port',
  severity: 'error',
  description: 'A port number or range the program does not accept (0, above 65535, a reversed range, a malformed port).',
  fixable: true,
  fixes: [
    {
      title: 'Swap to LOW:HIGH',
      preferred: true,
      when: "A reversed range written as two literal ends, in the file's own syntax: iptables/ip6tables `--dport`/`--sport` `9000:8000` (tcp, sctp; udp, which iptables accepts but matches nothing), a multiport entry, `--to-ports` and a DNAT/SNAT port range `9000-8000`; an nft range `9000-8000`; a ufw tuple's `2000:1000`, one fix for the tuple and every -A line of its block that ufw writes from it (`--dports`/`--dport`, `--sports`/`--sport`), offered on each of their findings; a compose short-syntax host or container range and an expose range `9000-8000`. Only the two ends change places. (firewalld swaps a reversed `<port>` itself: no finding; docker-compose 1.29 refuses any range in long syntax's published: no fix.)",
    },
  ],
  docs: {
    body: 'A port is a number from 1 to 65535 (0 only where the program reads it as "any"), and a range runs from low to high. Each format reader reports a port its program would refuse, at the port as written. A service name the program cannot look up is `unknown-service`, not this. Kubernetes manifests: containerPort, hostPort, Service port and targetPort as the API server validates them (ValidateService, validateContainerPorts in pkg/apis/core/validation), and a nodePort outside the API server\'s default --service-node-port-range 30000-32767 (the Kubernetes documentation, Service type NodePort: "provided port is not in the valid range") or on a ClusterIP Service.',
    fires: { 'etc/ssh/sshd_config': 'Port 70000\n' },
    silent: { 'etc/ssh/sshd_config': 'Port 7000\n' },
  },
});
