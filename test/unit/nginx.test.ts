import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';
import type { PortFact } from '../../server/src/core/types';
import { createNginxModule, isNginxPath } from '../../server/src/formats/nginx';
import { parseNginxTree } from '../../server/src/formats/nginx/lexer';

const MAIN = 'etc/nginx/nginx.conf';
const main = (httpBody: string, rest = '') => `events {}\nhttp {\n${httpBody}\n}\n${rest}`;
const server = (body: string) => main(`server {\n${body}\n}`);

function factsOf(files: Record<string, string>, role: PortFact['role'] = 'listen'): PortFact[] {
  return engineWith(files)
    .analyze()
    .facts.map(({ fact }) => fact)
    .filter((f) => f.role === role);
}

/** "0.0.0.0:80/tcp", "[::]:443/tcp v6only", "127.0.0.1:8000-8002/tcp bind", "name:80/tcp". */
function show(f: PortFact): string {
  const addr = f.family === 'ipv6' ? `[${f.address ?? '::'}]` : f.family === 'ipv4' ? (f.address ?? '0.0.0.0') : f.address;
  const port = f.port === f.portEnd ? `${f.port}` : `${f.port}-${f.portEnd}`;
  return `${addr}:${port}/${f.protocol}${f.family === 'ipv6' && f.v6only ? ' v6only' : ''}${f.separateBind ? ' bind' : ''}${f.implicit ? ' implicit' : ''}`;
}

const binds = (files: Record<string, string>) => factsOf(files).map(show);
const listens = (body: string) => binds({ [MAIN]: server(body) });

function errors(files: Record<string, string>) {
  return shownFindings(engineWith(files))
    .filter((f) => (f.code !== 'ephemeral-port' && f.code !== 'port-conflict') || /nginx -t/.test(f.message))
    .map((f) => [f.file.replace('/ws/', ''), f.code, f.severity, f.line, f.text]);
}
const errorsIn = (body: string) => errors({ [MAIN]: server(body) }).map(([, code, severity, , text]) => [code, severity, text]);

