import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';

const HOST = 'etc/caddy/Caddyfile';
const facts = (files: Record<string, string>) =>
  engineWith(files)
    .analyze()
    .facts.filter(({ fact }) => fact.program === 'caddy')
    .map(
      ({ fact }) =>
        `${fact.role} ${fact.family === 'ipv6' ? `[${fact.address ?? '::'}]` : (fact.address ?? '*')}:${fact.port}/${fact.protocol}${fact.implicit ? ' implicit' : ''}`,
    );

describe('Caddy', () => {
  it('a bare host listens on 443 (TCP and HTTP/3 UDP) and on 80 for the automatic redirects', () => {
    assert.deepStrictEqual(facts({ [HOST]: 'example.com {\n  respond "hi"\n}\n' }), [
      'listen [::]:443/tcp implicit',
      'listen [::]:443/udp implicit',
      'listen [::]:80/tcp implicit',
    ]);
  });

  it('http://, :port, bind, http_port/https_port and auto_https off', () => {
    assert.deepStrictEqual(facts({ [HOST]: 'http://a.example {\n  respond a\n}\n:8080 {\n  bind 127.0.0.1\n}\n' }), [
      'listen [::]:80/tcp implicit',
      'listen 127.0.0.1:8080/tcp',
    ]);
    assert.deepStrictEqual(facts({ [HOST]: '{\n  https_port 8443\n  auto_https off\n}\nexample.com {\n  respond a\n}\n' }), [
      'listen [::]:8443/tcp implicit',
      'listen [::]:8443/udp implicit',
    ]);
  });

  it('reverse_proxy targets are upstreams', () => {
    assert.deepStrictEqual(facts({ [HOST]: ':8080 {\n  reverse_proxy localhost:3000 app:4000\n}\n' }), [
      'listen [::]:8080/tcp',
      'upstream 127.0.0.1:3000/tcp',
      'upstream app:4000/tcp',
    ]);
  });

  it("a Caddyfile outside /etc/caddy is read as a container's: no conflict with the compose publish beside it (dockprom)", () => {
    const files = {
      'caddy/Caddyfile': ':3000 {\n    reverse_proxy grafana:3000\n}\n',
      'docker-compose.yml': 'services:\n  caddy:\n    image: caddy\n    ports:\n      - "3000:3000"\n    volumes:\n      - ./caddy:/etc/caddy\n',
    };
    assert.deepStrictEqual(facts(files), ['container [::]:3000/tcp', 'upstream grafana:3000/tcp']);
    assert.deepStrictEqual(shownFindings(engineWith(files)), []);
  });

  it('on the host, Caddy collides with nginx on 80/443', () => {
    const got = shownFindings(
      engineWith({ [HOST]: 'example.com {\n  respond a\n}\n', 'etc/nginx/nginx.conf': 'events {}\nhttp { server { listen 443; } }\n' }),
    );
    assert.ok(got.some((f) => f.code === 'port-conflict' && f.file.endsWith('Caddyfile')));
  });

  describe('findings', () => {
    it('invalid-port on a port caddy adapt refuses', () => {
      for (const [text, covered] of [
        [':70000 {\n}\n', '70000'],
        ['{\n  http_port 99999\n}\n:80 {\n}\n', '99999'],
      ]) {
        const got = shownFindings(engineWith({ [HOST]: text }));
        assert.deepStrictEqual(
          got.map((f) => [f.code, f.text]),
          [['invalid-port', covered]],
        );
      }
    });
    it('is silent on placeholders, snippets and valid sites', () => {
      const text = '(common) {\n  encode gzip\n}\n{$SITE_ADDRESS} {\n  import common\n}\n:8080, example.com:8443 {\n  basicauth /* {\n    {$U} {$H}\n  }\n}\n';
      assert.deepStrictEqual(shownFindings(engineWith({ [HOST]: text })), []);
    });
  });

  it('hovers a site port', () => {
    const text = ':8080 {\n  respond a\n}\n';
    const h = hoverAt(engineWith({ [HOST]: text }), `/ws/${HOST}`, offsetOf(text, '8080'), parseEphemeralRanges(undefined))!;
    assert.match(h.markdown, /TCP 8080/);
    assert.match(h.markdown, /Caddy listens on \*:8080\/tcp/);
  });
});
