import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';

const binds = (files: Record<string, string>) =>
  engineWith(files)
    .analyze()
    .facts.filter(({ fact }) => fact.role === 'listen')
    .map(({ fact }) => `${fact.family === 'ipv6' ? `[${fact.address ?? '::'}]` : (fact.address ?? '0.0.0.0')}:${fact.port}`)
    .sort();

describe('sshd_config', () => {
  it('listens on 0.0.0.0:22 and [::]:22 when nothing is configured', () => {
    assert.deepStrictEqual(binds({ 'etc/ssh/sshd_config': '# empty\n' }), ['0.0.0.0:22', '[::]:22']);
  });

  it('multiplies ListenAddress without port by every Port, even one written after it', () => {
    const got = binds({ 'etc/ssh/sshd_config': 'ListenAddress 127.0.0.1\nListenAddress ::1\nPort 2222\nPort 22\n' });
    assert.deepStrictEqual(got, ['127.0.0.1:22', '127.0.0.1:2222', '[::1]:22', '[::1]:2222']);
  });

  it('reads host:port, [v6]:port, rdomain and localhost', () => {
    const got = binds({
      'etc/ssh/sshd_config': 'Port 22\nListenAddress 10.0.0.1:2200\nListenAddress [fe80::1]:2201 rdomain vrf1\nListenAddress localhost:2202\n',
    });
    assert.deepStrictEqual(got, ['10.0.0.1:2200', '127.0.0.1:2202', '[::1]:2202', '[fe80::1]:2201']);
  });

  it('keyword=value, case-insensitive keywords, trailing comments and service names', () => {
    assert.deepStrictEqual(binds({ 'etc/ssh/sshd_config': 'port=2022 # moved\nPORT ssh\n' }), ['0.0.0.0:2022', '0.0.0.0:22', '[::]:2022', '[::]:22']);
  });

  it('AddressFamily inet drops the IPv6 wildcard', () => {
    assert.deepStrictEqual(binds({ 'etc/ssh/sshd_config': 'AddressFamily inet\nPort 22\n' }), ['0.0.0.0:22']);
  });

  it('merges ports from Include globs, absolute paths mapped onto the workspace and relative ones under /etc/ssh', () => {
    const files = {
      'etc/ssh/sshd_config': 'Include /etc/ssh/sshd_config.d/*.conf\nInclude extra.conf\n',
      'etc/ssh/sshd_config.d/a.conf': 'Port 2201\n',
      'etc/ssh/sshd_config.d/b.conf': 'Port 2202\n',
      'etc/ssh/extra.conf': 'ListenAddress 127.0.0.1\n',
    };
    assert.deepStrictEqual(binds(files), ['127.0.0.1:2201', '127.0.0.1:2202']);
  });

  it('a stand-alone sshd_config.d fragment runs under the stock sshd_config: the default port 22', () => {
    assert.deepStrictEqual(binds({ 'etc/ssh/sshd_config.d/x.conf': 'PasswordAuthentication no\n' }), ['0.0.0.0:22', '[::]:22']);
  });

  it('stops include cycles', () => {
    const files = { 'etc/ssh/sshd_config': 'Include /etc/ssh/sshd_config\nPort 2222\n' };
    assert.deepStrictEqual(binds(files), ['0.0.0.0:2222', '[::]:2222']);
  });

  describe('invalid-port', () => {
    const cases: [string, string, string?][] = [
      ['Port 70000\n', '70000'],
      ['Port 0\n', '0'],
      ['Port abc\n', 'abc', 'unknown-service'],
      ['Port -1\n', '-1'],
      ['ListenAddress 127.0.0.1:99999\n', '99999'],
      ['ListenAddress [::1]:x\n', 'x', 'unknown-service'],
    ];
    for (const [text, bad, code = 'invalid-port'] of cases) {
      it(`fires on ${JSON.stringify(text)} with the exact range`, () => {
        const got = shownFindings(engineWith({ 'etc/ssh/sshd_config': text }));
        assert.deepStrictEqual(
          got.map((f) => [f.code, f.severity, f.text]),
          [[code, 'error', bad]],
        );
      });
    }
    it('stays silent on valid ports', () => {
      const got = shownFindings(engineWith({ 'etc/ssh/sshd_config': 'Port 1\nPort 65535\nPort 22\nListenAddress [::1]:2222\nListenAddress 127.0.0.1\n' }));
      assert.deepStrictEqual(
        got.filter((f) => f.code === 'invalid-port'),
        [],
      );
    });
  });

  it('reports Port and ListenAddress inside Match as sshd does, and analyses the rest', () => {
    const text = 'Port 2222\nMatch User bob\n  Port 2200\n  ListenAddress 1.2.3.4\n';
    const engine = engineWith({ 'etc/ssh/sshd_config': text });
    const got = shownFindings(engine).map((f) => [f.code, f.line, f.text]);
    assert.deepStrictEqual(got, [
      ['syntax', 3, 'Port'],
      ['syntax', 4, 'ListenAddress'],
    ]);
    assert.deepStrictEqual(binds({ 'etc/ssh/sshd_config': text }), ['0.0.0.0:2222', '[::]:2222']);
  });

  describe('ephemeral-port', () => {
    it('fires inside a configured range and names it', () => {
      const got = shownFindings(engineWith({ 'etc/ssh/sshd_config': 'Port 40022\n' }));
      assert.strictEqual(got.length, 1);
      assert.strictEqual(got[0].code, 'ephemeral-port');
      assert.strictEqual(got[0].severity, 'warning');
      assert.strictEqual(got[0].text, '40022');
      assert.match(got[0].message, /Linux ephemeral range 32768-60999/);
      assert.doesNotMatch(got[0].message, /IANA/);
    });
    it('stays silent below the ranges and on the implicit default', () => {
      assert.deepStrictEqual(shownFindings(engineWith({ 'etc/ssh/sshd_config': 'Port 32767\nPort 22\n' })), []);
    });
    it('follows the configured ranges', () => {
      const engine = engineWith({ 'etc/ssh/sshd_config': 'Port 40022\n' });
      engine.setSettings({ ephemeralRanges: parseEphemeralRanges(['50000-50100']) });
      assert.deepStrictEqual(shownFindings(engine), []);
    });
  });

  describe('read as sshd reads it (each case checked against sshd -T 9.2)', () => {
    const errors = (files: Record<string, string>) =>
      shownFindings(engineWith(files))
        .filter((f) => f.severity === 'error')
        .map((f) => [f.code, f.line, f.text]);

    it('Port takes a sign, leading zeros, quotes and lower-case service names', () => {
      assert.deepStrictEqual(
        binds({ 'etc/ssh/sshd_config': 'Port +2201\nPort 02202\nPort \'2203\'\nPort " 2204"\nPort ssh\n' }).filter((b) => b.startsWith('0.')),
        ['0.0.0.0:22', '0.0.0.0:2201', '0.0.0.0:2202', '0.0.0.0:2203', '0.0.0.0:2204'],
      );
      assert.deepStrictEqual(errors({ 'etc/ssh/sshd_config': "Port +2201\nPort '2203'\nPort ssh\n" }), []);
    });

    it('Port refuses upper-case service names, a second =, and a comment glued to the number', () => {
      assert.deepStrictEqual(errors({ 'etc/ssh/sshd_config': 'Port SSH\nPort==22\nPort 22#c\n' }), [
        ['unknown-service', 1, 'SSH'],
        ['invalid-port', 2, '=22'],
        ['invalid-port', 3, '22#c'],
      ]);
    });

    it('a keyword without argument and an unclosed quote are syntax errors', () => {
      assert.deepStrictEqual(errors({ 'etc/ssh/sshd_config': 'Port\nListenAddress "127.0.0.1\nPasswordAuthentication\nPort 2222\n' }), [
        ['syntax', 1, 'Port'],
        ['syntax', 2, '"127.0.0.1'],
        ['syntax', 3, 'PasswordAuthentication'],
      ]);
    });

    it('ListenAddress takes every inet_aton form of IPv4', () => {
      assert.deepStrictEqual(
        binds({ 'etc/ssh/sshd_config': 'Port 22\nListenAddress 127.1\nListenAddress 0x7f.0.0.2\nListenAddress 010.0.0.1\nListenAddress 0\n' }),
        ['0.0.0.0:22', '127.0.0.1:22', '127.0.0.2:22', '8.0.0.1:22'],
      );
    });

    it('malformed ListenAddress values are invalid-port, a wrong rdomain clause is syntax', () => {
      const text =
        'ListenAddress 127.0.0.1/22\nListenAddress [::1]x\nListenAddress 1.2.3.4.5\nListenAddress :2200\nListenAddress 127.0.0.1 Rdomain lo\nListenAddress 127.0.0.1 rdomain lo\n';
      assert.deepStrictEqual(errors({ 'etc/ssh/sshd_config': text }), [
        ['invalid-port', 1, '127.0.0.1/22'],
        ['invalid-port', 2, '[::1]x'],
        ['invalid-port', 3, '1.2.3.4.5'],
        ['invalid-port', 4, ':2200'],
        ['syntax', 5, 'Rdomain'],
      ]);
    });

    it('AddressFamily refuses a ListenAddress of the other family, and maps loopback names to 127.0.0.1 under inet', () => {
      assert.deepStrictEqual(errors({ 'etc/ssh/sshd_config': 'AddressFamily inet\nListenAddress ::1\nListenAddress 127.0.0.1\n' }), [
        ['invalid-port', 2, '::1'],
      ]);
      assert.deepStrictEqual(errors({ 'etc/ssh/sshd_config': 'AddressFamily inet6\nListenAddress 0.0.0.0\n' }), [['invalid-port', 2, '0.0.0.0']]);
      assert.deepStrictEqual(binds({ 'etc/ssh/sshd_config': 'AddressFamily inet\nListenAddress ip6-localhost\nListenAddress localhost:2200\n' }), [
        '127.0.0.1:22',
        '127.0.0.1:2200',
      ]);
      assert.deepStrictEqual(errors({ 'etc/ssh/sshd_config': 'AddressFamily inet6\nListenAddress localhost\n' }), []);
    });

    it('the first AddressFamily read wins, reading an Include where it stands', () => {
      const files = { 'etc/ssh/sshd_config': 'Include /etc/ssh/af.conf\nAddressFamily inet\n', 'etc/ssh/af.conf': 'AddressFamily inet6\n' };
      assert.deepStrictEqual(binds(files), ['[::]:22']);
      assert.deepStrictEqual(binds({ ...files, 'etc/ssh/sshd_config': 'AddressFamily inet\nInclude /etc/ssh/af.conf\n' }), ['0.0.0.0:22']);
    });

    it('Match all reopens the global scope; AddressFamily is global too', () => {
      assert.deepStrictEqual(errors({ 'etc/ssh/sshd_config': 'Match User bob\n  X11Forwarding no\nMatch all\nPort 2222\n' }), []);
      assert.deepStrictEqual(errors({ 'etc/ssh/sshd_config': 'Match User bob\n  AddressFamily inet\n' }), [['syntax', 2, 'AddressFamily']]);
    });

    it('a file included inside a Match block is inside it, even after its own Match all', () => {
      const files = { 'etc/ssh/sshd_config': 'Match User bob\n  Include /etc/ssh/p.conf\n', 'etc/ssh/p.conf': 'Match all\nPort 2200\n' };
      assert.deepStrictEqual(
        shownFindings(engineWith(files)).map((f) => [f.file, f.code, f.line, f.text]),
        [['/ws/etc/ssh/p.conf', 'syntax', 2, 'Port']],
      );
      // A Match block inside an included file ends with that file.
      assert.deepStrictEqual(errors({ 'etc/ssh/sshd_config': 'Include /etc/ssh/m.conf\nPort 2222\n', 'etc/ssh/m.conf': 'Match User bob\n' }), []);
    });

    it('Match conditions: a bad LocalPort is invalid-port, a bad criterion is syntax', () => {
      assert.deepStrictEqual(errors({ 'etc/ssh/sshd_config': 'Match LocalPort 70000\n' }), [['invalid-port', 1, '70000']]);
      assert.deepStrictEqual(errors({ 'etc/ssh/sshd_config': 'Match all User bob\n' }), [['syntax', 1, 'all']]);
      assert.deepStrictEqual(errors({ 'etc/ssh/sshd_config': 'Match Foo bar\n' }), [['syntax', 1, 'Foo']]);
      assert.deepStrictEqual(errors({ 'etc/ssh/sshd_config': 'Match LocalPort 0\nMatch LocalPort ssh\nMatch User=bob Address 10.0.0.0/8\n' }), []);
    });

    it('Include globs follow glob(3): no braces, no globstar, ! negates, backslash quotes', () => {
      const dir = 'etc/ssh/d';
      const files = {
        [`${dir}/a.conf`]: 'Port 2201\n',
        [`${dir}/b.conf`]: 'Port 2202\n',
        [`${dir}/{a,b}.conf`]: 'Port 2203\n',
        [`${dir}/a*.conf`]: 'Port 2204\n',
        [`${dir}/sub/a.conf`]: 'Port 2205\n',
      };
      const ports = (pattern: string) =>
        engineWith({ ...files, 'etc/ssh/sshd_config': `Include /etc/ssh/d/${pattern}\n` })
          .analyze()
          .facts.filter(({ fact }) => fact.instance === '/ws/etc/ssh/sshd_config' && fact.family === 'ipv4')
          .map(({ fact }) => fact.port);
      assert.deepStrictEqual(ports('{a,b}.conf'), [2203]);
      assert.deepStrictEqual(ports('[!a].conf'), [2202]);
      assert.deepStrictEqual(ports('a\\*.conf'), [2204]);
      assert.deepStrictEqual(ports('**/a.conf'), [2205]);
    });
  });

  it('never throws on garbage and still analyses the valid lines', () => {
    const garbage = '\u0000\uffff"unterminated\n=\n====\nPort\nListenAddress\nListenAddress [::1\nListenAddress :22\nPort 2222\n' + 'x'.repeat(10000);
    const engine = engineWith({ 'etc/ssh/sshd_config': garbage });
    const findings = shownFindings(engine);
    assert.ok(findings.length >= 3);
    for (const f of engine.analyze().findingsByFile.get('/ws/etc/ssh/sshd_config')!) assert.ok(f.span.start <= f.span.end && f.span.end <= garbage.length);
    assert.deepStrictEqual(binds({ 'etc/ssh/sshd_config': garbage }), ['0.0.0.0:2222', '[::]:2222']);
  });

  it('hover names the service, range class and ephemeral status', () => {
    const text = 'Port 22\nPort 50000\n';
    const engine = engineWith({ 'etc/ssh/sshd_config': text });
    const ranges = parseEphemeralRanges(undefined);
    const h22 = hoverAt(engine, '/ws/etc/ssh/sshd_config', offsetOf(text, '22'), ranges)!;
    assert.match(h22.markdown, /TCP 22 — SSH/);
    assert.match(h22.markdown, /well-known/);
    assert.doesNotMatch(h22.markdown, /Inside the/);
    const h50k = hoverAt(engine, '/ws/etc/ssh/sshd_config', offsetOf(text, '50000', 0, 2), ranges)!;
    assert.match(h50k.markdown, /TCP 50000/);
    assert.match(h50k.markdown, /Inside the IANA dynamic\/ephemeral range 49152-65535 and the Linux ephemeral range/);
    assert.strictEqual(hoverAt(engine, '/ws/etc/ssh/sshd_config', offsetOf(text, 'Port'), ranges), undefined);
  });
});
