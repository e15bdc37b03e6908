/** duplicate-listen-options: nginx socket options given on more than one listen of one address and port. Reported by nginx's linker. */
import { parserRule } from './rule';

export const duplicateListenOptions = parserRule({
  code: 'duplicate-listen-options',
  severity: 'error',
  description: 'nginx socket options (backlog, reuseport, ipv6only, ...) given on more than one listen of the same address and port.',
  fixable: false,
  docs: {
    body: 'The socket options of a `listen` (backlog, rcvbuf, sndbuf, reuseport, ipv6only, deferred, bind, so_keepalive, ...) configure the one socket nginx opens for an address and port, so only one `listen` of that address and port may give them; nginx -t rejects a second ("duplicate listen options"). nginx\'s linker reports it across included files.',
    fires: {
      'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 80 backlog=511;\n  }\n  server {\n    listen 80 backlog=1024;\n  }\n}\n',
    },
    silent: {
      'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 80 backlog=511;\n  }\n  server {\n    listen 80;\n  }\n}\n',
    },
  },
});
