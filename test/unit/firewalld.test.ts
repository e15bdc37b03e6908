import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';
import { checkPort, createFirewalldModules } from '../../server/src/formats/firewalld';
import { loadRegistry } from '../../server/src/workspace/data';
import { loadFirewalldServices } from '../../server/src/workspace/firewalldData';
import { ruleConditions, rulePorts as ports } from '../helpers/firewall';

const registry = loadRegistry();
const stock = loadFirewalldServices();
const [zoneModule, serviceModule] = createFirewalldModules(stock, (n) => registry.serviceToPort(n));
const ZONE = 'etc/firewalld/zones/public.xml';

const zone = (body: string, attrs = '') => `<?xml version="1.0" encoding="utf-8"?>\n<zone${attrs}>\n  <short>Public</short>\n${body}</zone>\n`;
const rules = (text: string) =>
  (zoneModule.parse(text, `/ws/${ZONE}`).firewall?.inputRules ?? []).map(
    (r) => `${r.protocol} ${ports(r) || '*'} ${r.action}${r.source ? ` from ${r.source}` : ''}`,
  );
const facts = (files: Record<string, string>, file = ZONE) =>
  engineWith(files)
    .analyze()
    .facts.filter(({ fact }) => fact.file === `/ws/${file}`)
    .map(
      ({ fact }) =>
        `${fact.role} ${fact.protocol} ${fact.port === fact.portEnd ? fact.port : `${fact.port}-${fact.portEnd}`} @${files[file].slice(fact.span.start, fact.span.end)}: ${fact.detail} [${fact.context}]`,
    )
    .sort();
const errors = (files: Record<string, string>, file = ZONE) => shownFindings(engineWith(files), `/ws/${file}`).map((f) => [f.code, f.line, f.text]);

