import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';
import { parseIni } from '../../server/src/formats/systemd/ini';

const binds = (files: Record<string, string>) =>
  engineWith(files)
    .analyze()
    .facts.filter(({ fact }) => fact.role === 'listen' && fact.program === 'systemd-resolved')
    .map(({ fact }) => `${fact.family === 'ipv6' ? `[${fact.address ?? '::'}]` : (fact.address ?? '0.0.0.0')}:${fact.port}/${fact.protocol}`)
    .sort();

const STUBS = ['127.0.0.53:53/tcp', '127.0.0.53:53/udp', '127.0.0.54:53/tcp', '127.0.0.54:53/udp'];
const MAIN = 'etc/systemd/resolved.conf';

describe('systemd-resolved', () => {
  it('listens on 127.0.0.53:53 and 127.0.0.54:53, UDP and TCP, by default', () => {
    assert.deepStrictEqual(binds({ [MAIN]: '[Resolve]\n#DNSStubListener=yes\nDNS=1.1.1.1\n' }), STUBS);
  });

  it('DNSStubListener=no turns both stubs off; udp and tcp keep one protocol', () => {
    assert.deepStrictEqual(binds({ [MAIN]: '[Resolve]\nDNSStubListener=no\n' }), []);
    assert.deepStrictEqual(binds({ [MAIN]: '[Resolve]\nDNSStubListener = false\n' }), []);
    assert.deepStrictEqual(binds({ [MAIN]: '[Resolve]\nDNSStubListener=udp\n' }), ['127.0.0.53:53/udp', '127.0.0.54:53/udp']);
    assert.deepStrictEqual(binds({ [MAIN]: '[Resolve]\nDNSStubListener=tcp\n' }), ['127.0.0.53:53/tcp', '127.0.0.54:53/tcp']);
  });

  it('keys are case-sensitive and count only in [Resolve]', () => {
    assert.deepStrictEqual(binds({ [MAIN]: '[Resolve]\ndnsstublistener=no\n' }), STUBS);
    assert.deepStrictEqual(binds({ [MAIN]: '[Other]\nDNSStubListener=no\n[Resolve]\n' }), STUBS);
  });

  it('reads DNSStubListenerExtra in every form, with an empty assignment clearing the list', () => {
    const text =
      '[Resolve]\nDNSStubListener=no\nDNSStubListenerExtra=192.168.10.10\nDNSStubListenerExtra=2001:db8::10\n' +
      'DNSStubListenerExtra=tcp:192.168.10.11:9953\nDNSStubListenerExtra=udp:[2001:db8::11]:9953\n';
    assert.deepStrictEqual(binds({ [MAIN]: text }), [
      '192.168.10.10:53/tcp',
      '192.168.10.10:53/udp',
      '192.168.10.11:9953/tcp',
      '[2001:db8::10]:53/tcp',
      '[2001:db8::10]:53/udp',
      '[2001:db8::11]:9953/udp',
    ]);
    assert.deepStrictEqual(binds({ [MAIN]: `${text}DNSStubListenerExtra=\nDNSStubListenerExtra=10.0.0.1:5353\n` }), ['10.0.0.1:5353/tcp', '10.0.0.1:5353/udp']);
  });

  it('reads the drop-ins of resolved.conf.d after the main file, in file-name order', () => {
    const files = {
      [MAIN]: '[Resolve]\nDNSStubListenerExtra=10.0.0.1\n',
      'etc/systemd/resolved.conf.d/20-b.conf': '[Resolve]\nDNSStubListener=udp\n',
      'etc/systemd/resolved.conf.d/10-a.conf': '[Resolve]\nDNSStubListener=no\nDNSStubListenerExtra=\n',
    };
    assert.deepStrictEqual(binds(files), ['127.0.0.53:53/udp', '127.0.0.54:53/udp']);
  });

  it('a stand-alone drop-in says only what it writes', () => {
    assert.deepStrictEqual(binds({ 'etc/systemd/resolved.conf.d/dns.conf': '[Resolve]\nDNS=9.9.9.9\n' }), []);
    assert.deepStrictEqual(binds({ 'etc/systemd/resolved.conf.d/a.conf': '[Resolve]\nDNSStubListenerExtra=udp:10.0.0.2\n' }), ['10.0.0.2:53/udp']);
  });

  it('claims a resolved.conf outside a systemd directory only when it has a [Resolve] section', () => {
    assert.deepStrictEqual(binds({ 'conf/resolved.conf': 'DNS=1.1.1.1\n' }), []);
    assert.deepStrictEqual(binds({ 'conf/resolved.conf': '[Resolve]\nDNS=1.1.1.1\n' }), STUBS);
  });

  it('joins continuation lines and skips comments inside them', () => {
    const ini = parseIni('[Resolve]\nDNS=1.1.1.1 \\\n# note\n  8.8.8.8\n; comment\nDomains=x\n');
    assert.deepStrictEqual(
      ini.assignments.map((a) => [a.key, a.value.split(/\s+/).join(' ')]),
      [
        ['DNS', '1.1.1.1 8.8.8.8'],
        ['Domains', 'x'],
      ],
    );
  });

  describe('findings', () => {
    const cases: [string, string, string][] = [
      ['DNSStubListenerExtra=10.0.0.1:70000', 'invalid-port', '70000'],
      ['DNSStubListenerExtra=10.0.0.1:0', 'invalid-port', '0'],
      ['DNSStubListenerExtra=[::1]:http', 'invalid-port', 'http'],
      ['DNSStubListenerExtra=dns.example', 'syntax', 'dns.example'],
      ['DNSStubListenerExtra=10.0.0.1:53%eth0', 'syntax', '10.0.0.1:53%eth0'],
      ['DNSStubListener=maybe', 'syntax', 'maybe'],
    ];
    for (const [line, code, text] of cases) {
      it(`${line}: ${code} warning (resolved ignores the line)`, () => {
        const got = shownFindings(engineWith({ [MAIN]: `[Resolve]\n${line}\n` }));
        assert.deepStrictEqual(
          got.map((f) => [f.code, f.severity, f.line, f.text]),
          [[code, 'warning', 2, text]],
        );
      });
    }

    it('is silent on valid settings, the stock file and settings it does not model', () => {
      const text =
        '[Resolve]\n#DNS=\nDNS=1.1.1.1#one.one.one.one 2606:4700:4700::1111\nDNSSEC=allow-downgrade\nDNSStubListener=yes\nDNSStubListenerExtra=[::1]:5353\nCache=no-negative\n';
      assert.deepStrictEqual(shownFindings(engineWith({ [MAIN]: text })), []);
    });
  });

  describe('conflicts', () => {
    const dnsCompose = (ports: string) => `services:\n  pihole:\n    image: pihole/pihole\n    ports:\n${ports}`;

    it('a DNS container published on 53 collides with the stub listener (UDP and TCP)', () => {
      const files = { [MAIN]: '[Resolve]\nDNS=1.1.1.1\n', 'srv/dns/compose.yaml': dnsCompose('      - "53:53/udp"\n      - "53:53/tcp"\n') };
      const got = shownFindings(engineWith(files)).filter((f) => f.code === 'port-conflict');
      assert.ok(
        got.some((f) => f.file.endsWith('compose.yaml') && /systemd-resolved/.test(f.message)),
        JSON.stringify(got),
      );
      assert.ok(got.some((f) => f.file.endsWith('resolved.conf') && f.text === '[Resolve]' && f.severity === 'error'));
    });

    it('is silent with DNSStubListener=no, with a container on 127.0.0.1:53, and beside an nginx UDP listener (both SO_REUSEADDR)', () => {
      const quiet = (files: Record<string, string>) =>
        assert.deepStrictEqual(
          shownFindings(engineWith(files)).filter((f) => f.code === 'port-conflict'),
          [],
        );
      quiet({ [MAIN]: '[Resolve]\nDNSStubListener=no\n', 'srv/dns/compose.yaml': dnsCompose('      - "53:53/udp"\n') });
      quiet({ [MAIN]: '[Resolve]\n', 'srv/dns/compose.yaml': dnsCompose('      - "127.0.0.1:53:53/udp"\n') });
      quiet({ [MAIN]: '[Resolve]\n', 'etc/nginx/nginx.conf': 'events {}\nstream { server { listen 53 udp; } }\n' });
    });

    it('without resolved.conf in the workspace, nothing is assumed', () => {
      assert.deepStrictEqual(shownFindings(engineWith({ 'srv/dns/compose.yaml': dnsCompose('      - "53:53/udp"\n') })), []);
    });
  });

  it('hovers the stub listener on [Resolve] and an extra listener on its port', () => {
    const text = '[Resolve]\nDNSStubListenerExtra=udp:10.0.0.5:5300\n';
    const engine = engineWith({ [MAIN]: text });
    const ranges = parseEphemeralRanges(undefined);
    const stub = hoverAt(engine, `/ws/${MAIN}`, offsetOf(text, 'Resolve'), ranges)!;
    assert.match(stub.markdown, /53/);
    assert.match(stub.markdown, /systemd-resolved listens on 127\.0\.0\.53:53/);
    const extra = hoverAt(engine, `/ws/${MAIN}`, offsetOf(text, '5300'), ranges)!;
    assert.match(extra.markdown, /UDP 5300/);
    assert.match(extra.markdown, /10\.0\.0\.5:5300\/udp/);
  });
});
