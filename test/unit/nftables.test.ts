import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';
import { createNftablesModule, type NftExtra } from '../../server/src/formats/nftables';
import { loadRegistry } from '../../server/src/workspace/data';
import { ruleConditions, rulePorts as ports } from '../helpers/firewall';

const registry = loadRegistry();
const nft = createNftablesModule((n) => registry.serviceToPort(n));
const CONF = '/ws/etc/nftables.conf';

const rules = (text: string) =>
  (nft.parse(text, CONF).firewall?.inputRules ?? []).map(
    (r) => `${r.protocol} ${ports(r) || '*'} ${r.action}${r.iface ? ` iif=${r.iface}` : ''}${r.note ? ` (${r.note})` : ''}`,
  );
const facts = (files: Record<string, string>) =>
  engineWith(files)
    .analyze()
    .facts.map(
      ({ fact }) =>
        `${fact.role} ${fact.protocol} ${fact.port === fact.portEnd ? fact.port : `${fact.port}-${fact.portEnd}`} @${(files[fact.file.replace('/ws/', '')] ?? '').slice(fact.span.start, fact.span.end)}: ${fact.detail}`,
    )
    .sort();
const errors = (text: string, file = 'etc/nftables.conf') => shownFindings(engineWith({ [file]: text })).map((f) => [f.code, f.line, f.text]);

const input = (body: string, policy = 'drop') =>
  `flush ruleset\ntable inet filter {\n  chain input {\n    type filter hook input priority 0; policy ${policy};\n${body}  }\n}\n`;

