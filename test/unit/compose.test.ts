import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';
import { formatHostPort } from '../../server/src/core/address';
import { createComposeModule, isComposePath } from '../../server/src/formats/compose';
import type { Engine } from '../../server/src/core/engine';

const F = '/ws/app/compose.yaml';

/** Every fact as `role address:port/proto "covered text" context` (container facts without address). */
function factLines(engine: Engine, role?: string): string[] {
  return engine
    .analyze()
    .facts.map(({ fact }) => fact)
    .filter((f) => !role || f.role === role)
    .map((f) => {
      const covered = (engine.text(f.file) ?? '').slice(f.span.start, f.span.end);
      const where =
        f.role === 'publish' ? formatHostPort(f.family, f.address, f.port, f.portEnd) : f.port === f.portEnd ? `${f.port}` : `${f.port}-${f.portEnd}`;
      return `${f.role} ${where}/${f.protocol} ${JSON.stringify(covered)} ${f.context}`;
    });
}

function compose(yaml: string, extra: Record<string, string> = {}): Engine {
  return engineWith({ 'app/compose.yaml': yaml, ...extra });
}

const svc = (ports: string) => `services:\n  web:\n    image: nginx\n    ports:\n${ports}`;

describe('docker-compose', () => {
  describe('short syntax', () => {
    it('HOST:CONTAINER publishes on all IPv4 and all IPv6 addresses, and names the container port', () => {
      assert.deepStrictEqual(factLines(compose(svc('      - "8080:80"\n'))), [
        'publish 0.0.0.0:8080/tcp "8080" service web',
        'publish [::]:8080/tcp "8080" service web',
        'container 80/tcp "80" service web',
      ]);
    });

    it('IP:HOST:CONTAINER/proto binds one address; unquoted, single- and double-quoted spans are exact', () => {
      const e = compose(svc('      - 127.0.0.1:8081:81/udp\n      - \'10.0.0.1:8082:82\'\n      - "192.168.1.5:8083:83/sctp"\n'));
      assert.deepStrictEqual(factLines(e), [
        'publish 127.0.0.1:8081/udp "8081" service web',
        'container 81/udp "81" service web',
        'publish 10.0.0.1:8082/tcp "8082" service web',
        'container 82/tcp "82" service web',
        'publish 192.168.1.5:8083/sctp "8083" service web',
        'container 83/sctp "83" service web',
      ]);
    });

    it('IPv6 host IPs, bracketed and not', () => {
      const e = compose(svc('      - "::1:6000:6000"\n      - "[::1]:6001:6001"\n      - "[2001:db8::5]:6002:6002/udp"\n      - "[::]:6003:6003"\n'));
      assert.deepStrictEqual(factLines(e, 'publish'), [
        'publish [::1]:6000/tcp "6000" service web',
        'publish [::1]:6001/tcp "6001" service web',
        'publish [2001:db8::5]:6002/udp "6002" service web',
        'publish [::]:6003/tcp "6003" service web',
      ]);
      const v6 = e
        .analyze()
        .facts.map(({ fact }) => fact)
        .filter((f) => f.role === 'publish');
      assert.ok(v6.every((f) => f.family === 'ipv6' && f.v6only === true));
    });

    it('0.0.0.0 as host IP binds IPv4 only', () => {
      assert.deepStrictEqual(factLines(compose(svc('      - "0.0.0.0:8080:80"\n')), 'publish'), ['publish 0.0.0.0:8080/tcp "8080" service web']);
    });

    it('a container port alone (string or number) binds no fixed host port, and the hover says so', () => {
      const text = svc('      - "3000"\n      - 3001\n      - "127.0.0.1::3002"\n      - "0:3003"\n');
      const e = compose(text);
      assert.deepStrictEqual(factLines(e), [
        'container 3000/tcp "3000" service web',
        'container 3001/tcp "3001" service web',
        'container 3002/tcp "3002" service web',
        'container 3003/tcp "3003" service web',
      ]);
      const h = hoverAt(e, F, offsetOf(text, '3000'), parseEphemeralRanges(undefined))!;
      assert.match(h.markdown, /host port picked at run time from the ephemeral range/);
    });

    it('ranges: equal sizes publish the range, a host range beside one container port publishes one port of it', () => {
      const e = compose(svc('      - "9000-9002:9000-9002"\n      - "8000-8010:80"\n      - "7000-7001/udp"\n'));
      assert.deepStrictEqual(factLines(e), [
        'publish 0.0.0.0:9000-9002/tcp "9000-9002" service web',
        'publish [::]:9000-9002/tcp "9000-9002" service web',
        'container 9000-9002/tcp "9000-9002" service web',
        'publish 0.0.0.0:8000-8010/tcp "8000-8010" service web',
        'publish [::]:8000-8010/tcp "8000-8010" service web',
        'container 80/tcp "80" service web',
        'container 7000-7001/udp "7000-7001" service web',
      ]);
      const oneOf = e.analyze().facts.find(({ fact }) => fact.port === 8000)!.fact;
      assert.match(oneOf.detail!, /one free port of 0\.0\.0\.0:8000-8010/);
    });

    it('detail says what Docker does', () => {
      const e = compose(svc('      - "8080:80"\n'));
      const details = e.analyze().facts.map(({ fact }) => fact.detail);
      assert.deepStrictEqual(details, [
        'docker publishes 0.0.0.0:8080 → web:80/tcp',
        'docker publishes [::]:8080 → web:80/tcp',
        'container port 80/tcp of web, published on host port 8080',
      ]);
      assert.ok(e.analyze().facts.every(({ fact }) => fact.program === 'docker' && fact.instance === F));
    });
  });

  describe('long syntax', () => {
    it('target, published (number, string, range), host_ip, protocol, mode, name, app_protocol', () => {
      const text = svc(
        [
          '      - target: 80',
          '        published: 8080',
          '      - target: 443',
          '        published: "8443"',
          '        host_ip: 127.0.0.1',
          '        protocol: udp',
          '        mode: host',
          '        name: web-secure',
          '        app_protocol: https',
          '      - target: 53',
          "        published: '5300-5310'",
          '        host_ip: "::1"',
          '      - target: 9000',
          '',
        ].join('\n'),
      );
      const e = compose(text);
      assert.deepStrictEqual(factLines(e), [
        'publish 0.0.0.0:8080/tcp "8080" service web',
        'publish [::]:8080/tcp "8080" service web',
        'container 80/tcp "80" service web',
        'publish 127.0.0.1:8443/udp "8443" service web',
        'container 443/udp "443" service web',
        'publish [::1]:5300-5310/tcp "5300-5310" service web',
        'container 53/tcp "53" service web',
        'container 9000/tcp "9000" service web',
      ]);
      assert.match(e.analyze().facts[3].fact.detail!, /name "web-secure", app_protocol https/);
    });
  });

  describe('invalid-port', () => {
    const bad: [string, string, string][] = [
      ['      - "70000:80"\n', '70000', 'error'],
      ['      - "8080:70000"\n', '70000', 'error'],
      ['      - "8080:80/tpc"\n', 'tpc', 'error'],
      ['      - "8000-8001:80-82"\n', '8000-8001:80-82', 'error'],
      ['      - "9000-8000:80"\n', '9000-8000', 'error'],
      ['      - "localhost:8080:80"\n', 'localhost', 'error'],
      ['      - "abc"\n', 'abc', 'error'],
      ['      - ""\n', '""', 'error'],
      ['      - 80.5\n', '80.5', 'error'],
      ['      - [80]\n', '[80]', 'error'],
      ['      - target: 80\n        published: 70000\n', '70000', 'error'],
      ['      - target: 80\n        published: "8080"\n        protocol: http\n', 'http', 'error'],
      ['      - target: 80\n        host_ip: "example.com"\n', 'example.com', 'error'],
      ['      - target: 80-81\n', '80-81', 'error'],
      ['      - published: 8080\n', 'published: 8080', 'error'],
      ['      - "${NOT_SET}:80"\n', '${NOT_SET}', 'information'],
      ['      - "8080:${NOT_SET:?give a port}"\n', '${NOT_SET:?give a port}', 'information'],
      ['      - target: 80\n        published: $NOT_SET\n', '$NOT_SET', 'information'],
      ['      - 22:22\n', '22:22', 'warning'],
    ];
    for (const [ports, covered, severity] of bad) {
      it(`fires on ${JSON.stringify(ports.trim())} over ${JSON.stringify(covered)} (${severity})`, () => {
        const got = shownFindings(compose(svc(ports))).filter((f) => f.code !== 'ephemeral-port');
        assert.deepStrictEqual(
          got.map((f) => [f.code, f.severity, f.text]),
          [['invalid-port', severity, covered]],
        );
      });
    }

    it('stays silent on every valid form', () => {
      const text = svc(
        [
          '      - "8080:80"',
          '      - 8081:81',
          '      - "3000"',
          '      - 3001',
          '      - "127.0.0.1:8082:82/udp"',
          '      - "::1:6000:6000"',
          '      - "[::1]:6001:6001/sctp"',
          '      - "9000-9002:9000-9002"',
          '      - "8000-8010:80"',
          '      - "0:80"',
          '      - "${P:-8090}:80"',
          '      - "80:80/UDP"',
          '      - target: 80',
          '        published: "8100-8101"',
          '        protocol: TCP',
          '',
        ].join('\n'),
      );
      assert.deepStrictEqual(shownFindings(compose(text)), []);
    });

    it('one bad entry does not hide the others', () => {
      const e = compose(svc('      - "70000:80"\n      - "8080:80"\n'));
      assert.deepStrictEqual(factLines(e, 'publish'), ['publish 0.0.0.0:8080/tcp "8080" service web', 'publish [::]:8080/tcp "8080" service web']);
    });

    it('expose: container ports only, with the same checks', () => {
      const e = compose(
        'services:\n  web:\n    image: x\n    expose:\n      - "5000"\n      - 5001\n      - "6000-6001/udp"\n      - "7000/xyz"\n      - "99999"\n',
      );
      assert.deepStrictEqual(factLines(e), [
        'container 5000/tcp "5000" service web',
        'container 5001/tcp "5001" service web',
        'container 6000-6001/udp "6000-6001" service web',
      ]);
      assert.deepStrictEqual(
        shownFindings(e).map((f) => [f.code, f.text]),
        [
          ['invalid-port', 'xyz'],
          ['invalid-port', '99999'],
        ],
      );
      assert.match(e.analyze().facts[0].fact.detail!, /exposed to other containers only/);
    });
  });

  describe('interpolation and .env', () => {
    it('takes values from the .env beside the compose file, and spans the whole expression', () => {
      const e = compose(svc('      - "${WEB_PORT}:80"\n      - "$ADMIN_PORT:81"\n      - "${API_PORT:-9000}:82"\n      - "${BIND}:${DNS:-53}:53/udp"\n'), {
        'app/.env': 'WEB_PORT=8080\nADMIN_PORT="8081"\nBIND=127.0.0.1\n',
        '.env': 'API_PORT=1\n',
      });
      assert.deepStrictEqual(factLines(e, 'publish'), [
        'publish 0.0.0.0:8080/tcp "${WEB_PORT}" service web',
        'publish [::]:8080/tcp "${WEB_PORT}" service web',
        'publish 0.0.0.0:8081/tcp "$ADMIN_PORT" service web',
        'publish [::]:8081/tcp "$ADMIN_PORT" service web',
        'publish 0.0.0.0:9000/tcp "9000" service web',
        'publish [::]:9000/tcp "9000" service web',
        'publish 127.0.0.1:53/udp "53" service web',
      ]);
      assert.deepStrictEqual(shownFindings(e), []);
    });

    it('${VAR-default} keeps an empty value; ${VAR:-default} does not', () => {
      const e = compose(svc('      - "${A-8080}:80"\n      - "${A:-8081}:81"\n'), { 'app/.env': 'A=\n' });
      assert.deepStrictEqual(factLines(e), [
        'container 80/tcp "80" service web',
        'publish 0.0.0.0:8081/tcp "8081" service web',
        'publish [::]:8081/tcp "8081" service web',
        'container 81/tcp "81" service web',
      ]);
    });

    it('$$ is a literal dollar (then not a port)', () => {
      const got = shownFindings(compose(svc('      - "$$8080:80"\n')));
      assert.deepStrictEqual(
        got.map((f) => [f.code, f.text]),
        [['invalid-port', '$$8080']],
      );
    });

    it('an unset variable: an information note, the rest of the mapping still known', () => {
      const e = compose(svc('      - "${HOST_PORT}:80"\n      - "${IP}:8080:81"\n'));
      assert.deepStrictEqual(factLines(e), [
        'container 80/tcp "80" service web',
        'publish ${IP}:8080/tcp "8080" service web',
        'container 81/tcp "81" service web',
      ]);
      assert.deepStrictEqual(
        shownFindings(e).map((f) => [f.code, f.severity, f.text]),
        [
          ['invalid-port', 'information', '${HOST_PORT}'],
          ['invalid-port', 'information', '${IP}'],
        ],
      );
    });

    it('a variable may hold IP:port, and an empty host IP binds every address (mailcow style)', () => {
      const e = compose(svc('      - "${SQL_PORT:-127.0.0.1:13306}:3306"\n      - "${HTTPS_BIND:-}:${HTTPS_PORT:-443}:${HTTPS_PORT:-443}"\n'));
      assert.deepStrictEqual(factLines(e), [
        'publish 127.0.0.1:13306/tcp "13306" service web',
        'container 3306/tcp "3306" service web',
        'publish 0.0.0.0:443/tcp "443" service web',
        'publish [::]:443/tcp "443" service web',
        'container 443/tcp "443" service web',
      ]);
      // Each 443 is the default text inside its own expression.
      const spans = e
        .analyze()
        .facts.filter(({ fact }) => fact.port === 443)
        .map(({ fact }) => fact.span.start);
      assert.strictEqual(new Set(spans).size, 2);
    });

    it('a malformed template is a syntax error', () => {
      const got = shownFindings(compose(svc('      - "${PORT:80"\n      - "${1X}:80"\n')));
      assert.deepStrictEqual(
        got.map((f) => [f.code, f.severity, f.text]),
        [
          ['syntax', 'error', '${PORT:80'],
          ['syntax', 'error', '${1X}'],
        ],
      );
    });

    it('a .env on its own is not analysed, and its errors show when a compose file uses it', () => {
      assert.deepStrictEqual(shownFindings(engineWith({ 'app/.env': 'BAD KEY=1\n' })), []);
      const e = compose(svc('      - "${A}:80"\n'), { 'app/.env': 'A=8080\nBAD KEY=1\n' });
      assert.deepStrictEqual(
        shownFindings(e).map((f) => [f.file, f.code, f.line]),
        [['/ws/app/.env', 'syntax', 2]],
      );
      assert.strictEqual(factLines(e, 'publish').length, 2);
    });
  });

  describe('several files of one project', () => {
    const base = 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n';

    it('merges compose.override.yaml: new mappings publish from the override, repeated ones do not publish twice', () => {
      const override = 'services:\n  web:\n    ports:\n      - "8080:80"\n      - "8443:443"\n  extra:\n    image: x\n    ports: ["9000:9000"]\n';
      const e = compose(base, { 'app/compose.override.yaml': override });
      assert.deepStrictEqual(factLines(e, 'publish'), [
        'publish 0.0.0.0:8080/tcp "8080" service web',
        'publish [::]:8080/tcp "8080" service web',
        'publish 0.0.0.0:8443/tcp "8443" service web',
        'publish [::]:8443/tcp "8443" service web',
        'publish 0.0.0.0:9000/tcp "9000" service extra',
        'publish [::]:9000/tcp "9000" service extra',
      ]);
      const publishFiles = e
        .analyze()
        .facts.filter(({ fact }) => fact.role === 'publish')
        .map(({ fact }) => fact.file.split('/').pop());
      assert.deepStrictEqual(publishFiles, [
        'compose.yaml',
        'compose.yaml',
        'compose.override.yaml',
        'compose.override.yaml',
        'compose.override.yaml',
        'compose.override.yaml',
      ]);
      // The override's copy of 8080:80: hover says it is the base's mapping, merged.
      const h = hoverAt(e, '/ws/app/compose.override.yaml', offsetOf(override, '8080'), parseEphemeralRanges(undefined))!;
      assert.match(h.markdown, /the same mapping as compose\.yaml:5: compose merges the two/);
      assert.match(h.markdown, /docker publishes 0\.0\.0\.0:8080/);
    });

    it('a repeated mapping in one file is merged too; a different target on the same host port is not', () => {
      const e = compose(svc('      - "8080:80"\n      - 8080:80\n      - target: 80\n        published: 8080\n      - "8080:81"\n'));
      assert.deepStrictEqual(factLines(e, 'publish'), [
        'publish 0.0.0.0:8080/tcp "8080" service web',
        'publish [::]:8080/tcp "8080" service web',
        'publish 0.0.0.0:8080/tcp "8080" service web',
        'publish [::]:8080/tcp "8080" service web',
      ]);
      const lines = e
        .analyze()
        .facts.filter(({ fact }) => fact.role === 'publish')
        .map(({ fact }) => fact.span.start);
      assert.deepStrictEqual(
        lines.map((o) => e.text(F)!.slice(o - 1, o + 7)),
        ['"8080:80', '"8080:80', '"8080:81', '"8080:81'],
      );
    });

    it('docker-compose.yml merges docker-compose.override.yml; a range repeated port by port is merged', () => {
      const e = engineWith({
        'p/docker-compose.yml': 'services:\n  web:\n    image: x\n    ports: ["9000-9001:9000-9001"]\n',
        'p/docker-compose.override.yml': 'services:\n  web:\n    ports: ["9001:9001", "9002:9002"]\n',
      });
      assert.deepStrictEqual(
        factLines(e, 'publish').filter((l) => l.includes('0.0.0.0')),
        ['publish 0.0.0.0:9000-9001/tcp "9000-9001" service web', 'publish 0.0.0.0:9002/tcp "9002" service web'],
      );
    });

    it('reads only the first override file compose would pick, and an override alone is its own project', () => {
      const e = compose(base, {
        'app/compose.override.yml': 'services:\n  web:\n    ports: ["1111:1111"]\n',
        'app/compose.override.yaml': 'services:\n  web:\n    ports: ["2222:2222"]\n',
      });
      assert.deepStrictEqual(
        factLines(e, 'publish')
          .filter((l) => l.includes('0.0.0.0'))
          .map((l) => l.split(' ')[1]),
        ['0.0.0.0:8080/tcp', '0.0.0.0:1111/tcp'],
      );
      const alone = engineWith({ 'q/compose.override.yaml': 'services:\n  web:\n    ports: ["3333:3333"]\n' });
      assert.deepStrictEqual(
        factLines(alone, 'publish').map((l) => l.split(' ')[1]),
        ['0.0.0.0:3333/tcp', '[::]:3333/tcp'],
      );
    });

    it('the override uses the project .env; network_mode from the override applies', () => {
      const e = compose(svc('      - "${P}:80"\n'), {
        'app/.env': 'P=8088\n',
        'app/compose.override.yaml': 'services:\n  web:\n    network_mode: host\n    ports: ["${Q:-9}:90"]\n',
      });
      assert.deepStrictEqual(factLines(e, 'publish'), []);
      assert.deepStrictEqual(
        shownFindings(e).map((f) => [f.file.split('/').pop(), f.code, f.severity, f.text]),
        [['compose.yaml', 'invalid-port', 'information', 'ports']],
      );
    });

    it('top-level include: pulls in another project with its own .env', () => {
      const e = compose(
        'include:\n  - ../db/compose.yaml\n  - path: [../cache/compose.yaml, ../cache/extra.yml]\nservices:\n  web:\n    image: x\n    ports: ["${P}:80"]\n',
        {
          'app/.env': 'P=8080\n',
          'db/compose.yaml': 'services:\n  db:\n    image: x\n    ports: ["${DB}:5432", "${P}:1"]\n',
          'db/.env': 'DB=15432\nP=1\n',
          'cache/compose.yaml': 'services:\n  cache:\n    image: x\n    ports: ["6379:6379"]\n',
          'cache/extra.yml': 'services:\n  cache:\n    ports: ["6380:6380"]\n',
        },
      );
      assert.deepStrictEqual(
        factLines(e, 'publish')
          .filter((l) => l.includes('0.0.0.0'))
          .map((l) => l.replace(/ ".*" /, ' ')),
        [
          'publish 0.0.0.0:8080/tcp service web',
          'publish 0.0.0.0:15432/tcp service db',
          'publish 0.0.0.0:8080/tcp service db',
          'publish 0.0.0.0:6379/tcp service cache',
          'publish 0.0.0.0:6380/tcp service cache',
        ],
      );
      // The included file is part of this project, not a second one.
      assert.ok(e.analyze().facts.every(({ fact }) => fact.instance === F));
    });
  });

  describe('YAML features', () => {
    it('anchors, aliases and << merge keys', () => {
      const text = [
        'x-ports: &ports',
        '  - "8080:80"',
        'x-base: &base',
        '  image: nginx',
        '  ports: *ports',
        'x-more: &more',
        '  expose: ["9000"]',
        'services:',
        '  a:',
        '    <<: *base',
        '  b:',
        '    <<: [*more, *base]',
        '    ports:',
        '      - "8081:81"',
        '',
      ].join('\n');
      const e = compose(text);
      assert.deepStrictEqual(factLines(e), [
        'publish 0.0.0.0:8080/tcp "8080" service a',
        'publish [::]:8080/tcp "8080" service a',
        'container 80/tcp "80" service a',
        'publish 0.0.0.0:8081/tcp "8081" service b',
        'publish [::]:8081/tcp "8081" service b',
        'container 81/tcp "81" service b',
        'container 9000/tcp "9000" service b',
      ]);
    });

    it('spans survive escapes in double-quoted strings and doubled quotes in single-quoted ones', () => {
      const e = compose(svc('      - "\\x38080:80"\n      - \'127.0.0.1:8081:81\'\n      - "8082:\\u0038\\u0032"\n'));
      assert.deepStrictEqual(
        factLines(e).filter((l) => l.startsWith('publish 0') || l.startsWith('container')),
        [
          'publish 0.0.0.0:8080/tcp "\\\\x38080" service web',
          'container 80/tcp "80" service web',
          'container 81/tcp "81" service web',
          'publish 0.0.0.0:8082/tcp "8082" service web',
          'container 82/tcp "\\\\u0038\\\\u0032" service web',
        ],
      );
    });

    it('a block scalar is reported on the whole node', () => {
      const e = compose(svc('      - >-\n        8080:80\n'));
      assert.strictEqual(factLines(e, 'publish')[0], 'publish 0.0.0.0:8080/tcp ">-\\n        8080:80" service web');
    });

    it('YAML syntax errors are reported where yaml finds them, and the rest is still analysed', () => {
      const text = 'services:\n  web:\n    image: x\n    ports: ["8080:80"]\n  bad: [\n';
      const e = compose(text);
      const got = shownFindings(e);
      assert.ok(got.length >= 1);
      assert.ok(got.every((f) => f.code === 'syntax' && f.severity === 'error'));
      assert.deepStrictEqual(
        got.map((f) => f.line),
        got.map(() => 6),
      );
      assert.strictEqual(factLines(e, 'publish').length, 2);
    });

    it('duplicate keys, a top level that is not a mapping, and unknown port options are syntax errors', () => {
      assert.deepStrictEqual(
        shownFindings(compose('services:\n  web:\n    image: x\n  web:\n    image: y\n')).map((f) => f.code),
        ['syntax'],
      );
      assert.deepStrictEqual(
        shownFindings(compose('- a\n- b\n')).map((f) => [f.code, f.line]),
        [['syntax', 1]],
      );
      assert.deepStrictEqual(
        shownFindings(compose(svc('      - target: 80\n        publish: 8080\n'))).map((f) => [f.code, f.text]),
        [['syntax', 'publish']],
      );
      assert.deepStrictEqual(
        shownFindings(compose('services: [a, b]\n')).map((f) => f.code),
        ['syntax'],
      );
    });

    it('several YAML documents merge in turn, as compose-go reads them', () => {
      const e = compose('services:\n  web:\n    image: x\n    ports: ["8080:80"]\n---\nservices:\n  web:\n    ports: ["8080:80", "8081:81"]\n');
      assert.deepStrictEqual(
        factLines(e, 'publish').filter((l) => l.includes('0.0.0.0')),
        ['publish 0.0.0.0:8080/tcp "8080" service web', 'publish 0.0.0.0:8081/tcp "8081" service web'],
      );
      assert.deepStrictEqual(shownFindings(e), []);
    });

    it('Compose file format v1 (services at the top level): analysed, with a note that Compose v2 refuses it', () => {
      const e = compose('web:\n  image: x\n  ports:\n    - "5000:5000"\nredis:\n  image: redis\n  ports: ["6379"]\nx-extra:\n  ports: ["1:1"]\n');
      assert.deepStrictEqual(factLines(e), [
        'publish 0.0.0.0:5000/tcp "5000" service web',
        'publish [::]:5000/tcp "5000" service web',
        'container 5000/tcp "5000" service web',
        'container 6379/tcp "6379" service redis',
      ]);
      assert.deepStrictEqual(
        shownFindings(e).map((f) => [f.code, f.severity, f.text]),
        [['syntax', 'information', 'web']],
      );
      // With `services:` or `version:` the top level is not services.
      assert.deepStrictEqual(factLines(compose('version: "2"\nweb:\n  ports: ["5000:5000"]\n')), []);
    });

    it('is silent on an empty file, comments only, and services without ports', () => {
      for (const t of [
        '',
        '# nothing\n',
        'services:\n',
        'services:\n  web:\n',
        'services:\n  web:\n    image: x\n    ports: []\n',
        'version: "3"\nservices:\n  web:\n    ports:\n',
      ]) {
        assert.deepStrictEqual(shownFindings(compose(t)), [], JSON.stringify(t));
      }
    });
  });

  describe('network_mode', () => {
    it('host: ports publish nothing, an information note on ports', () => {
      const e = compose('services:\n  web:\n    network_mode: host\n    ports:\n      - "8080:80"\n');
      assert.deepStrictEqual(factLines(e), ['container 80/tcp "80" service web']);
      assert.deepStrictEqual(
        shownFindings(e).map((f) => [f.code, f.severity, f.text]),
        [['invalid-port', 'information', 'ports']],
      );
    });

    it('service:/container: Docker refuses published ports — an error', () => {
      const e = compose('services:\n  vpn:\n    image: x\n    ports: ["8080:80"]\n  web:\n    network_mode: "service:vpn"\n    ports:\n      - "8081:81"\n');
      assert.deepStrictEqual(
        factLines(e, 'publish').map((l) => l.split(' ').pop()),
        ['vpn', 'vpn'],
      );
      assert.deepStrictEqual(
        shownFindings(e).map((f) => [f.code, f.severity, f.line]),
        [['invalid-port', 'error', 7]],
      );
    });

    it('stays silent for host mode without ports, and for bridge or a named network', () => {
      assert.deepStrictEqual(shownFindings(compose('services:\n  web:\n    network_mode: host\n    expose: ["80"]\n')), []);
      for (const mode of ['bridge', 'default', 'mynet'])
        assert.deepStrictEqual(shownFindings(compose(`services:\n  web:\n    network_mode: ${mode}\n    ports: ["8080:80"]\n`)), [], mode);
    });
  });

  describe('host rules on compose facts', () => {
    it('ephemeral-port fires on published host ports only', () => {
      const e = compose(svc('      - "50000:50000"\n      - "50001"\n'));
      assert.deepStrictEqual(
        shownFindings(e).map((f) => [f.code, f.text]),
        [['ephemeral-port', '50000']],
      );
      assert.strictEqual(
        shownFindings(e)[0].message,
        'Port 50000/tcp is in the Linux ephemeral range 32768-60999: an outgoing connection may hold it when docker starts',
      );
      assert.strictEqual(shownFindings(e)[0].severity, 'warning');
    });

    it("ephemeral-port on a known product's standard port is information naming it (WireGuard's 51820/udp)", () => {
      const e = compose(svc('      - "51820:51820/udp"\n      - "51821:51821/udp"\n'));
      assert.deepStrictEqual(
        shownFindings(e).map((f) => [f.text, f.severity, f.messageId, f.message]),
        [
          [
            '51820',
            'information',
            'known-product',
            "Port 51820/udp is WireGuard's standard port, in the Linux ephemeral range 32768-60999: an outgoing connection could hold it",
          ],
          ['51821', 'warning', 'inside', 'Port 51821/udp is in the Linux ephemeral range 32768-60999: an outgoing connection may hold it when docker starts'],
        ],
      );
      // The product is known per protocol: 51820/tcp is nobody's standard port.
      assert.deepStrictEqual(
        shownFindings(compose(svc('      - "51820:51820"\n'))).map((f) => [f.severity, f.messageId]),
        [['warning', 'inside']],
      );
      // Fix all does not move a product's port: its "Use port N" is offered, not preferred.
      const fixes = [...e.analyze().findingsByFile.values()].flat().find((f) => f.messageId === 'known-product')!.fixes ?? [];
      assert.ok(fixes.length > 0 && fixes.every((f) => !f.preferred));
    });

    it('a published port collides with sshd on the same host', () => {
      const e = engineWith({ 'etc/ssh/sshd_config': 'Port 22\n', 'app/compose.yaml': svc('      - "22:22"\n') });
      const conflicts = shownFindings(e).filter((f) => f.code === 'port-conflict');
      assert.deepStrictEqual(conflicts.map((f) => [f.file.split('/').pop(), f.text]).sort(), [
        ['compose.yaml', '22'],
        ['sshd_config', '22'],
      ]);
    });

    it('two services of one project publishing the same host port collide (Docker: "port is already allocated")', () => {
      const e = compose(
        'services:\n  a:\n    image: x\n    ports: ["8080:80"]\n  b:\n    image: x\n    ports: ["8080:81", "127.0.0.1:9090:90"]\n  c:\n    image: x\n    ports: ["127.0.0.2:9090:90", "8080:80/udp"]\n',
      );
      const conflicts = shownFindings(e).filter((f) => f.code === 'port-conflict');
      assert.deepStrictEqual(
        conflicts.map((f) => [f.line, f.text]),
        [
          [4, '8080'],
          [7, '8080'],
        ],
      );
    });

    it('hover on a published port names the service, the mapping and the range class', () => {
      const text = svc('      - "8080:80"\n');
      const e = compose(text);
      const h = hoverAt(e, F, offsetOf(text, '8080', 0, 1), parseEphemeralRanges(undefined))!;
      assert.match(h.markdown, /TCP 8080/);
      assert.match(h.markdown, /registered/);
      assert.match(h.markdown, /docker publishes 0\.0\.0\.0:8080 → web:80\/tcp/);
      assert.match(h.markdown, /docker publishes 0\.0\.0\.0:8080 → web:80\/tcp \(and the same on \[::\]:8080\)/);
      const c = hoverAt(e, F, offsetOf(text, ':80', 0, 1), parseEphemeralRanges(undefined))!;
      assert.match(c.markdown, /container port 80\/tcp of web, published on host port 8080/);
    });
  });

  describe('file names', () => {
    it('claims compose files, overrides and -f variants, nothing else', () => {
      for (const yes of [
        'compose.yaml',
        'compose.yml',
        'docker-compose.yaml',
        'docker-compose.yml',
        'compose.override.yaml',
        'docker-compose.override.yml',
        'docker-compose.prod.yml',
        'x/compose.dev.yaml',
      ])
        assert.ok(isComposePath(`/ws/${yes}`), yes);
      for (const no of [
        '.env',
        'compose.json',
        'my-compose.yml',
        'docker-compose.yml.bak',
        'compose.a.b.yaml',
        'compose',
        'kompose.yaml',
        'docker-compose-v3.yml',
      ])
        assert.ok(!isComposePath(`/ws/${no}`), no);
    });

    it('recognises compose content in an unnamed document, not a CI file', () => {
      const m = createComposeModule();
      assert.ok(m.matchesContent!('services:\n  web:\n    image: nginx\n    ports: ["80:80"]\n'));
      assert.ok(!m.matchesContent!('stages: [build]\nservices:\n  - docker:dind\nbuild:\n  image: x\n  script: make\n'));
      assert.ok(!m.matchesContent!('server {\n  listen 80;\n}\n'));
    });
  });

  it('never throws on garbage and stays linear', function () {
    this.timeout(20000);
    const samples = [
      '\u0000\uffff"unterminated\n',
      'services: &a\n  web: *a\n',
      'a: &a [*a]\nservices:\n  web:\n    ports: *a\n',
      'services:\n  web:\n    <<: *nope\n    ports: *nope\n',
      'services:\n  web:\n    ports: "8080:80"\n    expose: 80\n    network_mode: [x]\n',
      'services:\n  ' + 'x:\n    '.repeat(200) + 'ports: [1]\n',
      '['.repeat(500),
      '{'.repeat(500) + '}'.repeat(500),
      'services:\n  web:\n    ports:\n' + '      - "${A:-${B:-${C:-${D:-1}}}}"\n'.repeat(100),
      'include: 5\nservices: 5\n',
      'include:\n  - {path: 5}\n  - [x]\n  - ""\n  - oci://x\n',
      'services:\n  web:\n    ports:\n      - ' + '9'.repeat(5000) + '\n',
    ];
    for (const s of samples) {
      const e = compose(s);
      assert.doesNotThrow(() => e.analyze(), JSON.stringify(s.slice(0, 40)));
      for (const list of e.analyze().findingsByFile.values())
        for (const f of list) assert.ok(f.span.start <= f.span.end && f.span.end <= s.length, JSON.stringify(s.slice(0, 40)));
      assert.ok(!shownFindings(e).some((f) => /could not/.test(f.message)), `parser failure on ${JSON.stringify(s.slice(0, 40))}`);
    }
    // Many services, and one service with many ports (their speed is measured by npm run bench, not here).
    const big =
      'services:\n' +
      Array.from({ length: 1000 }, (_, i) => `  s${i}:\n    image: x\n    ports: ["${10000 + i}:80", "127.0.0.1::${i}"]\n`).join('') +
      '  many:\n    image: x\n    ports:\n' +
      Array.from({ length: 1000 }, (_, i) => `      - "127.0.0.2:${20000 + i}:${i}"\n`).join('');
    const e = compose(big);
    assert.strictEqual(e.analyze().facts.filter(({ fact }) => fact.role === 'publish').length, 3000);
  });
});
