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