describe('nginx', () => {
  describe('listen forms (ngx_parse_url)', () => {
    const cases: [string, string[]][] = [
      ['80', ['0.0.0.0:80/tcp']],
      ['127.0.0.1:8080', ['127.0.0.1:8080/tcp']],
      ['127.0.0.1', ['127.0.0.1:80/tcp']],
      ['*:8080', ['0.0.0.0:8080/tcp']],
      ['*', ['0.0.0.0:80/tcp']],
      ['0.0.0.0:8080', ['0.0.0.0:8080/tcp']],
      ['0080', ['0.0.0.0:80/tcp']],
      ['[::]:8080', ['[::]:8080/tcp v6only']],
      ['[::1]', ['[::1]:80/tcp v6only']],
      ['[0:0:0:0:0:0:0:1]:81', ['[::1]:81/tcp v6only']],
      ['localhost:8083', ['127.0.0.1:8083/tcp', '[::1]:8083/tcp v6only']],
      ['www.example.test:8084', ['www.example.test:8084/tcp']],
      ['8000-8002', ['0.0.0.0:8000-8002/tcp']],
      ['127.0.0.1:8000-8002', ['127.0.0.1:8000-8002/tcp']],
      ['1..2.3:80', ['1.0.2.3:80/tcp']],
      ['010.0.0.1:80', ['10.0.0.1:80/tcp']],
      ['unix:/run/nginx.sock', []],
      ['"8085"', ['0.0.0.0:8085/tcp']],
    ];
    for (const [arg, want] of cases) {
      it(`listen ${arg}`, () => {
        assert.deepStrictEqual(listens(`listen ${arg};`), want);
        assert.deepStrictEqual(errorsIn(`listen ${arg};`), []);
      });
    }

    it('spans cover the port as written, or the address when the port is implied', () => {
      const text = server('listen 127.0.0.1:8080;\nlisten [::1];\nlisten 8000-8002;\nlisten "9090";');
      const facts = factsOf({ [MAIN]: text });
      assert.deepStrictEqual(
        facts.map((f) => text.slice(f.span.start, f.span.end)),
        ['8080', '[::1]', '8000-8002', '9090'],
      );
    });
  });

  describe('listen parameters', () => {
    const detail = (body: string) => factsOf({ [MAIN]: server(body) }).map((f) => f.detail);

    it('writes the parameters into the hover detail', () => {
      assert.deepStrictEqual(detail('listen 443 ssl http2 default_server;'), ['nginx listens on 0.0.0.0:443/tcp (ssl, http2, default_server)']);
    });

    it('socket options make nginx bind the address on its own (separateBind)', () => {
      for (const p of [
        'bind',
        'backlog=511',
        'rcvbuf=64k',
        'sndbuf=1M',
        'deferred',
        'fastopen=256',
        'so_keepalive=on',
        'so_keepalive=30m::10',
        'reuseport',
        'ipv6only=on',
      ]) {
        assert.deepStrictEqual(listens(`listen 127.0.0.1:80 ${p};`), ['127.0.0.1:80/tcp bind'], p);
      }
      for (const p of ['ssl', 'http2', 'proxy_protocol', 'default_server', 'default']) {
        assert.deepStrictEqual(listens(`listen 127.0.0.1:80 ${p};`), ['127.0.0.1:80/tcp'], p);
      }
    });

    it('one listen with options decides bind for every listen of that address:port', () => {
      assert.deepStrictEqual(binds({ [MAIN]: main('server { listen 127.0.0.1:80; }\nserver { listen 127.0.0.1:80 bind; server_name b; }') }), [
        '127.0.0.1:80/tcp bind',
        '127.0.0.1:80/tcp bind',
      ]);
    });

    it('[::]:P is v6-only unless ipv6only=off', () => {
      assert.deepStrictEqual(listens('listen [::]:80 ipv6only=off;'), ['[::]:80/tcp bind']);
      assert.deepStrictEqual(listens('listen [::]:80;\nlisten [::]:81 ipv6only=on;'), ['[::]:80/tcp v6only', '[::]:81/tcp v6only bind']);
    });

    it('quic is UDP, beside TCP on the same port', () => {
      assert.deepStrictEqual(listens('listen 443 ssl;\nlisten 443 quic reuseport;'), ['0.0.0.0:443/tcp', '0.0.0.0:443/udp bind']);
    });

    it('accept_filter is FreeBSD-only: a warning, the listen stands', () => {
      assert.deepStrictEqual(errorsIn('listen 80 accept_filter=dataready;'), [['syntax', 'warning', 'accept_filter=dataready']]);
      assert.deepStrictEqual(listens('listen 80 accept_filter=dataready;'), ['0.0.0.0:80/tcp']);
    });

    const bad: [string, string][] = [
      ['listen 80 spdy;', 'spdy'],
      ['listen 80 nosuchparam;', 'nosuchparam'],
      ['listen 80 setfib=1;', 'setfib=1'],
      ['listen 80 backlog=0;', 'backlog=0'],
      ['listen 80 backlog=x;', 'backlog=x'],
      ['listen 80 rcvbuf=1g;', 'rcvbuf=1g'],
      ['listen 80 fastopen=x;', 'fastopen=x'],
      ['listen 80 ipv6only=x;', 'ipv6only=x'],
      ['listen 80 so_keepalive=::;', 'so_keepalive=::'],
      ['listen 80 so_keepalive=0:0:0;', 'so_keepalive=0:0:0'],
      ['listen 80 udp;', 'udp'],
      ['listen 443 quic ssl;', 'ssl'],
      ['listen 443 quic backlog=10;', 'backlog=10'],
    ];
    for (const [text, word] of bad) {
      it(`refuses ${text} as nginx does (syntax on the parameter)`, () => {
        assert.deepStrictEqual(errorsIn(text), [['syntax', 'error', word]]);
        assert.deepStrictEqual(listens(text), []);
      });
    }
  });

  describe('invalid-port', () => {
    const cases: [string, string][] = [
      ['0', '0'],
      ['70000', '70000'],
      ['65536', '65536'],
      ['99999999999999999999', '99999999999999999999'],
      ['127.0.0.1:', ''],
      ['127.0.0.1:abc', 'abc'],
      ['127.0.0.1:70000', '70000'],
      ['[::1]:70000', '70000'],
      ['8002-8000', '8002-8000'],
      [':80', ':80'],
      ['-1', '-1'],
      ['+80', '+80'],
      ['8O80', '8O80'],
      ['80x', '80x'],
      ['256.0.0.1:80', '256.0.0.1'],
      ['80#x', '80#x'],
      ['[::1', '[::1'],
      ['[::1]x', '[::1]x'],
      ['[]:80', '[]:80'],
      ['[zz::1]:80', '[zz::1]'],
      ['::1:80', ':1:80'],
      ['127.0.0.1:80/x', '127.0.0.1:80/x'],
      ['unix:', 'unix:'],
    ];
    for (const [arg, text] of cases) {
      it(`fires on listen ${arg} with the exact range`, () => {
        const got = errorsIn(`listen ${arg};`);
        assert.deepStrictEqual(got, [['invalid-port', 'error', text]]);
      });
    }

    it('a variable is an information note, never an error', () => {
      for (const arg of ['$port', '${PORT}', '127.0.0.1:$port']) {
        assert.deepStrictEqual(errorsIn(`listen ${arg};`), [['invalid-port', 'information', arg]], arg);
        assert.match(shownFindings(engineWith({ [MAIN]: server(`listen ${arg};`) }))[0].message, /variable.*not checked/);
      }
    });

    it('stays silent on ports 1 and 65535', () => {
      assert.deepStrictEqual(errorsIn('listen 1;\nlisten 127.0.0.1:65535;'), []);
    });

    it('upstream ports out of range, and missing where nginx wants one', () => {
      const body =
        'location / { proxy_pass http://127.0.0.1:99999; }\nlocation /a { fastcgi_pass 127.0.0.1; }\nlocation /b { grpc_pass grpc://127.0.0.1; }\nlocation /c { proxy_pass http://127.0.0.1:0/; }';
      assert.deepStrictEqual(errorsIn(`listen 80;\n${body}`), [
        ['invalid-port', 'error', '99999'],
        ['invalid-port', 'error', '127.0.0.1'],
        ['invalid-port', 'error', '127.0.0.1'],
        ['invalid-port', 'error', '0'],
      ]);
    });
  });

  describe('contexts', () => {
    it('stream: udp, tcp and udp on one port, proxy_pass and upstream servers', () => {
      const text = main(
        '',
        'stream {\n  upstream dns { server 10.0.0.2:53; }\n  server { listen 53 udp; proxy_pass dns; }\n  server { listen 53; proxy_pass 10.0.0.3:53; }\n}\n',
      );
      assert.deepStrictEqual(binds({ [MAIN]: text }), ['0.0.0.0:53/udp', '0.0.0.0:53/tcp']);
      assert.deepStrictEqual(factsOf({ [MAIN]: text }, 'upstream').map(show), ['10.0.0.2:53/udp', '10.0.0.3:53/tcp']);
      assert.deepStrictEqual(errors({ [MAIN]: text }), []);
    });

    it('mail servers listen too', () => {
      assert.deepStrictEqual(
        binds({ [MAIN]: main('', 'mail {\n  server { listen 25; protocol smtp; }\n  server { listen 127.0.0.1:993 ssl; protocol imap; }\n}\n') }),
        ['0.0.0.0:25/tcp', '127.0.0.1:993/tcp'],
      );
    });

    it('a stream or mail server without listen is refused, an http one listens on *:80', () => {
      assert.deepStrictEqual(errors({ [MAIN]: main('', 'stream {\n  server { proxy_pass 127.0.0.1:1; }\n}\n') }), [
        ['etc/nginx/nginx.conf', 'syntax', 'error', 6, 'server'],
      ]);
      assert.deepStrictEqual(binds({ [MAIN]: main('server { server_name a; }') }), ['0.0.0.0:80/tcp implicit']);
    });

    it('stream and mail listens without a port bind port 0: no fact, no error', () => {
      const text = main('', 'stream {\n  server { listen 127.0.0.1; proxy_pass 127.0.0.1:1; }\n}\n');
      assert.deepStrictEqual(binds({ [MAIN]: text }), []);
      assert.deepStrictEqual(errors({ [MAIN]: text }), []);
    });

    it('listen outside a server binds nothing', () => {
      assert.deepStrictEqual(binds({ [MAIN]: main('listen 80;\nserver { listen 81; }') }), ['0.0.0.0:81/tcp']);
    });

    it('a site file read on its own is http context, with its instance the nginx.conf beside', () => {
      const facts = factsOf({ 'etc/nginx/sites-enabled/example': 'server {\n  listen 8080;\n}\n' });
      assert.deepStrictEqual(facts.map(show), ['0.0.0.0:8080/tcp']);
      // The stock nginx.conf (not in the workspace) loads it: the server block is named with its file.
      assert.strictEqual(facts[0].instance, '/ws/etc/nginx/nginx.conf');
      assert.strictEqual(facts[0].context, 'server block at line 1 of example');
    });

    it('a snippet read on its own that starts with listen is server context', () => {
      assert.deepStrictEqual(binds({ 'etc/nginx/snippets/listen-443.conf': 'listen 443 ssl;\nlisten [::]:443 ssl;\n' }), [
        '0.0.0.0:443/tcp',
        '[::]:443/tcp v6only',
      ]);
    });

    it('context labels name the server block and its server_name', () => {
      const facts = factsOf({
        [MAIN]: main('server {\n  listen 80;\n  server_name example.com www.example.com other.example;\n}\ninclude conf.d/*.conf;'),
        'etc/nginx/conf.d/a.conf': 'server { listen 81; }\n',
      });
      assert.deepStrictEqual(facts.map((f) => f.context).sort(), [
        'server block at line 1 of a.conf',
        'server block at line 3 (server_name example.com www.example.com …)',
      ]);
    });
  });

  describe('includes', () => {
    it('globs in glob order, absolute /etc/nginx paths mapped onto the workspace, relative ones against the main config', () => {
      const files = {
        [MAIN]: main('include /etc/nginx/conf.d/*.conf;\ninclude sites-enabled/*;'),
        'etc/nginx/conf.d/b.conf': 'server { listen 8002; }\n',
        'etc/nginx/conf.d/a.conf': 'server { listen 8001; include snippets/more.conf; }\n',
        'etc/nginx/conf.d/skip.txt': 'server { listen 8009; }\n',
        'etc/nginx/snippets/more.conf': 'listen 8003;\n',
        'etc/nginx/sites-enabled/site': 'server { listen 8004; }\n',
      };
      assert.deepStrictEqual(
        factsOf(files)
          .filter((f) => f.instance === '/ws/etc/nginx/nginx.conf')
          .map(show),
        ['0.0.0.0:8001/tcp', '0.0.0.0:8003/tcp', '0.0.0.0:8002/tcp', '0.0.0.0:8004/tcp'],
      );
    });

    it('/etc/nginx/... reaches files beside the main config when the workspace does not mirror /etc (a Docker layout)', () => {
      const files = {
        'deploy/nginx/nginx.conf': main('include /etc/nginx/conf.d/*.conf;'),
        'deploy/nginx/conf.d/a.conf': 'server {\n  listen 80 default_server;\n}\n',
        'deploy/nginx/conf.d/b.conf': 'server {\n  listen 80 default_server;\n}\n',
      };
      assert.deepStrictEqual(errors(files), [['deploy/nginx/conf.d/b.conf', 'duplicate-default-server', 'error', 2, '80']]);
      assert.deepStrictEqual(new Set(factsOf(files).map((f) => f.instance)), new Set(['/ws/deploy/nginx/nginx.conf']));
      // A workspace that mirrors /etc answers first.
      assert.deepStrictEqual(binds({ 'deploy/nginx/nginx.conf': files['deploy/nginx/nginx.conf'], 'etc/nginx/conf.d/c.conf': 'server { listen 8080; }\n' }), [
        '0.0.0.0:8080/tcp',
      ]);
    });

    it('a site file read on its own resolves includes against its conf directory', () => {
      const files = { 'etc/nginx/sites-available/site': 'server { include snippets/l.conf; }\n', 'etc/nginx/snippets/l.conf': 'listen 8443;\n' };
      assert.deepStrictEqual(binds(files), ['0.0.0.0:8443/tcp']);
    });

    it('include cycles stop', () => {
      const files = {
        [MAIN]: main('include conf.d/a.conf;'),
        'etc/nginx/conf.d/a.conf': 'server { listen 81; }\ninclude /etc/nginx/conf.d/a.conf;\ninclude conf.d/b.conf;\n',
        'etc/nginx/conf.d/b.conf': 'server { listen 82; }\ninclude conf.d/a.conf;\n',
      };
      assert.deepStrictEqual(binds(files), ['0.0.0.0:81/tcp', '0.0.0.0:82/tcp']);
      const snippet = { [MAIN]: main('server { include s.conf; }'), 'etc/nginx/s.conf': 'listen 83;\ninclude s.conf;\n' };
      assert.deepStrictEqual(binds(snippet), ['0.0.0.0:83/tcp']);
    });

    it('a site file reached twice counts once: a glob that matches again, and sites-enabled beside sites-available', () => {
      const site = 'server {\n  listen 80 default_server;\n}\n';
      const files = {
        [MAIN]: main('include sites-enabled/*;\ninclude sites-enabled/default;\ninclude sites-available/*;'),
        'etc/nginx/sites-enabled/default': site,
        'etc/nginx/sites-available/default': site,
      };
      assert.deepStrictEqual(
        factsOf(files)
          .filter((f) => f.instance === '/ws/etc/nginx/nginx.conf')
          .map(show),
        ['0.0.0.0:80/tcp'],
      );
      assert.deepStrictEqual(errors(files), []);
      // The same name with another text is another site: both count.
      const edited = { ...files, 'etc/nginx/sites-available/default': 'server {\n  listen 8080;\n}\n' };
      assert.deepStrictEqual(
        factsOf(edited)
          .filter((f) => f.instance === '/ws/etc/nginx/nginx.conf')
          .map(show)
          .sort(),
        ['0.0.0.0:80/tcp', '0.0.0.0:8080/tcp'],
      );
    });

    it('a server snippet counts for every server that includes it', () => {
      const files = {
        [MAIN]: main('server { include snippets/l.conf; }\nserver { server_name b; include snippets/l.conf; }'),
        'etc/nginx/snippets/l.conf': 'listen 8080;\n',
      };
      assert.deepStrictEqual(binds(files), ['0.0.0.0:8080/tcp', '0.0.0.0:8080/tcp']);
      assert.deepStrictEqual(errors(files), []);
      const twice = { [MAIN]: main('server { include snippets/l.conf; include snippets/l.conf; }'), 'etc/nginx/snippets/l.conf': 'listen 8080;\n' };
      assert.deepStrictEqual(errors(twice), [['etc/nginx/snippets/l.conf', 'port-conflict', 'error', 1, '8080']]);
    });

    it('includes carry their context: a stream include reads stream servers', () => {
      const files = {
        [MAIN]: main('', 'stream { include streams-enabled/*; }\n'),
        'etc/nginx/streams-enabled/dns': 'server { listen 5353 udp; proxy_pass 127.0.0.1:53; }\n',
      };
      assert.deepStrictEqual(binds(files), ['0.0.0.0:5353/udp']);
    });
  });

  describe('implicit *:80', () => {
    it('a server without listen listens on *:80, spanning the server keyword', () => {
      const text = main('server {\n  server_name a;\n}');
      const [fact] = factsOf({ [MAIN]: text });
      assert.strictEqual(show(fact), '0.0.0.0:80/tcp implicit');
      assert.strictEqual(text.slice(fact.span.start, fact.span.end), 'server');
    });
    it('stays silent when the listen comes from an included snippet, or from an include not in the workspace', () => {
      assert.deepStrictEqual(binds({ [MAIN]: main('server { include snippets/l.conf; }'), 'etc/nginx/snippets/l.conf': 'listen 81;\n' }), ['0.0.0.0:81/tcp']);
      assert.deepStrictEqual(binds({ [MAIN]: main('server { include snippets/missing.conf; }') }), []);
    });
    it('never gets an ephemeral-port warning', () => {
      const engine = engineWith({ [MAIN]: main('server { server_name a; }') });
      engine.setSettings({ ephemeralRanges: parseEphemeralRanges(['1-65535']) });
      assert.deepStrictEqual(shownFindings(engine), []);
    });
  });

  describe('upstreams point at sockets and bind nothing', () => {
    const ups = (body: string, extra = '') =>
      factsOf({ [MAIN]: main(`${extra}server {\n  listen 80;\n  location / {\n${body}\n  }\n}`) }, 'upstream').map(
        (f) => `${show(f)}${f.implicit ? '' : ''} ${f.context.split(' in ')[0]}`,
      );
    it('every *_pass with host:port', () => {
      const body =
        'proxy_pass http://127.0.0.1:8080/x;\nfastcgi_pass 127.0.0.1:9000;\nuwsgi_pass uwsgi://[::1]:3031;\nscgi_pass localhost:4000;\ngrpc_pass grpcs://10.0.0.1:50051;\nmemcached_pass 127.0.0.1:11211;';
      assert.deepStrictEqual(ups(body), [
        '127.0.0.1:8080/tcp proxy_pass',
        '127.0.0.1:9000/tcp fastcgi_pass',
        '[::1]:3031/tcp uwsgi_pass',
        'localhost:4000/tcp scgi_pass',
        '10.0.0.1:50051/tcp grpc_pass',
        '127.0.0.1:11211/tcp memcached_pass',
      ]);
    });
    it('scheme default ports, marked implicit', () => {
      assert.deepStrictEqual(ups('proxy_pass http://app;\nproxy_pass https://api.example.com/v1;'), [
        'app:80/tcp implicit proxy_pass',
        'api.example.com:443/tcp implicit proxy_pass',
      ]);
    });
    it('an upstream {} name is not a port; its servers are, with port 80 by default', () => {
      assert.deepStrictEqual(
        ups('proxy_pass http://backend;', 'upstream backend {\n  server 127.0.0.1:3000 weight=2;\n  server app2;\n  server unix:/run/app.sock;\n}\n'),
        ['127.0.0.1:3000/tcp server', 'app2:80/tcp implicit server'],
      );
    });
    it('variables and unix sockets are skipped', () => {
      assert.deepStrictEqual(ups('proxy_pass http://$host:8080;\nfastcgi_pass unix:/run/php.sock;\nproxy_pass http://unix:/tmp/x.sock:/;'), []);
    });
    it('a name without port may be an upstream elsewhere: no error unless the configuration is complete', () => {
      assert.deepStrictEqual(errors({ 'etc/nginx/sites-enabled/site': 'server {\n  listen 80;\n  location / { fastcgi_pass php; }\n}\n' }), []);
      assert.deepStrictEqual(errors({ [MAIN]: main('server {\n  listen 80;\n  location / { fastcgi_pass php; }\n}') }), [
        ['etc/nginx/nginx.conf', 'invalid-port', 'error', 5, 'php'],
      ]);
      assert.deepStrictEqual(
        errors({ [MAIN]: main('upstream php { server 127.0.0.1:9000; }\nserver {\n  listen 80;\n  location / { fastcgi_pass php; }\n}') }),
        [],
      );
    });
  });

  describe('duplicates nginx -t refuses', () => {
    it('duplicate-default-server across included files, on the later listen, pointing at the first', () => {
      const files = {
        [MAIN]: main('include conf.d/*.conf;'),
        'etc/nginx/conf.d/a.conf': 'server {\n  listen 80 default_server;\n  server_name a;\n}\n',
        'etc/nginx/conf.d/b.conf': '# b\nserver {\n  server_name b;\n  listen 80 default;\n}\n',
      };
      const found = shownFindings(engineWith(files));
      assert.deepStrictEqual(
        found.map((f) => [f.file.replace('/ws/', ''), f.code, f.line, f.text]),
        [['etc/nginx/conf.d/b.conf', 'duplicate-default-server', 4, '80']],
      );
      const finding = engineWith(files).analyze().findingsByFile.get('/ws/etc/nginx/conf.d/b.conf')![0];
      assert.strictEqual(finding.related?.[0].file, '/ws/etc/nginx/conf.d/a.conf');
      assert.strictEqual(files['etc/nginx/conf.d/a.conf'].slice(finding.related![0].span.start, finding.related![0].span.end), '80');
      assert.match(finding.message, /0\.0\.0\.0:80.*server block at line 1 of a\.conf \(server_name a\)/);
    });

    it('duplicate-default-server stays silent on different addresses, families and ports', () => {
      const text = main(
        'server { listen 80 default_server; listen [::]:80 default_server; }\nserver { listen 127.0.0.1:80 default_server; }\nserver { listen 81 default_server; }',
      );
      assert.deepStrictEqual(errors({ [MAIN]: text }), []);
    });

    it('duplicate-listen-options when two servers set socket options for one address:port', () => {
      const text = main('server {\n  listen 443 ssl backlog=1024;\n}\nserver {\n  listen 443 ssl http2 backlog=1024;\n}');
      assert.deepStrictEqual(errors({ [MAIN]: text }), [['etc/nginx/nginx.conf', 'duplicate-listen-options', 'error', 7, '443']]);
    });

    it('duplicate-listen-options stays silent when only one sets them', () => {
      const text = main('server { listen 80 backlog=100; }\nserver { listen 80 default_server; }\nserver { listen 127.0.0.1:80 backlog=100; }');
      assert.deepStrictEqual(errors({ [MAIN]: text }), []);
    });

    it('"a duplicate listen" in one server is a port-conflict, however the address is written', () => {
      for (const pair of [
        'listen 80;\nlisten 80;',
        'listen 80;\nlisten *:80;',
        'listen 8000-8005;\nlisten 8005;',
        'listen localhost:8080;\nlisten 127.0.0.1:8080;',
      ]) {
        const got = errors({ [MAIN]: server(pair) });
        assert.deepStrictEqual(
          got.map((g) => [g[1], g[3]]),
          [['port-conflict', 5]],
          pair,
        );
      }
    });

    it("nginx's own port-conflicts carry a messageId and data (port, protocol, the first listen), not only text", () => {
      const http = [
        ...engineWith({ [MAIN]: server('listen 80;\nlisten *:80;') })
          .analyze()
          .findingsByFile.values(),
      ]
        .flat()
        .find((f) => f.code === 'port-conflict')!;
      assert.strictEqual(http.messageId, 'nginx-duplicate-listen');
      assert.deepStrictEqual([http.data?.port, http.data?.protocol, http.data?.program, http.data?.other?.length], [80, 'tcp', 'nginx', 1]);
      const dup = main('', 'stream {\n  server { listen 12345 udp; proxy_pass 127.0.0.1:1; }\n  server { listen 12345 udp; proxy_pass 127.0.0.1:2; }\n}\n');
      const stream = [
        ...engineWith({ [MAIN]: dup })
          .analyze()
          .findingsByFile.values(),
      ]
        .flat()
        .find((f) => f.code === 'port-conflict')!;
      assert.strictEqual(stream.messageId, 'nginx-duplicate-pair');
      assert.deepStrictEqual([stream.data?.port, stream.data?.protocol], [12345, 'udp']);
      // A port that only one server listens on is no finding at all.
      const none = [
        ...engineWith({ [MAIN]: server('listen 80;\nlisten 81;') })
          .analyze()
          .findingsByFile.values(),
      ].flat();
      assert.deepStrictEqual(
        none.filter((f) => f.code === 'port-conflict'),
        [],
      );
    });

    it('virtual hosting is never a finding', () => {
      const text = main(
        'server { listen 80; server_name a; }\nserver { listen 80; server_name b; }\nserver { listen 80 default_server; server_name c; }\nserver { listen 80; listen 127.0.0.1:80; server_name d; }',
      );
      assert.deepStrictEqual(shownFindings(engineWith({ [MAIN]: text })), []);
    });

    it('stream: every address:port once (nginx 1.22), tcp and udp apart', () => {
      const dup = main('', 'stream {\n  server { listen 12345; proxy_pass 127.0.0.1:1; }\n  server { listen 12345; proxy_pass 127.0.0.1:2; }\n}\n');
      assert.deepStrictEqual(errors({ [MAIN]: dup }), [['etc/nginx/nginx.conf', 'port-conflict', 'error', 7, '12345']]);
      const fine = main(
        '',
        'stream {\n  server { listen 53; listen 53 udp; proxy_pass 127.0.0.1:1; }\n  server { listen 127.0.0.1:53; listen [::]:53; proxy_pass 127.0.0.1:2; }\n}\n',
      );
      assert.deepStrictEqual(errors({ [MAIN]: fine }), []);
    });

    it('http and stream on one port are different sockets: the host rule sees them collide', () => {
      const text = main('server { listen 8080; }', 'stream {\n  server { listen 8080; proxy_pass 127.0.0.1:1; }\n}\n');
      const facts = factsOf({ [MAIN]: text });
      assert.notStrictEqual(facts[0].instance, facts[1].instance);
    });
  });

  describe('syntax, as nginx tokenizes', () => {
    const syntax = (text: string) =>
      shownFindings(engineWith({ [MAIN]: text }))
        .filter((f) => f.code === 'syntax')
        .map((f) => [f.line, f.text]);
    it('an unclosed block, an extra "}", a missing ";", text after a quote, a stray ";"', () => {
      assert.deepStrictEqual(syntax('events {}\nhttp {\n  server { listen 80; }\n'), [[2, '{']]);
      assert.deepStrictEqual(syntax('events {}\nhttp {\n}\n}\n'), [[4, '}']]);
      assert.deepStrictEqual(syntax('events {}\nhttp {\n  server { listen 80 }\n}\n'), [[3, 'listen 80']]);
      assert.deepStrictEqual(syntax('events {}\nhttp {\n  server { listen "80"x; }\n}\n'), [[3, 'x']]);
      assert.deepStrictEqual(syntax('events {}\nhttp {\n  ;\n}\n'), [[3, ';']]);
      // nginx reads an unclosed quote to the end of the file; we end it at the end of its line and go on.
      assert.deepStrictEqual(syntax('events {}\nhttp {\n  server { server_name "a; }\n}\n'), [
        [2, '{'],
        [3, 'server_name "a; }'],
        [3, '"'],
      ]);
    });
    it('"}" and "#" inside a word, ${var}, escapes and multi-line strings are words', () => {
      const tree = parseNginxTree('a b} c#d "e\\"f" \'g\nh\' ${x}y \\;z;');
      assert.deepStrictEqual(tree.errors, []);
      assert.deepStrictEqual([tree.directives[0].name.text, ...tree.directives[0].args.map((a) => a.text)], ['a', 'b}', 'c#d', 'e"f', 'g\nh', '${x}y', '\\;z']);
    });
    it('a comment starts only at a word start', () => {
      const tree = parseNginxTree('listen 80 # default_server;\n;');
      assert.deepStrictEqual(
        tree.directives[0].args.map((a) => a.text),
        ['80'],
      );
    });
    it('Lua blocks are skipped whole', () => {
      const tree = parseNginxTree('content_by_lua_block {\n  local t = { a = "}" } -- }\n  ngx.say("{")\n}\nlisten 80;\n');
      assert.deepStrictEqual(tree.errors, []);
      assert.deepStrictEqual(
        tree.directives.map((d) => d.name.text),
        ['content_by_lua_block', 'listen'],
      );
    });
    it('the rest of a broken file is still analysed', () => {
      const text = 'events {}\nhttp {\n  server { listen 80 }\n  server { listen 8080; }\n';
      assert.ok(binds({ [MAIN]: text }).includes('0.0.0.0:8080/tcp'));
    });
  });

  describe('never throws, never hangs', () => {
    it('survives garbage', () => {
      const module = createNginxModule();
      const pieces = [
        '{',
        '}',
        ';',
        '"',
        "'",
        '\\',
        '$',
        '${',
        '#',
        '\n',
        ' ',
        'listen',
        'server',
        'http',
        'stream',
        'include',
        '80',
        '[::',
        ']:',
        'unix:',
        'proxy_pass',
        'http://',
        ':',
        '-',
        'upstream',
        'default_server',
        'x',
      ];
      let seed = 7;
      const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      for (let n = 0; n < 300; n++) {
        let text = '';
        for (let i = 0; i < 60; i++) text += pieces[Math.floor(rand() * pieces.length)] + (rand() < 0.5 ? ' ' : '');
        const engine = engineWith({ [MAIN]: text, 'etc/nginx/conf.d/a.conf': text, 'etc/nginx/sites-enabled/s': text });
        engine.analyze();
        module.parse(text, '/x/nginx.conf', 'server');
        module.parse(text, '/x/nginx.conf', 'stream-server');
      }
    });
    it('stays linear on large and pathological input', () => {
      const big = main(
        Array.from(
          { length: 3000 },
          (_, i) => `server { listen ${1024 + (i % 5000)}; server_name s${i}; location / { proxy_pass http://127.0.0.1:${3000 + (i % 100)}; } }`,
        ).join('\n'),
      );
      const nested = '{'.repeat(20000) + '"' + "'".repeat(3) + '\\'.repeat(5) + '}'.repeat(20000);
      const quotes = '"\n'.repeat(20000) + "x '\n".repeat(20000);
      const range = main('server { listen 1-65535; }\nserver { listen 1-65535 default_server; }\nserver { listen 1-65535 default_server; }');
      for (const text of [big, nested, quotes]) engineWith({ [MAIN]: text }).analyze();
      // 3 x 65,535 ports are three runs (formats/nginx/portRuns.ts): nginx stops the third at its first port.
      const codes = shownFindings(engineWith({ [MAIN]: range }))
        .filter((f) => f.severity === 'error')
        .map((f) => `${f.code} ${f.message.split(':')[0]}:${f.message.split(':')[1]}`);
      assert.deepStrictEqual(codes, ['duplicate-default-server A duplicate default server for 0.0.0.0:1']);
    });
  });

  describe('paths', () => {
    it('claims nginx files', () => {
      for (const p of [
        '/etc/nginx/nginx.conf',
        '/srv/app/nginx.conf',
        '/etc/nginx/conf.d/default.conf',
        '/etc/nginx/sites-enabled/default',
        '/etc/nginx/sites-available/example.com',
        '/ws/docker/nginx/conf.d/app.conf',
        '/ws/nginx/default.conf',
        '/etc/nginx/snippets/ssl.conf',
        '/ws/deploy/app.nginx',
        '/ws/nginx-site.conf',
        '/etc/nginx/streams-enabled/dns',
        '/ws/nginx/templates/default.conf.template',
      ]) {
        assert.ok(isNginxPath(p), p);
      }
    });
    it('leaves other programs and non-config files alone', () => {
      for (const p of [
        '/etc/apache2/sites-available/000-default.conf',
        '/etc/httpd/conf.d/ssl.conf',
        '/etc/supervisor/conf.d/app.conf',
        '/etc/fonts/conf.d/10-hinting.conf',
        '/etc/dovecot/conf.d/10-auth.conf',
        '/etc/nginx/sites-available/README.md',
        '/etc/nginx/sites-enabled/default.dpkg-dist',
        '/etc/nginx/ssl/cert.pem',
        '/etc/nginx/mime.types',
        '/ws/nginx/docker-compose.yml',
        '/etc/nginx/sites-enabled/.default.swp',
      ]) {
        assert.ok(!isNginxPath(p), p);
      }
    });
    it('an Apache or INI file under a claimed path gets no finding', () => {
      assert.deepStrictEqual(
        shownFindings(
          engineWith({ 'sites-available/site': '<VirtualHost *:80>\n  ServerName x\n</VirtualHost>\n', 'nginx/supervisord.conf': '[program:x]\ncommand=y\n' }),
        ),
        [],
      );
    });
    it('content detection for documents whose path says nothing', () => {
      const module = createNginxModule();
      assert.ok(module.matchesContent!('server {\n  listen 80;\n}\n'));
      assert.ok(!module.matchesContent!('<VirtualHost *:80>\nListen 80\n</VirtualHost>\n'));
      assert.ok(!module.matchesContent!('Port 22\nListenAddress 0.0.0.0\n'));
    });
  });

  describe('hover and ephemeral-port come through the engine', () => {
    it('hovering a listen port shows what nginx binds', () => {
      const text = server('listen 443 ssl http2 default_server;');
      const engine = engineWith({ [MAIN]: text });
      const hover = hoverAt(engine, `/ws/${MAIN}`, offsetOf(text, '443', 0, 1), parseEphemeralRanges(undefined));
      assert.ok(hover);
      assert.match(hover.markdown, /nginx listens on 0\.0\.0\.0:443\/tcp \(ssl, http2, default_server\)/);
      assert.strictEqual(text.slice(hover.span.start, hover.span.end), '443');
    });
    it('hovering an upstream says it binds nothing', () => {
      const text = server('listen 80;\nlocation / { proxy_pass http://127.0.0.1:3000; }');
      const hover = hoverAt(engineWith({ [MAIN]: text }), `/ws/${MAIN}`, offsetOf(text, '3000'), parseEphemeralRanges(undefined));
      assert.match(hover!.markdown, /nginx connects to 127\.0\.0\.1:3000\/tcp \(proxy_pass; binds nothing\)/);
    });
    it('ephemeral-port fires for a listen inside the range, not for an upstream there', () => {
      const found = shownFindings(engineWith({ [MAIN]: server('listen 50000;\nlocation / { proxy_pass http://127.0.0.1:50001; }') }));
      assert.deepStrictEqual(
        found.map((f) => [f.code, f.text]),
        [['ephemeral-port', '50000']],
      );
    });
  });
});
