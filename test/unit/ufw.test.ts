import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';
import type { InstanceInput } from '../../server/src/core/types';
import { createUfwModules, parseUfwConfig, parseUfwProfiles, parseUserRules, ufwFirewall, type UfwAppExtra } from '../../server/src/formats/ufw';
import { loadRegistry } from '../../server/src/workspace/data';
import { ruleConditions } from '../helpers/firewall';

const registry = loadRegistry();
const resolve = (n: string, p?: 'tcp' | 'udp' | 'sctp') => registry.serviceToPort(n, p);

const HEADER =
  '*filter\n:ufw-user-input - [0:0]\n:ufw-user-output - [0:0]\n:ufw-user-forward - [0:0]\n:ufw-user-limit - [0:0]\n:ufw-user-limit-accept - [0:0]\n### RULES ###\n';
const FOOTER = '\n### END RULES ###\n-A ufw-user-limit -j REJECT\n-A ufw-user-limit-accept -j ACCEPT\nCOMMIT\n';
const userRules = (body: string) => `${HEADER}${body}${FOOTER}`;

/** What ufw 0.36 writes for `allow OpenSSH`, `limit 2222/tcp`, `deny proto udp from 10.0.0.0/8 to any port 53`, `reject out 25/tcp`. */
const WRITTEN = userRules(
  [
    '### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 OpenSSH - in',
    "-A ufw-user-input -p tcp --dport 22 -j ACCEPT -m comment --comment 'dapp_OpenSSH'",
    '',
    '### tuple ### limit tcp 2222 0.0.0.0/0 any 0.0.0.0/0 in',
    '-A ufw-user-input -p tcp --dport 2222 -m conntrack --ctstate NEW -m recent --set',
    '-A ufw-user-input -p tcp --dport 2222 -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 -j ufw-user-limit',
    '-A ufw-user-input -p tcp --dport 2222 -j ufw-user-limit-accept',
    '',
    '### tuple ### deny udp 53 0.0.0.0/0 any 10.0.0.0/8 in',
    '-A ufw-user-input -p udp --dport 53 -s 10.0.0.0/8 -j DROP',
    '',
    '### tuple ### reject tcp 25 0.0.0.0/0 any 0.0.0.0/0 out',
    '-A ufw-user-output -p tcp --dport 25 -j REJECT --reject-with tcp-reset',
  ].join('\n'),
);
const OPENSSH =
  '[OpenSSH]\ntitle=Secure shell server, an rshd replacement\ndescription=OpenSSH is a free implementation of the Secure Shell protocol.\nports=22/tcp\n';
const DEFAULTS = 'IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\nDEFAULT_OUTPUT_POLICY="ACCEPT"\nDEFAULT_FORWARD_POLICY="DROP"\n';

