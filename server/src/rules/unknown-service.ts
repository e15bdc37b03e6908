/** unknown-service: a service name the program cannot resolve. Reported by the parsers. */
import { UNKNOWN_SERVICE_MESSAGES } from '../core/serviceNames';
import { parserRule } from './rule';

export const unknownService = parserRule({
  code: 'unknown-service',
  severity: 'error',
  description: 'A service name the program cannot resolve: a firewalld service neither stock nor in the workspace, or a port name /etc/services does not list.',
  fixable: true,
  fixes: [
    {
      title: 'Use NAME',
      preferred: true,
      when: 'A registered name close to the one written (edit distance 1-2, or the name with a short tail added: postgres -> postgresql): the name is rewritten, nothing else (in a ufw tuple, also in the -A lines of its block that carry the same port list, one fix offered on each of their findings). Up to three are offered; preferred only when exactly one is close (aliases of one port in /etc/services count as one).',
    },
  ],
  messages: {
    [UNKNOWN_SERVICE_MESSAGES.firewalldService]:
      "A zone's `<service name>` (also in a rich rule) that is neither a stock firewalld service nor defined in the workspace's services/*.xml: firewall-offline-cmd --check-config reports INVALID_SERVICE (error).",
    [UNKNOWN_SERVICE_MESSAGES.portName]:
      'A port written as a name that getservbyname() does not resolve for the protocol (/etc/services, case-sensitive): sshd -T, iptables-restore --test, nft -c and ufw refuse it; firewalld reports INVALID_PORT (error; a ufw application profile is skipped, as ufw skips it).',
  },
  docs: {
    body: "Where a program accepts a service name instead of a port, it looks the name up: firewalld in its stock services and the host's services/*.xml, sshd, iptables, nft, ufw and firewalld's `<port>` in /etc/services (getservbyname, which compares case-sensitively). A name it does not find makes it refuse the file, or (a firewalld zone) report a configuration error and leave the service out. This is not a bad port number (`invalid-port`): the name is usually a typo or an alias of another system, and the quick fix offers the registered names close to it (`postgres` is not a firewalld service; `postgresql` is).",
    fires: {
      'etc/firewalld/zones/public.xml': '<?xml version="1.0" encoding="utf-8"?>\n<zone>\n  <service name="postgres"/>\n</zone>\n',
      'etc/firewalld/firewalld.conf': 'DefaultZone=public\n',
    },
    silent: {
      'etc/firewalld/zones/public.xml': '<?xml version="1.0" encoding="utf-8"?>\n<zone>\n  <service name="postgresql"/>\n</zone>\n',
      'etc/firewalld/firewalld.conf': 'DefaultZone=public\n',
    },
  },
});
