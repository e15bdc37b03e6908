import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';
import { createIptablesModule } from '../../server/src/formats/iptables';
import { tokenizeRestoreLine } from '../../server/src/formats/netfilter/restore';
import { loadRegistry } from '../../server/src/workspace/data';
import { ruleConditions } from '../helpers/firewall';

const registry = loadRegistry();
const module = createIptablesModule((n, p) => registry.serviceToPort(n, p));
const FILE = '/ws/etc/iptables/rules.v4';

const filter = (rules: string, policy = 'DROP') => `*filter\n:INPUT ${policy} [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:SSH - [0:0]\n${rules}COMMIT\n`;
const parse = (text: string, file = FILE) => module.parse(text, file);
const errors = (text: string) => shownFindings(engineWith({ 'etc/iptables/rules.v4': text })).map((f) => [f.code, f.severity, f.text]);
const rules = (text: string) =>
  parse(text).firewall!.inputRules.map(
    (r) =>
      `${r.action} ${r.protocol} ${r.ports?.map((p) => (p.from === p.to ? p.from : `${p.from}-${p.to}`)).join(',') ?? '*'}${r.source ? ` from ${r.source}` : ''}${r.iface ? ` on ${r.iface}` : ''}${r.note ? ` [${r.note}]` : ''}`,
  );