describe('ufw', () => {
  describe('user.rules', () => {
    it('reads each tuple as ufw means it: limit allows, out rules are not inbound', () => {
      const fw = parseUserRules(WRITTEN, '/etc/ufw/user.rules', resolve).firewall!;
      assert.strictEqual(fw.tool, 'ufw');
      assert.deepStrictEqual(fw.inboundPolicy, { action: 'drop', family: 'ipv4' });
      assert.deepStrictEqual(
        fw.inputRules.map((r) => [r.action, r.protocol, r.ports, r.source, r.note]),
        [
          ['accept', 'tcp', [{ from: 22, to: 22 }], undefined, 'application profile OpenSSH'],
          ['limit', 'tcp', [{ from: 2222, to: 2222 }], undefined, 'rate-limited: 6 new connections in 30 s per source'],
          ['drop', 'udp', [{ from: 53, to: 53 }], '10.0.0.0/8', undefined],
        ],
      );
      assert.strictEqual(WRITTEN.slice(fw.inputRules[1].span.start, fw.inputRules[1].span.end), '### tuple ### limit tcp 2222 0.0.0.0/0 any 0.0.0.0/0 in');
    });

    it("has a fact for every port of the tuples and of the -A lines, told in the tuple's words", () => {
      const p = parseUserRules(WRITTEN, '/etc/ufw/user.rules', resolve);
      const at2222 = p.facts.filter((f) => f.port === 2222);
      assert.strictEqual(at2222.length, 4);
      assert.ok(at2222.every((f) => f.detail === 'allows TCP 2222 inbound (rate-limited)' && f.program === 'ufw' && f.role === 'firewall'));
      assert.deepStrictEqual(
        p.facts.filter((f) => f.port === 25).map((f) => f.detail),
        ['rejects TCP 25 outbound', 'rejects TCP 25 outbound'],
      );
      assert.deepStrictEqual([...new Set(p.facts.filter((f) => f.port === 53).map((f) => f.detail))], ['drops UDP 53 inbound from 10.0.0.0/8']);
    });

    it('reads -A lines that no tuple describes as iptables rules', () => {
      const text = userRules(
        '### tuple ### allow tcp 443 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 443 -j ACCEPT\n-A ufw-user-input -p tcp --dport 8080 -j ACCEPT',
      );
      const p = parseUserRules(text, '/etc/ufw/user.rules', resolve);
      assert.deepStrictEqual(
        p.firewall!.inputRules.map((r) => [r.action, r.ports![0].from]),
        [
          ['accept', 443],
          ['accept', 8080],
        ],
      );
      assert.ok(p.facts.some((f) => f.port === 8080 && f.detail === 'allows TCP 8080 inbound (chain ufw-user-input)'));
    });

    it('gives source ports, destination, loopback, rate limits and chains as structured fields, and none for a plain port tuple', () => {
      const text = userRules(
        [
          // -A lines before the first tuple belong to none: read as iptables rules
          '-A ufw-user-input -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
          '-A ufw-user-input -p tcp --dport 8443 -j ufw-user-limit-accept',
          '### tuple ### allow any any 0.0.0.0/0 any 0.0.0.0/0 in_lo',
          '-A ufw-user-input -i lo -j ACCEPT',
          '### tuple ### deny tcp any 0.0.0.0/0 53 0.0.0.0/0 in',
          '-A ufw-user-input -p tcp --sport 53 -j DROP',
          '### tuple ### allow tcp 80 10.0.0.1 any 0.0.0.0/0 in',
          '-A ufw-user-input -p tcp -d 10.0.0.1 --dport 80 -j ACCEPT',
          '### tuple ### limit tcp 2222 0.0.0.0/0 any 0.0.0.0/0 in',
          '-A ufw-user-input -p tcp --dport 2222 -m conntrack --ctstate NEW -m recent --set',
          '-A ufw-user-input -p tcp --dport 2222 -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 -j ufw-user-limit',
          '-A ufw-user-input -p tcp --dport 2222 -j ufw-user-limit-accept',
          '### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in',
          '-A ufw-user-input -p tcp --dport 22 -j ACCEPT',
        ].join('\n'),
      );
      const fw = parseUserRules(text, '/etc/ufw/user.rules', resolve).firewall!;
      assert.deepStrictEqual(
        fw.inputRules.map((r) => [r.action, r.protocol, r.ports?.[0].from, ruleConditions(r)]),
        [
          ['accept', 'any', undefined, { matchesNew: false, chain: 'ufw-user-input' }],
          ['accept', 'tcp', 8443, { chain: 'ufw-user-limit-accept' }],
          ['accept', 'any', undefined, { loopbackOnly: true, chain: 'ufw-user-input' }],
          ['drop', 'tcp', undefined, { sourcePorts: [{ from: 53, to: 53 }], chain: 'ufw-user-input' }],
          ['accept', 'tcp', 80, { destination: '10.0.0.1', chain: 'ufw-user-input' }],
          ['limit', 'tcp', 2222, { chain: 'ufw-user-input', unmodelled: ['rate limit (-m recent)'] }],
          ['accept', 'tcp', 22, { chain: 'ufw-user-input' }],
        ],
      );
      assert.strictEqual(fw.inputRules[2].iface, 'lo');
    });

    it('user6.rules is IPv6', () => {
      const p = parseUserRules(userRules('').replace(/ufw-/g, 'ufw6-'), '/etc/ufw/user6.rules', resolve);
      assert.strictEqual(p.firewall!.inboundPolicy!.family, 'ipv6');
    });

    describe('invalid-port', () => {
      for (const [port, text, code = 'invalid-port'] of [
        ['70000', '70000'],
        ['0', '0'],
        ['2000:1000', '2000:1000'],
        ['1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16', '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16'],
        ['nosuchservice', 'nosuchservice', 'unknown-service'],
      ]) {
        it(`fires on a hand-edited tuple port ${port}`, () => {
          const body = `### tuple ### allow tcp ${port} 0.0.0.0/0 any 0.0.0.0/0 in\n`;
          const got = shownFindings(engineWith({ 'etc/ufw/user.rules': userRules(body) }));
          assert.deepStrictEqual(
            got.map((f) => [f.code, f.severity, f.text]),
            [[code, 'error', text]],
          );
        });
      }
      it('fires on the -A line where iptables-restore (ufw-init) refuses the port', () => {
        const body = '### tuple ### allow tcp 7000 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 70000 -j ACCEPT\n';
        assert.deepStrictEqual(
          shownFindings(engineWith({ 'etc/ufw/user.rules': userRules(body) })).map((f) => [f.code, f.text]),
          [['invalid-port', '70000']],
        );
      });
      it('stays silent on what ufw writes', () => {
        assert.deepStrictEqual(shownFindings(engineWith({ 'etc/ufw/user.rules': WRITTEN })), []);
      });
    });

    it('reports a malformed tuple and keeps reading', () => {
      const text = userRules(
        '### tuple ### allow tcp\n### tuple ### allow foo 22 0.0.0.0/0 any 0.0.0.0/0 in\n### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 80 -j ACCEPT\n',
      );
      const p = parseUserRules(text, '/etc/ufw/user.rules', resolve);
      assert.deepStrictEqual(
        p.findings.map((f) => [f.code, text.slice(f.span.start, f.span.end)]),
        [
          ['syntax', '### tuple ### allow tcp'],
          ['syntax', 'foo'],
        ],
      );
      assert.deepStrictEqual(
        p.firewall!.inputRules.map((r) => r.ports![0].from),
        [80],
      );
    });
  });

  describe('settings and profiles through the engine', () => {
    const workspace = (conf: string, profile = OPENSSH) => ({
      'etc/ufw/user.rules': WRITTEN,
      'etc/ufw/ufw.conf': conf,
      'etc/default/ufw': DEFAULTS,
      'etc/ufw/applications.d/openssh-server': profile,
    });

    it('links the settings and profiles of /etc onto the workspace: facts say when ufw is disabled', () => {
      const engine = engineWith(workspace('ENABLED=no\n'));
      const facts = engine.analyze().factsByFile.get('/ws/etc/ufw/user.rules')!;
      assert.ok(facts.every((f) => f.detail!.endsWith(' — not enforced: ufw is disabled (ENABLED=no)')));
      const enabled = engineWith(workspace('ENABLED=yes\n')).analyze().factsByFile.get('/ws/etc/ufw/user.rules')!;
      assert.ok(enabled.every((f) => !f.detail!.includes('not enforced')));
      assert.deepStrictEqual(engine.analyze().formatOf.get('/ws/etc/default/ufw'), 'ufw-config');
      assert.deepStrictEqual(engine.analyze().formatOf.get('/ws/etc/ufw/applications.d/openssh-server'), 'ufw-app');
    });

    it('says when an application rule no longer matches its profile, and not when it does', () => {
      const changed = OPENSSH.replace('ports=22/tcp', 'ports=2200/tcp');
      const facts = engineWith(workspace('ENABLED=yes\n', changed)).analyze().factsByFile.get('/ws/etc/ufw/user.rules')!;
      assert.ok(
        facts
          .filter((f) => f.port === 22)
          .every(
            (f) =>
              f.detail === 'allows TCP 22 inbound (application profile OpenSSH); the profile now lists 2200/tcp: `ufw app update OpenSSH` rewrites this rule',
          ),
      );
      const same = engineWith(workspace('ENABLED=yes\n')).analyze().factsByFile.get('/ws/etc/ufw/user.rules')!;
      assert.ok(same.filter((f) => f.port === 22).every((f) => f.detail === 'allows TCP 22 inbound (application profile OpenSSH)'));
    });

    it('does not count the profile or settings facts twice', () => {
      const all = engineWith(workspace('ENABLED=yes\n'))
        .analyze()
        .facts.map(({ fact }) => fact);
      assert.strictEqual(all.filter((f) => f.file.endsWith('openssh-server')).length, 1);
    });

    it('hover on a rule port and on a profile port', () => {
      const engine = engineWith(workspace('ENABLED=yes\n'));
      const ranges = parseEphemeralRanges(undefined);
      const h = hoverAt(engine, '/ws/etc/ufw/user.rules', offsetOf(WRITTEN, '2222'), ranges)!;
      assert.match(h.markdown, /allows TCP 2222 inbound \(rate-limited\)/);
      const hp = hoverAt(engine, '/ws/etc/ufw/applications.d/openssh-server', offsetOf(OPENSSH, '22/tcp'), ranges)!;
      assert.match(hp.markdown, /TCP 22 — SSH/);
      assert.match(hp.markdown, /application profile "OpenSSH" lists TCP 22/);
    });

    it('ufwFirewall applies DEFAULT_INPUT_POLICY and ENABLED', () => {
      const root = parseUserRules(WRITTEN, '/etc/ufw/user.rules', resolve);
      const conf = parseUfwConfig('ENABLED=no\n', '/etc/ufw/ufw.conf');
      const defaults = parseUfwConfig(DEFAULTS.replace('"DROP"\nDEFAULT_OUTPUT', '"REJECT"\nDEFAULT_OUTPUT'), '/etc/default/ufw');
      const instance: InstanceInput = { root, files: [root, defaults, conf], edges: [] };
      const fw = ufwFirewall(instance)!;
      assert.strictEqual(fw.inboundPolicy!.action, 'reject');
      assert.strictEqual(fw.enabled, false);
    });
  });

  describe('settings files', () => {
    it('fires on an invalid or missing policy and on an odd ENABLED', () => {
      const p = parseUfwConfig('DEFAULT_INPUT_POLICY="ALLOW"\nDEFAULT_OUTPUT_POLICY="ACCEPT"\nENABLED=true\n', '/etc/default/ufw');
      assert.deepStrictEqual(
        p.findings.map((f) => [f.code, f.severity, f.message.slice(0, 30)]),
        [
          ['syntax', 'error', 'Invalid policy "allow" for inp'],
          ['syntax', 'error', 'Missing DEFAULT_FORWARD_POLICY'],
          ['syntax', 'warning', 'ENABLED is "true": ufw starts '],
        ],
      );
    });
    it('stays silent on the shipped files', () => {
      assert.deepStrictEqual(parseUfwConfig(DEFAULTS, '/etc/default/ufw').findings, []);
      assert.deepStrictEqual(parseUfwConfig('ENABLED=no\nLOGLEVEL=low\n', '/etc/ufw/ufw.conf').findings, []);
    });
  });

  describe('application profiles', () => {
    const profiles = (text: string) => (parseUfwProfiles(text, '/etc/ufw/applications.d/x', resolve).extra as UfwAppExtra).profiles;
    it('reads lists, ranges, several protocols and multi-line values', () => {
      const text = '[Web]\ntitle=Web\ndescription=A web\n  server\nports=80,443/tcp|60000:61000/udp|53\n';
      const p = parseUfwProfiles(text, '/etc/ufw/applications.d/x', resolve);
      assert.deepStrictEqual(
        profiles(text).map((x) => x.ports.map((g) => [g.protocol, g.elems.map((e) => [e.from, e.to])])),
        [
          [
            [
              'tcp',
              [
                [80, 80],
                [443, 443],
              ],
            ],
            ['udp', [[60000, 61000]]],
            ['any', [[53, 53]]],
          ],
        ],
      );
      assert.deepStrictEqual(
        p.facts.map((f) => `${f.protocol}/${text.slice(f.span.start, f.span.end)}`),
        ['tcp/80', 'tcp/443', 'udp/60000:61000', 'tcp/53', 'udp/53'],
      );
      assert.deepStrictEqual(p.findings, []);
    });
    it('fires invalid-port on ports ufw refuses, with the range of the bad part', () => {
      for (const [ports, bad] of [
        ['70000/tcp', '70000'],
        ['2000:1000/tcp', '2000:1000'],
        ['1234,5678', '1234,5678'],
        ['8o', '8o'],
      ]) {
        const text = `[X]\ntitle=x\ndescription=x\nports=${ports}\n`;
        const p = parseUfwProfiles(text, '/etc/ufw/applications.d/x', resolve);
        assert.deepStrictEqual(
          p.findings.map((f) => [f.code, text.slice(f.span.start, f.span.end)]),
          [['invalid-port', bad]],
          ports,
        );
        assert.deepStrictEqual(profiles(text), []);
      }
    });
    it('skips what ufw skips: bad names, missing fields, files configparser refuses', () => {
      assert.deepStrictEqual(profiles('[bad&name]\ntitle=x\ndescription=x\nports=80\n'), []);
      assert.deepStrictEqual(profiles('[X]\ntitle=x\nports=80\n'), []);
      assert.deepStrictEqual(profiles('[A]\ntitle=x\ndescription=x\nports=80\n[A]\ntitle=y\ndescription=y\nports=81\n'), []);
      assert.deepStrictEqual(profiles('[A\ntitle=x\ndescription=x\nports=80\n'), []);
      assert.deepStrictEqual(profiles('[ssh]\ntitle=x\ndescription=x\nports=22/tcp\n'), []);
      assert.deepStrictEqual(
        profiles('[A]\nTitle=x\ndescription=x\nports=80\n').map((p) => p.name),
        ['A'],
      );
    });
  });

  it('modules find their files by path', () => {
    const [rules, config, app] = createUfwModules(resolve);
    assert.ok(rules.matchesPath('/etc/ufw/user.rules') && rules.matchesPath('/etc/ufw/user6.rules') && rules.matchesPath('/etc/ufw/before.rules'));
    assert.ok(!rules.matchesPath('/etc/iptables/rules.v4'));
    assert.ok(config.matchesPath('/etc/default/ufw') && config.matchesPath('/etc/ufw/ufw.conf'));
    assert.ok(app.matchesPath('/etc/ufw/applications.d/openssh-server'));
    assert.ok(!app.matchesPath('/etc/ufw/applications.d/apache.dpkg-dist') && !app.matchesPath('/etc/ufw/applications.d/.hidden'));
  });

  it('never throws on garbage', () => {
    const garbage = '### tuple ###\n### tuple ### a b c d e f g h i j\n[\n=\n\u0000ports=|||\n*filter\n-A ufw-user-input -p tcp --dport\n';
    for (const p of [
      parseUserRules(garbage, '/etc/ufw/user.rules', resolve),
      parseUfwProfiles(garbage, '/x/applications.d/y', resolve),
      parseUfwConfig(garbage, '/etc/default/ufw'),
    ]) {
      for (const f of p.findings) assert.ok(f.span.start <= f.span.end && f.span.end <= garbage.length);
    }
  });
});

