import * as assert from 'assert';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';
import { hoverAt } from '../../server/src/features/hoverText';
import { engineWith, offsetOf } from '../helpers/engine';

describe("hover: the host's other uses of a port", () => {
  const compose = 'services:\n  app:\n    image: x\n    ports:\n      - "127.0.0.1:8000:8000"\n';
  const files = {
    'srv/app/compose.yaml': compose,
    'etc/nginx/nginx.conf':
      'events {}\nhttp {\n  server {\n    listen 80;\n    location / { proxy_pass http://127.0.0.1:8000; }\n    location /remote { proxy_pass http://10.0.0.5:8000; }\n  }\n}\n',
    'etc/iptables/rules.v4': '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 8000 -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n',
    'other/compose.yaml': 'services:\n  db:\n    image: y\n    expose: ["8000"]\n',
  };

  it('lists binds, upstreams that point at this host and firewall rules, not remote upstreams or container ports', () => {
    const engine = engineWith(files);
    const h = hoverAt(engine, '/ws/srv/app/compose.yaml', offsetOf(compose, '8000'), parseEphemeralRanges(undefined), (f) => f.replace('/ws/', ''))!;
    const also = h.markdown.slice(h.markdown.indexOf('Also on this host'));
    assert.match(also, /127\.0\.0\.1:8000.*etc\/nginx\/nginx\.conf:5/);
    assert.match(also, /TCP 8000 inbound.*etc\/iptables\/rules\.v4:3/);
    assert.doesNotMatch(also, /10\.0\.0\.5/);
    assert.doesNotMatch(also, /other\/compose\.yaml/);
  });

  it('says nothing of other hosts', () => {
    const engine = engineWith(files);
    engine.hosts.setFolders([{ folder: '/ws', hosts: { proxy: ['etc/nginx/**'] } }]);
    const h = hoverAt(engine, '/ws/srv/app/compose.yaml', offsetOf(compose, '8000'), parseEphemeralRanges(undefined))!;
    assert.doesNotMatch(h.markdown, /nginx\.conf/);
  });
});

describe('hover layout: the port, its findings, then the other uses as links', () => {
  const rules =
    '*filter\n:ufw-user-input - [0:0]\n### RULES ###\n\n### tuple ### allow tcp 50022 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 50022 -j ACCEPT\n\n### END RULES ###\nCOMMIT\n';
  const files = { 'etc/ssh/sshd_config': 'Port 50022\n', 'etc/ufw/user.rules': rules, 'etc/ufw/ufw.conf': 'ENABLED=yes\n' };

  it('puts the port and its range first, its findings next, and lists a ufw tuple and its -A line as one linked use', () => {
    const engine = engineWith(files);
    const h = hoverAt(engine, '/ws/etc/ssh/sshd_config', offsetOf(files['etc/ssh/sshd_config'], '50022'), parseEphemeralRanges(undefined), (f) =>
      f.replace('/ws/', ''),
    )!;
    const lines = h.markdown.split('\n').filter((l) => l !== '');
    assert.match(lines[0], /^\*\*TCP 50022\b/);
    assert.match(lines[1], /^Range: dynamic\/ephemeral port/);
    const finding = lines.findIndex((l) => /^- \*\*warning\*\* `ephemeral-port`: /.test(l));
    const mention = lines.findIndex((l) => /^- sshd listens on 0\.0\.0\.0:50022/.test(l));
    const also = lines.findIndex((l) => /^Also on this host/.test(l));
    assert.ok(finding > 1 && finding < mention && mention < also, h.markdown);
    const uses = lines.slice(also + 1);
    const ufw = uses
      .slice(
        0,
        uses.findIndex((l) => !l.startsWith('- ')),
      )
      .filter((l) => l.includes('etc/ufw/user.rules'));
    assert.deepStrictEqual(ufw.length, 1, h.markdown);
    assert.match(ufw[0], /— \[etc\/ufw\/user\.rules:5\]\(file:\/\/\/ws\/etc\/ufw\/user\.rules#L5\), \[6\]\(file:\/\/\/ws\/etc\/ufw\/user\.rules#L6\) \(/);
  });

  it('lists no findings where the port has none', () => {
    const engine = engineWith({ 'etc/ssh/sshd_config': 'Port 2222\n' });
    const h = hoverAt(engine, '/ws/etc/ssh/sshd_config', 6, parseEphemeralRanges(undefined))!;
    assert.doesNotMatch(h.markdown, /\*\*(error|warning|information|hint)\*\*/);
  });
});
