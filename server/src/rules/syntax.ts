/** syntax: what a format's own program rejects or cannot read. Reported by the parsers (and by the engine when a parser fails). */
import { parserRule } from './rule';

export const syntax = parserRule({
  code: 'syntax',
  severity: 'error',
  description: 'A line the program itself rejects or cannot read (sshd, nginx, nft, iptables-restore, ... would refuse the file).',
  fixable: true,
  fixes: [
    {
      title: "Move 'DIRECTIVE' above the first Match block",
      when: 'An sshd directive only the global part accepts (Port, ListenAddress, ...) written inside a Match block: the line moves above the first Match, where sshd applies it to every connection.',
    },
    { title: "Delete 'DIRECTIVE'", when: 'The same directive inside a Match block, removed.' },
    {
      title: 'Quote it: "A:B"',
      preferred: true,
      when: 'A compose port like `22:22` written unquoted, which YAML 1.1 reads as a base-60 number: the same text in double quotes.',
    },
  ],
  docs: {
    body: 'Each format reader reports what its own program refuses: an unknown sshd keyword or a directive that only the global part of sshd_config accepts, an nginx block that never closes, a compose file that is not a mapping, a rule iptables-restore or nft would reject. The real programs are the judges (sshd -T, nginx -t, docker-compose config, iptables-restore --test, nft -c), and the tests compare against them. Some of these findings carry quick fixes (move a global-only sshd directive above the first Match block, quote a compose port). A file Portolan itself fails to read is reported here too, and the rest of the workspace is still analysed.',
    fires: { 'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 80;\n  }\n' },
    silent: { 'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 80;\n  }\n}\n' },
  },
});