describe('iptables-restore files', () => {
  describe('tokenizer', () => {
    it('splits on blanks only, groups double quotes, keeps exact spans', () => {
      const line = '-A INPUT -m comment --comment "a \\"b\\" c" -j ACCEPT';
      const toks = tokenizeRestoreLine(line, 10);
      assert.deepStrictEqual(
        toks.map((t) => t.text),
        ['-A', 'INPUT', '-m', 'comment', '--comment', 'a "b" c', '-j', 'ACCEPT'],
      );
      const q = toks[5];
      assert.strictEqual(line.slice(q.span.start - 10, q.span.end - 10), '"a \\"b\\" c"');
      assert.strictEqual(q.plain, false);
    });
    it('a word that opens a quote after plain characters keeps them, and the quote ends the word', () => {
      const toks = tokenizeRestoreLine('--comment ab"c d" x"" "" -j  ACCEPT', 0);
      assert.deepStrictEqual(
        toks.map((t) => [t.text, t.span.start, t.span.end, t.plain]),
        [
          ['--comment', 0, 9, true],
          ['abc d', 10, 17, false],
          ['x', 18, 21, false],
          ['', 22, 24, false],
          ['-j', 25, 27, true],
          ['ACCEPT', 29, 35, true],
        ],
      );
    });
    it("treats single quotes and '#' as ordinary characters", () => {
      assert.deepStrictEqual(
        tokenizeRestoreLine("--comment 'a b' #x", 0).map((t) => t.text),
        ['--comment', "'a", "b'", '#x'],
      );
    });
  });

  describe('facts', () => {
    it('one fact per port mention, multiport elements with their own spans, service names resolved', () => {
      const text = filter('-A INPUT -p tcp -m multiport --dports 80,443,8000:8100 -j ACCEPT\n-A INPUT -p tcp --dport ssh -j ACCEPT\n');
      const facts = parse(text).facts;
      assert.deepStrictEqual(
        facts.map((f) => [text.slice(f.span.start, f.span.end), f.protocol, f.port, f.portEnd, f.role, f.program]),
        [
          ['80', 'tcp', 80, 80, 'firewall', 'iptables'],
          ['443', 'tcp', 443, 443, 'firewall', 'iptables'],
          ['8000:8100', 'tcp', 8000, 8100, 'firewall', 'iptables'],
          ['ssh', 'tcp', 22, 22, 'firewall', 'iptables'],
        ],
      );
    });

    it('says what the rule does: direction, source, interface, chain', () => {
      const text = filter(
        '-A INPUT -s 10.0.0.0/8 -p udp --dport 53 -j DROP\n-A INPUT -i eth0 -p tcp --dport 22 -j SSH\n-A SSH -p tcp --dport 22 -j ACCEPT\n-A OUTPUT -p tcp --dport 25 -j REJECT\n',
      );
      assert.deepStrictEqual(
        parse(text).facts.map((f) => f.detail),
        ['drops UDP 53 inbound from 10.0.0.0/8', 'sends TCP 22 inbound on eth0 to chain SSH', 'rejects TCP 25 outbound', 'allows TCP 22 inbound (chain SSH)'],
      );
    });

    it('DNAT and REDIRECT: the matched port forwards, the target port is a forward fact', () => {
      const text =
        '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 8443 -j DNAT --to-destination 10.0.0.2:443\n-A PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 8080\nCOMMIT\n';
      const p = parse(text);
      assert.deepStrictEqual(
        p.facts.map((f) => [text.slice(f.span.start, f.span.end), f.role, f.port, f.detail]),
        [
          ['8443', 'firewall', 8443, 'forwards TCP 8443 to 10.0.0.2:443'],
          ['443', 'forward', 443, 'DNAT target: TCP 8443 arriving here goes to 10.0.0.2:443'],
          ['80', 'firewall', 80, 'redirects TCP 80 to local port 8080'],
          ['8080', 'forward', 8080, 'REDIRECT target: TCP 80 arriving here goes to local port 8080'],
        ],
      );
      assert.deepStrictEqual(
        p.firewall!.forwards.map((f) => [f.kind, f.protocol, f.ports, f.toAddress, f.toPorts]),
        [
          ['dnat', 'tcp', [{ from: 8443, to: 8443 }], '10.0.0.2', { from: 443, to: 443 }],
          ['redirect', 'tcp', [{ from: 80, to: 80 }], undefined, { from: 8080, to: 8080 }],
        ],
      );
    });

    it('hover shows the registry entry and what the rule does', () => {
      const text = filter('-A INPUT -p tcp --dport 443 -j ACCEPT\n');
      const engine = engineWith({ 'etc/iptables/rules.v4': text });
      const h = hoverAt(engine, FILE, offsetOf(text, '443'), parseEphemeralRanges(undefined))!;
      assert.match(h.markdown, /TCP 443/);
      assert.match(h.markdown, /allows TCP 443 inbound/);
      assert.strictEqual(hoverAt(engine, FILE, offsetOf(text, 'INPUT -p'), parseEphemeralRanges(undefined)), undefined);
    });
  });

  describe('the INPUT path', () => {
    it('reads the policy with its span, and DROP/ACCEPT defaults', () => {
      const text = filter('');
      const fw = parse(text).firewall!;
      assert.strictEqual(fw.tool, 'iptables');
      assert.strictEqual(fw.inboundPolicy!.action, 'drop');
      assert.strictEqual(text.slice(fw.inboundPolicy!.span!.start, fw.inboundPolicy!.span!.end), 'DROP');
      assert.strictEqual(parse('*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n').firewall!.inboundPolicy!.action, 'accept');
    });

    it('follows jumps into user chains in place, carrying the conditions of the jump', () => {
      const text = filter(
        '-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n-A INPUT -s 10.0.0.0/8 -p tcp -j SSH\n-A INPUT -p udp -m multiport --dports 53,123 -j ACCEPT\n-A SSH -p tcp --dport 22 -j ACCEPT\n-A SSH -p udp --dport 53 -j ACCEPT\n-A SSH -j RETURN\n',
      );
      assert.deepStrictEqual(rules(text), [
        'accept any * on lo [loopback]',
        'accept any * [established/related only]',
        'accept tcp 22 from 10.0.0.0/8',
        'return tcp * from 10.0.0.0/8',
        'accept udp 53,123',
      ]);
    });

    it('keeps -I order, negation and the protocols of an "any" rule', () => {
      const text = filter(
        '-A INPUT -p tcp --dport 1 -j ACCEPT\n-I INPUT -p tcp --dport 2 -j ACCEPT\n-I INPUT 2 -p tcp --dport 3 -j ACCEPT\n-A INPUT -p tcp ! --dport 22 -j DROP\n-A INPUT ! -p tcp -j REJECT\n',
      );
      assert.deepStrictEqual(rules(text), ['accept tcp 2', 'accept tcp 3', 'accept tcp 1', 'drop tcp 0-21,23-65535', 'reject udp *', 'reject sctp *']);
    });

    it('gives the conditions a port cannot say as structured fields, and none for a plain --dport rule', () => {
      const text = filter(
        [
          '-A INPUT -i lo -j ACCEPT',
          '-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
          '-A INPUT -p tcp --sport 53 -j DROP',
          '-A INPUT -p udp ! --sport 1024:65535 -j DROP',
          '-A INPUT -p tcp --dport 2222 -m limit --limit 3/min -j ACCEPT',
          '-A INPUT -p udp ! -d 10.0.0.1 -j DROP',
          '-A INPUT -p tcp -d 10.0.0.1 -j SSH',
          '-A SSH -p tcp --dport 23 -j ACCEPT',
          '-A INPUT -p tcp --dport 22 -j ACCEPT',
          '',
        ].join('\n'),
      );
      const fw = parse(text).firewall!;
      assert.deepStrictEqual(fw.inputRules.map(ruleConditions), [
        { loopbackOnly: true, chain: 'INPUT' },
        { matchesNew: false, chain: 'INPUT' },
        { sourcePorts: [{ from: 53, to: 53 }], chain: 'INPUT' },
        { sourcePorts: [{ from: 0, to: 1023 }], chain: 'INPUT' },
        { chain: 'INPUT', unmodelled: ['-m limit'] },
        { chain: 'INPUT', unmodelled: ['destination not 10.0.0.1'] },
        { destination: '10.0.0.1', chain: 'SSH' },
        { chain: 'INPUT' },
      ]);
      // The sport-only rule drops no destination port in particular; loopback keeps its iface.
      assert.strictEqual(fw.inputRules[2].ports, undefined);
      assert.strictEqual(fw.inputRules[0].iface, 'lo');
      assert.deepStrictEqual(fw.inputRules[6].ports, [{ from: 23, to: 23 }]);
    });

    it('stops jump loops', () => {
      const text = '*filter\n:INPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -j A\n-A B -p tcp --dport 1 -j DROP\n-A INPUT -j A\nCOMMIT\n';
      assert.deepStrictEqual(rules(text), ['drop tcp 1']);
    });
  });

  describe('invalid-port', () => {
    const cases: [string, string][] = [
      ['-A INPUT -p tcp --dport 70000 -j ACCEPT\n', '70000'],
      ['-A INPUT -p tcp --dport 2000:1000 -j ACCEPT\n', '2000:1000'],
      ['-A INPUT --dport 22 -j ACCEPT\n', '--dport'],
      ['-A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16 -j ACCEPT\n', '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16'],
      ['-A INPUT -p tcp -m multiport --dports 22,99999 -j ACCEPT\n', '99999'],
      ['-A INPUT -p tcp -m multiport --dports 9000:8000 -j ACCEPT\n', '9000:8000'],
    ];
    for (const [rule, bad] of cases) {
      it(`fires on ${JSON.stringify(rule.trim())} with the exact range`, () => {
        assert.deepStrictEqual(errors(filter(rule)), [['invalid-port', 'error', bad]]);
      });
    }
    it('a name /etc/services does not list is unknown-service, not invalid-port', () => {
      assert.deepStrictEqual(errors(filter('-A INPUT -p tcp --dport nosuchservice -j ACCEPT\n')), [['unknown-service', 'error', 'nosuchservice']]);
    });
    it('warns where iptables accepts an out-of-range udp port and wraps it', () => {
      const text = filter('-A INPUT -p udp --dport 70000 -j ACCEPT\n');
      assert.deepStrictEqual(errors(text), [['invalid-port', 'warning', '70000']]);
      assert.deepStrictEqual(
        parse(text).facts.map((f) => f.port),
        [4464],
      );
    });
    it('stays silent on valid ports, ranges, lists and names', () => {
      const text = filter(
        '-A INPUT -p tcp --dport 0 -j ACCEPT\n-A INPUT -p tcp --dport 65535 -j ACCEPT\n-A INPUT -p tcp --dport 1000: -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14:20 -j ACCEPT\n-A INPUT -p udp --dport domain -j ACCEPT\n-A INPUT -p tcp --dport https -j ACCEPT\n',
      );
      assert.deepStrictEqual(errors(text), []);
    });
  });

  describe('syntax', () => {
    const cases: [string, string, string][] = [
      ['no COMMIT', '*filter\n:INPUT DROP [0:0]\n', 'filter'],
      ['unknown target', filter('-A INPUT -j NOSUCH\n'), 'NOSUCH'],
      ['-o in INPUT', filter('-A INPUT -o eth0 -j ACCEPT\n'), 'eth0'],
      ['a word where an option belongs', filter('-A INPUT -j ACCEPT extra\n'), 'extra'],
      ['a trailing comment', filter('-A INPUT -j ACCEPT # ssh\n'), '#'],
      ['unknown match', filter('-A INPUT -m nosuch -j ACCEPT\n'), 'nosuch'],
      ['bad policy', '*filter\n:INPUT BOGUS [0:0]\nCOMMIT\n', 'BOGUS'],
      ['rule outside a table', '-A INPUT -j ACCEPT\n', '-A INPUT -j ACCEPT'],
      ['bad address', filter('-A INPUT -s 300.1.1.1 -j ACCEPT\n'), '300.1.1.1'],
    ];
    for (const [name, text, bad] of cases) {
      it(`fires on ${name}`, () => {
        assert.deepStrictEqual(
          errors(text)
            .filter((f) => f[0] === 'syntax')
            .map((f) => f[2]),
          [bad],
        );
      });
    }
    it('reports Windows line endings once and still reads the rules', () => {
      const text = filter('-A INPUT -p tcp --dport 22 -j ACCEPT\n').replace(/\n/g, '\r\n');
      assert.deepStrictEqual(
        errors(text).map((f) => f[0]),
        ['syntax'],
      );
      assert.deepStrictEqual(rules(text), ['accept tcp 22']);
    });
    it('stays silent on iptables-save output with counters, comments and quoted strings', () => {
      const text =
        '# Generated by iptables-save\n*filter\n:INPUT DROP [12:345]\n:LOGDROP - [0:0]\n[5:60] -A INPUT -p tcp -m tcp --dport 22 -m comment --comment "ssh from anywhere" -j ACCEPT\n-A LOGDROP -m limit --limit 3/min -j LOG --log-prefix "drop: "\n-A LOGDROP -j DROP\nCOMMIT\n# Completed\n';
      assert.deepStrictEqual(errors(text), []);
    });
  });

  it('never throws on garbage and still reads the valid lines', () => {
    const garbage =
      '\u0000\n*filter\n:INPUT\n-A INPUT "unterminated\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -p -j\n! ! !\n-A INPUT --dport=\n' +
      'x'.repeat(5000) +
      '\nCOMMIT\n';
    const p = parse(garbage);
    assert.ok(p.findings.length >= 3);
    for (const f of p.findings) assert.ok(f.span.start <= f.span.end && f.span.end <= garbage.length);
    assert.deepStrictEqual(
      p.facts.map((f) => f.port),
      [22],
    );
  });

  it('is found by path and by content, and tells IPv6 files apart', () => {
    for (const p of [
      '/etc/iptables/rules.v4',
      '/etc/iptables/rules.v6',
      '/x/iptables.rules',
      '/x/ip6tables-save.rules',
      '/x/fw.iptables',
      '/etc/sysconfig/iptables',
    ])
      assert.ok(module.matchesPath(p), p);
    for (const p of ['/etc/ufw/user.rules', '/etc/nftables.conf', '/x/rules.v5']) assert.ok(!module.matchesPath(p), p);
    assert.ok(module.matchesContent!(filter('-A INPUT -j ACCEPT\n')));
    assert.ok(!module.matchesContent!('table inet filter {\n}\n'));
    assert.strictEqual(parse(filter(''), '/etc/iptables/rules.v6').firewall!.inboundPolicy!.family, 'ipv6');
    assert.deepStrictEqual(
      errors(filter('-A INPUT -s 2001:db8::1 -j ACCEPT\n')).map((f) => f[2]),
      ['2001:db8::1'],
    );
  });
});