describe('ufw rules files: the chains ufw-init creates before restoring them', () => {
  const after = (target: string, v6 = false) =>
    `*filter\n:ufw${v6 ? '6' : ''}-after-input - [0:0]\n-A ufw${v6 ? '6' : ''}-after-input -p udp --dport 137 -j ${target}\nCOMMIT\n`;
  it('a jump to ufw-skip-to-policy-input or ufw-logging-deny (stock after.rules, before.rules) is no error', () => {
    assert.deepStrictEqual(parseUserRules(after('ufw-skip-to-policy-input'), '/ws/etc/ufw/after.rules', resolve).findings, []);
    assert.deepStrictEqual(parseUserRules(after('ufw-logging-deny'), '/ws/etc/ufw/before.rules', resolve).findings, []);
    assert.deepStrictEqual(parseUserRules(after('ufw6-skip-to-policy-input', true), '/ws/etc/ufw/after6.rules', resolve).findings, []);
  });
  it('a jump to a chain neither ufw-init nor the file creates is still an error, as is the v4 name in a v6 file', () => {
    assert.deepStrictEqual(
      parseUserRules(after('ufw-nowhere'), '/ws/etc/ufw/after.rules', resolve).findings.map((f) => f.code),
      ['syntax'],
    );
    assert.deepStrictEqual(
      parseUserRules(after('ufw-skip-to-policy-input', true), '/ws/etc/ufw/after6.rules', resolve).findings.map((f) => f.code),
      ['syntax'],
    );
  });
});