describe('nftables', () => {
  describe('input hook rules', () => {
    it('reads the policy, loopback, ct state and ports in packet order', () => {
      const text = input(
        '    iif lo accept\n    ct state established,related accept\n    tcp dport 22 accept\n    udp dport { 53, 5353 } drop\n    tcp dport 60000-61000 reject\n',
      );
      assert.deepStrictEqual(rules(text), [
        'any * accept iif=lo',
        'any * accept (ct state established,related)',
        'tcp 22 accept',
        'udp 53,5353 drop',
        'tcp 60000-61000 reject',
      ]);
      assert.deepStrictEqual(nft.parse(text, CONF).firewall?.inboundPolicy?.action, 'drop');
      assert.strictEqual(nft.parse(text, CONF).firewall?.inboundPolicy?.family, 'both');
    });

    it('th dport with meta l4proto { tcp, udp } yields both protocols', () => {
      assert.deepStrictEqual(rules(input('    meta l4proto { tcp, udp } th dport 53 accept\n')), ['tcp 53 accept', 'udp 53 accept']);
    });

    it("follows jump and goto into regular chains, narrowing to the jump rule's ports", () => {
      const text =
        'table ip f {\n  chain ssh {\n    ip saddr 10.0.0.0/8 accept\n    drop\n  }\n  chain input {\n    type filter hook input priority 0; policy accept;\n    tcp dport 22 jump ssh\n    tcp dport 80 accept\n  }\n}\n';
      assert.deepStrictEqual(rules(text), ['tcp 22 accept', 'tcp 22 drop', 'tcp 80 accept']);
      assert.strictEqual(nft.parse(text, CONF).firewall?.inputRules[0].source, '10.0.0.0/8');
      assert.deepStrictEqual(
        nft.parse(text, CONF).facts.map((f) => f.detail),
        ['sends TCP 22 inbound to chain ssh', 'allows TCP 80 inbound'],
      );
    });

    it('verdict maps on ports and on ct state', () => {
      assert.deepStrictEqual(rules(input('    ct state vmap { established : accept, invalid : drop }\n    tcp dport vmap { 22 : accept, 23 : drop }\n')), [
        'any * accept (ct state established)',
        'any * drop (ct state invalid)',
        'tcp 22 accept',
        'tcp 23 drop',
      ]);
    });

    it('gives source ports, destination, ct state, loopback, rate limits and chains as structured fields, and none for a plain dport rule', () => {
      const text = [
        'table inet filter {',
        '  chain ssh {',
        '    ip daddr 10.0.0.1 tcp dport 23 accept',
        '  }',
        '  chain input {',
        '    type filter hook input priority 0; policy drop;',
        '    iifname "lo" accept',
        '    ct state established,related accept',
        '    ct state vmap { established : accept, invalid : drop, new : continue }',
        '    tcp sport 53 drop',
        '    udp sport != 53 drop',
        '    tcp dport 2222 limit rate 3/minute accept',
        '    ip daddr != 10.0.0.2 udp dport 9 drop',
        '    tcp dport 23 jump ssh',
        '    tcp dport 22 accept',
        '  }',
        '}',
        '',
      ].join('\n');
      const fw = nft.parse(text, CONF).firewall!;
      const input = 'inet filter input';
      assert.deepStrictEqual(
        fw.inputRules.map((r) => [`${r.protocol} ${ports(r) || '*'} ${r.action}`, ruleConditions(r)]),
        [
          ['any * accept', { loopbackOnly: true, chain: input }],
          ['any * accept', { matchesNew: false, chain: input }],
          ['any * accept', { matchesNew: false, chain: input }],
          ['any * drop', { matchesNew: false, chain: input }],
          ['any * other', { chain: input }], // new : continue admits new connections
          ['tcp * drop', { sourcePorts: [{ from: 53, to: 53 }], chain: input }],
          [
            'udp * drop',
            {
              sourcePorts: [
                { from: 0, to: 52 },
                { from: 54, to: 65535 },
              ],
              chain: input,
            },
          ],
          ['tcp 2222 limit', { chain: input, unmodelled: ['rate limit'] }],
          ['udp 9 drop', { chain: input, unmodelled: ['ip daddr != 10.0.0.2'] }],
          ['tcp 23 accept', { destination: '10.0.0.1', chain: 'inet filter ssh' }],
          ['tcp 22 accept', { chain: input }],
        ],
      );
      assert.strictEqual(fw.inputRules[0].iface, 'lo');
    });

    it('negations and comparisons become the ranges they match', () => {
      assert.deepStrictEqual(rules(input('    tcp dport != 22 drop\n    tcp dport >= 1024 accept\n')), ['tcp 0-21,23-65535 drop', 'tcp 1024-65535 accept']);
    });

    it('ignores chains on other hooks and concatenations it does not model', () => {
      const text =
        'table inet f {\n  chain out {\n    type filter hook output priority 0;\n    tcp dport 25 drop\n  }\n  chain input {\n    type filter hook input priority 0;\n    ip saddr . tcp dport { 10.0.0.1 . 22 } accept\n  }\n}\n';
      assert.deepStrictEqual(rules(text), ['any * accept (tcp dport in an expression)']);
    });

    it('add rule / insert rule commands build the same chains', () => {
      const text =
        'add table ip f\nadd chain ip f input { type filter hook input priority 0; policy drop; }\nadd rule ip f input tcp dport 80 accept\ninsert rule ip f input tcp dport 22 accept\n';
      assert.deepStrictEqual(rules(text), ['tcp 22 accept', 'tcp 80 accept']);
    });

    it('reads dnat and redirect as forwards', () => {
      const text =
        'table ip nat {\n  chain pre {\n    type nat hook prerouting priority dstnat;\n    tcp dport 8443 dnat to 10.0.0.2:443\n    tcp dport 2222 redirect to :22\n  }\n}\n';
      const fw = nft.parse(text, CONF).firewall!;
      assert.deepStrictEqual(
        fw.forwards.map((f) => `${f.kind} ${f.protocol} ${ports(f)} -> ${f.toAddress ?? 'local'}:${f.toPorts?.from}`),
        ['dnat tcp 8443 -> 10.0.0.2:443', 'redirect tcp 2222 -> local:22'],
      );
      assert.strictEqual(fw.inboundPolicy, undefined);
    });
  });

  describe('facts', () => {
    it('one fact per set element and range, with its own span', () => {
      const got = facts({ 'etc/nftables.conf': input('    tcp dport { 80, 443, 8000-8010 } accept\n') });
      assert.deepStrictEqual(got, [
        'firewall tcp 443 @443: allows TCP 443 inbound',
        'firewall tcp 80 @80: allows TCP 80 inbound',
        'firewall tcp 8000-8010 @8000-8010: allows TCP 8000-8010 inbound',
      ]);
    });

    it('define variables and named sets put the facts where the ports are written', () => {
      const text =
        'define web = { 80, 443 }\ntable inet filter {\n  set admin {\n    type inet_service\n    elements = { 9000 }\n  }\n  chain input {\n    type filter hook input priority 0;\n    tcp dport $web accept\n    udp dport @admin drop\n  }\n}\n';
      assert.deepStrictEqual(facts({ 'etc/nftables.conf': text }), [
        'firewall tcp 443 @443: allows TCP 443 inbound',
        'firewall tcp 80 @80: allows TCP 80 inbound',
        'firewall udp 9000 @9000: drops UDP 9000 inbound',
      ]);
    });

    it('service names resolve through the registry', () => {
      assert.deepStrictEqual(facts({ 'etc/nftables.conf': input('    tcp dport { ssh, https } accept\n') }), [
        'firewall tcp 22 @ssh: allows TCP 22 inbound',
        'firewall tcp 443 @https: allows TCP 443 inbound',
      ]);
    });

    it('dnat targets are forward facts', () => {
      const text = 'table ip nat {\n  chain pre {\n    type nat hook prerouting priority dstnat;\n    tcp dport 8443 dnat to 10.0.0.2:443\n  }\n}\n';
      assert.deepStrictEqual(facts({ 'etc/nftables.conf': text }), [
        'firewall tcp 8443 @8443: forwards TCP 8443 to 10.0.0.2:443',
        'forward tcp 443 @443: DNAT target: TCP 8443 is forwarded to 10.0.0.2:443',
      ]);
    });

    it('includes: defines of an included file reach the rules after the include', () => {
      const files = {
        'etc/nftables.conf':
          '#!/usr/sbin/nft -f\nflush ruleset\ninclude "nftables.d/vars.nft"\ntable inet filter {\n  chain input {\n    type filter hook input priority 0;\n    tcp dport $ssh_port accept\n  }\n}\n',
        'etc/nftables.d/vars.nft': 'define ssh_port = 2222\n',
      };
      assert.deepStrictEqual(facts(files), ['firewall tcp 2222 @2222: allows TCP 2222 inbound']);
      assert.deepStrictEqual(shownFindings(engineWith(files)), []);
    });

    it('hover says what the rule does', () => {
      const text =
        input('    tcp dport 443 accept\n') +
        'table ip nat {\n  chain pre {\n    type nat hook prerouting priority dstnat;\n    tcp dport 8443 dnat to 10.0.0.2:443\n  }\n}\n';
      const engine = engineWith({ 'etc/nftables.conf': text });
      const ranges = parseEphemeralRanges(undefined);
      assert.match(hoverAt(engine, CONF, offsetOf(text, '443 accept'), ranges)!.markdown, /allows TCP 443 inbound/);
      assert.match(hoverAt(engine, CONF, offsetOf(text, '8443'), ranges)!.markdown, /forwards TCP 8443 to 10\.0\.0\.2:443/);
    });
  });

  describe('invalid-port', () => {
    const cases: [string, string][] = [
      ['tcp dport 70000 accept', '70000'],
      ['tcp dport { 22, 65536 } accept', '65536'],
      ['tcp dport 100-50 accept', '100-50'],
      ['tcp dport 22,80 accept', '22,80'],
    ];
    for (const [rule, bad] of cases) {
      it(`fires on ${rule}`, () => {
        assert.deepStrictEqual(errors(input(`    ${rule}\n`)), [['invalid-port', 5, bad]]);
      });
    }
    it('a name nft cannot resolve is unknown-service, not invalid-port', () => {
      assert.deepStrictEqual(errors(input('    tcp dport nosuchservice accept\n')), [['unknown-service', 5, 'nosuchservice']]);
    });
    it('fires on overlapping elements of an interval set without auto-merge', () => {
      const text = 'table inet f {\n  set s {\n    type inet_service\n    flags interval\n    elements = { 20-30, 25-35 }\n  }\n}\n';
      assert.deepStrictEqual(errors(text), [['invalid-port', 5, '25-35']]);
      assert.deepStrictEqual(errors(text.replace('flags interval\n', 'flags interval\n    auto-merge\n')), []);
    });
    it('stays silent on valid ports, ranges, services and octal/hex forms', () => {
      assert.deepStrictEqual(errors(input('    tcp dport { 0, 65535, 10-10, ssh, 0x16, 010, 080 } accept\n')), []);
    });
  });

  describe('syntax', () => {
    const cases: [string, string, number, string][] = [
      ['a rule without a separator before }', 'table inet f {\n  chain c { tcp dport 22 accept }\n}\n', 2, '}'],
      ['a chain block without a separator after }', 'table inet f {\n  chain c { tcp dport 22 accept; } }\n', 2, '}'],
      ['an unclosed brace', 'table inet f {\n  chain c {\n    tcp dport 22 accept\n  }\n', 1, '{'],
      ['an extra closing brace', 'table inet f {\n}\n}\n', 3, '}'],
      ['an unknown command', 'flush ruleset\nallow tcp 22\n', 2, 'allow'],
      ['an unknown family', 'table inte f {\n}\n', 1, 'inte'],
      ['a bad policy', 'table inet f {\n  chain c {\n    type filter hook input priority 0; policy reject;\n  }\n}\n', 3, 'reject'],
      ['an unterminated string', 'table inet f {\n  chain c {\n    accept comment "x\n  }\n}\n', 3, '"x'],
      ['a rule directly in a table', 'table inet f {\n  tcp dport 22 accept\n}\n', 2, 'tcp'],
      ['reject in a verdict map', input('    tcp dport vmap { 22 : reject }\n'), 5, 'reject'],
      ['an unknown variable in a complete ruleset', input('    tcp dport $nope accept\n'), 5, '$nope'],
    ];
    for (const [what, text, line, at] of cases) {
      it(`fires on ${what}`, () => {
        assert.deepStrictEqual(errors(text), [['syntax', line, at]]);
      });
    }
    it('stays silent on a realistic ruleset with one-line blocks, continuations and comments', () => {
      const text =
        '#!/usr/sbin/nft -f\nflush ruleset\ndefine lan = 192.168.0.0/16\ntable inet filter { # main\n  set blocked { type ipv4_addr; flags interval; }\n  chain input { type filter hook input priority filter; policy drop;\n    iifname "lo" accept\n    ct state { established, related } accept\n    ip saddr $lan tcp dport \\\n      { 22, 80 } counter accept comment "admin"\n    ip saddr @blocked drop\n    icmp type echo-request limit rate 5/second accept\n    log prefix "drop: " level info\n  }\n  chain forward { type filter hook forward priority 0; policy drop; }\n}\n';
      assert.deepStrictEqual(errors(text), []);
    });
    it('stays silent on unknown variables in a fragment or when an include is not in the workspace', () => {
      assert.deepStrictEqual(errors('table inet f {\n  chain c {\n    tcp dport $p accept\n  }\n}\n', 'etc/nftables.d/rules.nft'), []);
      assert.deepStrictEqual(errors('include "/etc/nftables.d/*.nft"\n' + input('    tcp dport $p accept\n')), []);
    });
  });

  it('never throws or hangs on garbage, and still reads the rules after it', () => {
    const base = input('    tcp dport 22 accept\n');
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const alphabet = [
      '{',
      '}',
      ';',
      '\n',
      '"',
      '$',
      '@',
      ':',
      '-',
      ',',
      '.',
      'tcp',
      'dport',
      'jump',
      'x',
      '0',
      '99999',
      '\\',
      '#',
      ' ',
      'table',
      'chain',
      'define',
      '=',
      'vmap',
      '[',
      ']',
    ];
    for (let n = 0; n < 300; n++) {
      const cut = Math.floor(rnd() * base.length);
      let junk = '';
      for (let k = 0; k < 30; k++) junk += alphabet[Math.floor(rnd() * alphabet.length)];
      const text = base.slice(0, cut) + junk + base.slice(cut);
      const parsed = nft.parse(text, CONF);
      for (const f of parsed.findings) assert.ok(f.span.start >= 0 && f.span.start <= f.span.end && f.span.end <= text.length, JSON.stringify(f));
    }
    const big = input('    tcp dport { ' + Array.from({ length: 5000 }, (_, i) => i + 1).join(', ') + ' } accept\n'.repeat(1));
    // Speed is the benchmark's business; here the 5,000-element set must be read whole.
    assert.strictEqual(nft.parse(big, CONF).findings.filter((f) => f.severity === 'error').length, 0);
    const tail = '}}}} {{{ "unterminated\n' + input('    tcp dport 22 accept\n');
    assert.ok((nft.parse(tail, CONF).extra as NftExtra).syntax.commands.length > 0);
  });
});
