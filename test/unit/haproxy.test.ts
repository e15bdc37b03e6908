import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';

const CFG = 'etc/haproxy/haproxy.cfg';
const conflicts = (files: Record<string, string>) => shownFindings(engineWith(files)).filter((f) => f.code === 'port-conflict');

describe('HAProxy', () => {
  it('reads bind lines of frontend and listen sections (several per line, ranges) and server lines as upstreams', () => {
    const text =
      'global\n  daemon\nfrontend web\n  bind :80,[::1]:8443\n  bind 127.0.0.1:9000-9002\nbackend app\n  server a 10.0.0.5:8080 check\nlisten stats\n  bind *:8404\n';
    const facts = engineWith({ [CFG]: text })
      .analyze()
      .facts.map(({ fact }) => `${fact.role} ${fact.family ?? '?'} ${fact.address ?? '*'} ${fact.port}-${fact.portEnd} ${fact.reusePort ?? false}`);
    assert.deepStrictEqual(facts, [
      'listen ipv4 * 80-80 true',
      'listen ipv6 ::1 8443-8443 true',
      'listen ipv4 127.0.0.1 9000-9002 true',
      'listen ipv4 * 8404-8404 true',
      'upstream ipv4 10.0.0.5 8080-8080 false',
    ]);
  });

  it('ignores bind outside frontend/listen and unix sockets', () => {
    const text = 'global\n  stats socket /run/haproxy/admin.sock\nfrontend f\n  bind unix@/run/x.sock\n  bind fd@${FD}\n';
    assert.deepStrictEqual(engineWith({ [CFG]: text }).analyze().facts, []);
  });

  describe('findings', () => {
    const cases: [string, string][] = [
      ['  bind :70000\n', '70000'],
      ['  bind :0\n', '0'],
      ['  bind :8010-8000\n', '8010-8000'],
      ['  bind 127.0.0.1\n', '127.0.0.1'],
      ['  bind :http\n', 'http'],
    ];
    for (const [line, covered] of cases) {
      it(`${line.trim()}: invalid-port`, () => {
        const got = shownFindings(engineWith({ [CFG]: `frontend f\n${line}` }));
        assert.deepStrictEqual(
          got.map((f) => [f.code, f.text]),
          [['invalid-port', covered]],
        );
      });
    }
    it('is silent on valid binds and servers on port 0 or without a port', () => {
      const text = 'frontend f\n  bind :80 # web\n  bind ipv6@:443 v4v6 ssl crt /x.pem\nbackend b\n  server a 10.0.0.1\n  server c 10.0.0.2:0\n';
      assert.deepStrictEqual(shownFindings(engineWith({ [CFG]: text })), []);
    });
  });

  it('SO_REUSEPORT: two HAProxies share a port; HAProxy and nginx collide; noreuseport in global turns sharing off', () => {
    const two = { [CFG]: 'frontend f\n  bind :80\n', 'srv/haproxy/b.cfg': 'frontend g\n  bind :80\n' };
    assert.deepStrictEqual(conflicts(two), []);
    assert.ok(conflicts({ [CFG]: 'frontend f\n  bind :80\n', 'etc/nginx/nginx.conf': 'events {}\nhttp { server { listen 80; } }\n' }).length > 0);
    assert.ok(conflicts({ ...two, [CFG]: 'global\n  noreuseport\nfrontend f\n  bind :80\n' }).length > 0);
  });

  it('claims haproxy.cfg and *.cfg in a haproxy directory only', () => {
    const formats = engineWith({
      [CFG]: 'frontend f\n  bind :80\n',
      'etc/haproxy/extra.cfg': 'frontend g\n  bind :81\n',
      'boot/grub/grub.cfg': 'set default=0\n',
      'app/setup.cfg': '[metadata]\n',
    }).analyze().formatOf;
    assert.strictEqual(formats.get(`/ws/${CFG}`), 'haproxy');
    assert.strictEqual(formats.get('/ws/etc/haproxy/extra.cfg'), 'haproxy');
    assert.strictEqual(formats.get('/ws/boot/grub/grub.cfg'), undefined);
    assert.strictEqual(formats.get('/ws/app/setup.cfg'), undefined);
  });

  it('hovers a bind port', () => {
    const text = 'frontend f\n  bind 127.0.0.1:8443\n';
    const h = hoverAt(engineWith({ [CFG]: text }), `/ws/${CFG}`, offsetOf(text, '8443'), parseEphemeralRanges(undefined))!;
    assert.match(h.markdown, /TCP 8443/);
    assert.match(h.markdown, /HAProxy listens on 127\.0\.0\.1:8443\/tcp \(SO_REUSEPORT\)/);
  });
});
