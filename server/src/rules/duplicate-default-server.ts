/** duplicate-default-server: two nginx server blocks claim default_server for one address and port. Reported by nginx's linker. */
import { parserRule } from './rule';

export const duplicateDefaultServer = parserRule({
  code: 'duplicate-default-server',
  severity: 'error',
  description: 'Two nginx server blocks claim default_server for the same address and port (nginx -t rejects it).',
  fixable: true,
  fixes: [
    {
      title: 'Remove default_server here',
      preferred: true,
      when: 'On the later claim: its `default_server` parameter is removed (the first claim stays the default), the rest of the listen line kept.',
    },
  ],
  docs: {
    body: 'nginx picks one server block per address and port for requests whose Host matches no server_name: the one whose `listen` says `default_server`, else the first. Two blocks claiming it for the same address and port make nginx -t fail ("a duplicate default server"), across included files too: nginx\'s linker reports it on each claim.',
    fires: {
      'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 80 default_server;\n  }\n  server {\n    listen 80 default_server;\n  }\n}\n',
    },
    silent: {
      'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 80 default_server;\n  }\n  server {\n    listen 80;\n  }\n}\n',
    },
  },
});
