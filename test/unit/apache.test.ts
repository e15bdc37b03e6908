import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';

const binds = (files: Record<string, string>) =>
  engineWith(files)
    .analyze()
    .facts.filter(({ fact }) => fact.program === 'apache')
    .map(({ fact }) => `${fact.family === 'ipv6' ? `[${fact.address ?? '::'}]` : (fact.address ?? '0.0.0.0')}:${fact.port}`)
    .sort();

const DEBIAN = {
  'etc/apache2/apache2.conf': 'ServerRoot "/etc/apache2"\nIncludeOptional mods-enabled/*.load\nInclude ports.conf\nIncludeOptional sites-enabled/*.conf\n',
  'etc/apache2/ports.conf': 'Listen 80\n\n<IfModule ssl_module>\n\tListen 443\n</IfModule>\n\n<IfModule mod_gnutls.c>\n\tListen 443\n</IfModule>\n',
  'etc/apache2/sites-enabled/000-default.conf': '<VirtualHost *:80>\n\tDocumentRoot /var/www/html\n</VirtualHost>\n',
};

describe('Apache httpd', () => {
  it("Debian's layout: Listen 80 from ports.conf, 443 only once ssl is enabled", () => {
    assert.deepStrictEqual(binds(DEBIAN), ['[::]:80']);
    const ssl = { ...DEBIAN, 'etc/apache2/mods-enabled/ssl.load': 'LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n' };
    assert.deepStrictEqual(binds(ssl), ['[::]:443', '[::]:80']);
    assert.deepStrictEqual(shownFindings(engineWith(ssl)), []);
  });

  it("Red Hat's layout: httpd.conf in conf/, includes relative to ServerRoot /etc/httpd", () => {
    const files = {
      'etc/httpd/conf/httpd.conf': 'ServerRoot "/etc/httpd"\nListen 80\nInclude conf.modules.d/*.conf\nIncludeOptional conf.d/*.conf\n',
      'etc/httpd/conf.modules.d/00-ssl.conf': 'LoadModule ssl_module modules/mod_ssl.so\n',
      'etc/httpd/conf.d/ssl.conf': 'Listen 443 https\n<VirtualHost _default_:443>\n</VirtualHost>\n',
    };
    assert.deepStrictEqual(binds(files), ['[::]:443', '[::]:80']);
  });

  it('Listen forms: wildcard is one dual-stack socket, 0.0.0.0 beside it is served from it', () => {
    const facts = engineWith({ 'etc/apache2/apache2.conf': 'Listen 8080\nListen 0.0.0.0:8080\nListen 127.0.0.1:9000\nListen [::1]:9001\n' })
      .analyze()
      .facts.map(({ fact }) => fact);
    assert.deepStrictEqual(
      facts.map((f) => [f.family, f.address, f.port, f.v6only]),
      [
        ['ipv6', undefined, 8080, false],
        ['ipv4', '127.0.0.1', 9000, undefined],
        ['ipv6', '::1', 9001, true],
      ],
    );
  });

  describe('findings', () => {
    const cases: [string, string, string][] = [
      ['Listen 70000\n', 'invalid-port', '70000'],
      ['Listen 0\n', 'invalid-port', '0'],
      ['Listen 127.0.0.1\n', 'invalid-port', '127.0.0.1'],
      ['Listen 80 # http\n', 'syntax', 'Listen 80 # http'],
      ['Listen 8080\nListen 8080\n', 'syntax', 'Listen 8080'],
      ['<VirtualHost *:80>\nListen 81\n</VirtualHost>\n', 'syntax', 'Listen'],
      ['<VirtualHost *:80>\nServerName a\n', 'syntax', 'VirtualHost'],
    ];
    for (const [text, code, covered] of cases) {
      it(`${JSON.stringify(text)}: ${code}`, () => {
        const got = shownFindings(engineWith({ 'etc/apache2/apache2.conf': text }));
        assert.deepStrictEqual(
          got.map((f) => [f.code, f.text]),
          [[code, covered]],
        );
      });
    }
    it('is silent on valid Listens, names, Define variables and unknown variables', () => {
      const text = 'Define P 8081\nListen ${P}\nListen ${UNSET}\nListen localhost:8082\nListen [::1]:8083 https\nListen www.example.com:8084\n';
      assert.deepStrictEqual(shownFindings(engineWith({ 'etc/apache2/apache2.conf': text })), []);
    });
  });

  it('collides with nginx on the same port, and two Listens of one Apache on overlapping addresses collide (bind fails at start)', () => {
    const withNginx = shownFindings(engineWith({ ...DEBIAN, 'etc/nginx/nginx.conf': 'events {}\nhttp { server { listen 80; } }\n' })).filter(
      (f) => f.code === 'port-conflict',
    );
    assert.ok(withNginx.some((f) => f.file.endsWith('ports.conf')));
    const self = shownFindings(engineWith({ 'etc/apache2/apache2.conf': 'Listen 80\nListen 127.0.0.1:80\n' })).filter((f) => f.code === 'port-conflict');
    assert.ok(self.length > 0);
    const quiet = shownFindings(engineWith({ 'etc/apache2/apache2.conf': 'Listen 127.0.0.1:80\nListen 127.0.0.2:80\n' })).filter(
      (f) => f.code === 'port-conflict',
    );
    assert.deepStrictEqual(quiet, []);
  });

  it('claims apache2/ and httpd/ trees and leaves other *.conf and sites-available alone', () => {
    const engine = engineWith({
      'etc/apache2/sites-available/default-ssl.conf': '<VirtualHost *:443>\n</VirtualHost>\n',
      'etc/nginx/sites-available/default': 'server { listen 80; }\n',
      'etc/squid/squid.conf': 'http_port 3128\n',
      'docs/apache2/README.md': '# Listen 80\n',
    });
    const formats = engine.analyze().formatOf;
    assert.strictEqual(formats.get('/ws/etc/apache2/sites-available/default-ssl.conf'), 'apache');
    assert.strictEqual(formats.get('/ws/etc/nginx/sites-available/default'), 'nginx');
    assert.strictEqual(formats.get('/ws/etc/squid/squid.conf'), undefined);
    assert.strictEqual(formats.get('/ws/docs/apache2/README.md'), undefined);
  });

  it('hovers a Listen port', () => {
    const text = 'Listen 127.0.0.1:8443 https\n';
    const engine = engineWith({ 'etc/apache2/apache2.conf': text });
    const h = hoverAt(engine, '/ws/etc/apache2/apache2.conf', offsetOf(text, '8443'), parseEphemeralRanges(undefined))!;
    assert.match(h.markdown, /TCP 8443/);
    assert.match(h.markdown, /Apache listens on 127\.0\.0\.1:8443/);
  });
});
