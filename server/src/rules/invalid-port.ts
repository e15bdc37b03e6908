/** invalid-port: a port the program does not accept. Reported by the parsers. */
import { parserRule } from './rule';

export const invalidPort = parserRule({
  code: 'invalid-port',
  severity: 'error',
  description: 'A port number or range the program does not accept (0, above 65535, a reversed range, a malformed port).',
  fixable: false,
  docs: {
    body: 'A port is a number from 1 to 65535 (0 only where the program reads it as "any"), and a range runs from low to high. Each format reader reports a port its program would refuse, at the port as written. A service name the program cannot look up is `unknown-service`, not this. Kubernetes manifests: containerPort, hostPort, Service port and targetPort as the API server validates them (ValidateService, validateContainerPorts in pkg/apis/core/validation), and a nodePort outside the API server\'s default --service-node-port-range 30000-32767 (the Kubernetes documentation, Service type NodePort: "provided port is not in the valid range") or on a ClusterIP Service.',
    fires: { 'etc/ssh/sshd_config': 'Port 70000\n' },
    silent: { 'etc/ssh/sshd_config': 'Port 7000\n' },
  },
});