describe('firewalld', () => {
  describe('zones', () => {
    it('reads services, ports, ranges and source ports with their spans; services resolve through the stock data', () => {
      const text = zone(
        '  <service name="ssh"/>\n  <port port="8080" protocol="tcp"/>\n  <port port="60000-61000" protocol="udp"/>\n  <source-port port="53" protocol="udp"/>\n',
      );
      assert.deepStrictEqual(facts({ [ZONE]: text }), [
        'firewall tcp 22 @ssh: allows TCP 22 inbound (service ssh) [zone public (the default zone)]',
        'firewall tcp 8080 @8080: allows TCP 8080 inbound [zone public (the default zone)]',
        'firewall udp 53 @53: allows UDP from source port 53 inbound [zone public (the default zone)]',
        'firewall udp 60000-61000 @60000-61000: allows UDP 60000-61000 inbound [zone public (the default zone)]',
      ]);
    });

    it("the workspace's own service definitions win over the stock ones, includes are followed, and firewalld.conf names the default zone", () => {
      const files = {
        [ZONE]: zone('  <service name="ssh"/>\n  <service name="myapp"/>\n'),
        'etc/firewalld/services/ssh.xml': '<service><short>SSH</short><port port="2222" protocol="tcp"/></service>\n',
        'etc/firewalld/services/myapp.xml': '<service><short>App</short><port port="9000" protocol="tcp"/><include service="http"/></service>\n',
        'etc/firewalld/firewalld.conf': '# firewalld\nDefaultZone=public\n',
      };
      assert.deepStrictEqual(facts(files), [
        'firewall tcp 2222 @ssh: allows TCP 2222 inbound (service ssh) [zone public (the default zone)]',
        'firewall tcp 80 @myapp: allows TCP 80 inbound (service myapp) [zone public (the default zone)]',
        'firewall tcp 9000 @myapp: allows TCP 9000 inbound (service myapp) [zone public (the default zone)]',
      ]);
      assert.deepStrictEqual(facts(files, 'etc/firewalld/services/ssh.xml'), [
        'firewall tcp 2222 @2222: service ssh covers TCP 2222 (it opens where a zone lists the service) [service ssh]',
      ]);
    });

    it('forward-ports: the port is a firewall fact, the target a forward fact', () => {
      const text = zone('  <forward-port port="8443" protocol="tcp" to-port="443" to-addr="10.0.0.2"/>\n');
      assert.deepStrictEqual(facts({ [ZONE]: text }), [
        'firewall tcp 8443 @8443: forwards TCP 8443 to 10.0.0.2:443 [zone public (the default zone)]',
        'forward tcp 443 @443: forward target: TCP 8443 arrives at 10.0.0.2:443 [zone public (the default zone)]',
      ]);
      assert.deepStrictEqual(
        zoneModule.parse(text, `/ws/${ZONE}`).firewall?.forwards.map((f) => [f.kind, f.toAddress, f.toPorts]),
        [['forward-port', '10.0.0.2', { from: 443, to: 443 }]],
      );
    });

    it("orders rich rules as firewalld's chains do and maps the zone target to the inbound policy", () => {
      const text = zone(
        '  <port port="22" protocol="tcp"/>\n  <rule priority="5"><port port="25" protocol="tcp"/><drop/></rule>\n  <rule family="ipv4"><source address="10.0.0.0/8"/><port port="5432" protocol="tcp"/><accept/></rule>\n  <rule><service name="http"/><reject/></rule>\n  <rule priority="-1"><source address="192.0.2.1"/><drop/></rule>\n',
        ' target="DROP"',
      );
      assert.deepStrictEqual(rules(text), ['any * drop from 192.0.2.1', 'tcp 80 reject', 'tcp 22 accept', 'tcp 5432 accept from 10.0.0.0/8', 'tcp 25 drop']);
      assert.strictEqual(zoneModule.parse(text, `/ws/${ZONE}`).firewall?.inboundPolicy?.action, 'drop');
      assert.strictEqual(zoneModule.parse(zone(''), `/ws/${ZONE}`).firewall?.inboundPolicy?.action, 'reject');
      assert.strictEqual(zoneModule.parse(zone('', ' target="ACCEPT"'), `/ws/${ZONE}`).firewall?.inboundPolicy?.action, 'accept');
    });

    it('gives source ports, destination, loopback, rate limits, unmodelled matches and the zone as structured fields, and none for a plain port', () => {
      const text = zone(
        [
          '  <port port="22" protocol="tcp"/>',
          '  <source-port port="53" protocol="udp"/>',
          '  <rule family="ipv4"><destination address="10.0.0.1"/><port port="80" protocol="tcp"/><accept/></rule>',
          '  <rule><port port="2222" protocol="tcp"/><accept><limit value="3/m"/></accept></rule>',
          '  <rule family="ipv4"><destination address="10.0.0.2" invert="True"/><port port="9" protocol="udp"/><drop/></rule>',
          '  <rule><protocol value="vrrp"/><accept/></rule>',
          '',
        ].join('\n'),
      );
      const parsed = zoneModule.parse(text, `/ws/${ZONE}`).firewall!.inputRules;
      assert.deepStrictEqual(
        parsed.map((r) => [`${r.protocol} ${ports(r) || '*'} ${r.action}`, ruleConditions(r)]),
        [
          ['udp 9 drop', { chain: 'public', unmodelled: ['destination not 10.0.0.2'] }],
          ['tcp 22 accept', { chain: 'public' }],
          ['udp * accept', { sourcePorts: [{ from: 53, to: 53 }], chain: 'public' }],
          ['tcp 80 accept', { destination: '10.0.0.1', chain: 'public' }],
          ['tcp 2222 limit', { chain: 'public', unmodelled: ['rate limit'] }],
          ['any * accept', { chain: 'public', unmodelled: ['protocol vrrp'] }],
        ],
      );
      const trusted = zoneModule.parse(zone('  <interface name="lo"/>\n  <port port="8080" protocol="tcp"/>\n'), '/ws/etc/firewalld/zones/trusted.xml')
        .firewall!.inputRules;
      assert.deepStrictEqual(
        trusted.map((r) => [r.iface, ruleConditions(r)]),
        [['lo', { loopbackOnly: true, chain: 'trusted' }]],
      );
    });

    it('hover says what the zone does with the port', () => {
      const text = zone('  <port port="8443" protocol="tcp"/>\n  <forward-port port="9443" protocol="tcp" to-port="443" to-addr="10.0.0.2"/>\n');
      const engine = engineWith({ [ZONE]: text });
      const ranges = parseEphemeralRanges(undefined);
      assert.match(hoverAt(engine, `/ws/${ZONE}`, offsetOf(text, '8443'), ranges)!.markdown, /allows TCP 8443 inbound/);
      assert.match(hoverAt(engine, `/ws/${ZONE}`, offsetOf(text, '9443'), ranges)!.markdown, /forwards TCP 9443 to 10\.0\.0\.2:443/);
    });
  });

  it('checkPort reads ports as firewalld does: ranges swapped, service names, too big and ambiguous refused', () => {
    const p = (t: string) => checkPort(t, (n) => registry.serviceToPort(n));
    assert.deepStrictEqual(p('22'), { range: { from: 22, to: 22 } });
    assert.deepStrictEqual(p('61000-60000'), { range: { from: 60000, to: 61000 } });
    assert.deepStrictEqual(p('ssh'), { range: { from: 22, to: 22 } });
    assert.deepStrictEqual(p('70000'), { error: "port number in '70000' is too big" });
    assert.deepStrictEqual(p('1-2-3'), { error: "'1-2-3' is invalid port range" });
  });

  describe('invalid-port', () => {
    const cases: [string, string, string][] = [
      ['a port above 65535', '  <port port="70000" protocol="tcp"/>\n', '70000'],
      ['an unknown protocol', '  <port port="80" protocol="tcpx"/>\n', 'tcpx'],
      ['an upper-case protocol', '  <port port="80" protocol="TCP"/>\n', 'TCP'],
      ['a forward target out of range', '  <forward-port port="80" protocol="tcp" to-port="99999"/>\n', '99999'],
      ['a bad port in a rich rule', '  <rule><port port="99999" protocol="tcp"/><accept/></rule>\n', '99999'],
    ];
    for (const [what, body, bad] of cases) {
      it(`fires on ${what}`, () => {
        assert.deepStrictEqual(
          errors({ [ZONE]: zone(body) }).map(([c, , t]) => [c, t]),
          [['invalid-port', bad]],
        );
      });
    }
    for (const [what, body, bad] of [
      ['a port name /etc/services does not know', '  <port port="nosuchsvc" protocol="tcp"/>\n', 'nosuchsvc'],
      ['an unknown service', '  <service name="nosuch"/>\n', 'nosuch'],
    ]) {
      it(`${what} is unknown-service, not invalid-port`, () => {
        assert.deepStrictEqual(
          errors({ [ZONE]: zone(body) }).map(([c, , t]) => [c, t]),
          [['unknown-service', bad]],
        );
      });
    }
    it('stays silent on what firewalld accepts: 0, 65535, reversed ranges, service names, dccp, stock and workspace services', () => {
      const files = {
        [ZONE]: zone(
          '  <port port="0" protocol="tcp"/>\n  <port port="65535" protocol="sctp"/>\n  <port port="100-50" protocol="udp"/>\n  <port port="http" protocol="tcp"/>\n  <port port="5000" protocol="dccp"/>\n  <service name="samba"/>\n  <service name="mine"/>\n',
        ),
        'etc/firewalld/services/mine.xml': '<service><port port="1" protocol="tcp"/></service>\n',
      };
      assert.deepStrictEqual(errors(files), []);
    });
  });

  describe('syntax', () => {
    const cases: [string, string, string][] = [
      ['XML that is not well-formed', '<zone>\n  <port port="22" protocol="tcp">\n</zone>\n', ''],
      ['an element firewalld does not know', zone('  <bogus/>\n'), '<bogus/>'],
      ['a missing protocol attribute', zone('  <port port="80"/>\n'), '<port port="80"/>'],
      ['an attribute firewalld does not know', zone('  <port port="80" protocol="tcp" comment="x"/>\n'), 'x'],
      ['a target that is not a zone target', zone('', ' target="REJECT"'), 'REJECT'],
    ];
    for (const [what, text, at] of cases) {
      it(`fires on ${what}`, () => {
        const got = errors({ [ZONE]: text });
        assert.deepStrictEqual(
          got.map(([c]) => c),
          ['syntax'],
        );
        if (at) assert.strictEqual(got[0][2], at);
      });
    }
    it('stays silent on the stock-like zones', () => {
      const text = zone(
        '  <description>For use in public areas.</description>\n  <interface name="eth0"/>\n  <source address="192.168.0.0/16"/>\n  <service name="ssh"/>\n  <icmp-block name="echo-request"/>\n  <masquerade/>\n  <forward/>\n  <rule family="ipv6"><source address="fe80::/10" invert="True"/><log prefix="x" level="info"><limit value="1/m"/></log><accept><limit value="10/m"/></accept></rule>\n',
        ' target="%%REJECT%%"',
      );
      assert.deepStrictEqual(errors({ [ZONE]: text }), []);
    });
  });

  it('service files: ports as facts, bad ports as findings, protocols without ports are not ports', () => {
    const text =
      '<service>\n  <short>X</short>\n  <port port="9000-9010" protocol="tcp"/>\n  <port port="" protocol="gre"/>\n  <port port="70000" protocol="udp"/>\n</service>\n';
    const parsed = serviceModule.parse(text, '/ws/etc/firewalld/services/x.xml');
    assert.deepStrictEqual(
      parsed.facts.map((f) => `${f.protocol} ${f.port}-${f.portEnd}`),
      ['tcp 9000-9010'],
    );
    assert.deepStrictEqual(
      parsed.findings.map((f) => [f.code, text.slice(f.span.start, f.span.end)]),
      [['invalid-port', '70000']],
    );
  });

  it('never throws on garbage and reports it once', () => {
    let seed = 11;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const base = zone('  <service name="ssh"/>\n  <port port="8080" protocol="tcp"/>\n  <rule><port port="1" protocol="udp"/><accept/></rule>\n');
    const bits = ['<', '>', '/', '"', "'", '=', '&', '&amp;', 'port', 'zone', '<!--', ']]>', '<?', '\u0000', '\uffff', ' '];
    for (let n = 0; n < 300; n++) {
      const cut = Math.floor(rnd() * base.length);
      let junk = '';
      for (let k = 0; k < 8; k++) junk += bits[Math.floor(rnd() * bits.length)];
      const text = base.slice(0, cut) + junk + base.slice(cut + Math.floor(rnd() * 5));
      for (const parse of [zoneModule.parse(text, `/ws/${ZONE}`), serviceModule.parse(text, '/ws/etc/firewalld/services/a.xml')]) {
        for (const f of parse.findings) assert.ok(f.span.start >= 0 && f.span.start <= f.span.end && f.span.end <= text.length, JSON.stringify(f));
      }
    }
  });
});
