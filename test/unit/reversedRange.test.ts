/** invalid-port's "Swap to LOW:HIGH" fix: offered on a reversed range in each syntax, whole file compared; absent where nothing is plainly reversed. */
import * as assert from 'assert';
import { swapRangeFix } from '../../server/src/core/reversedRange';
import { fixAll } from '../../server/src/features/codeActions';
import { applyEdits, engineWith } from '../helpers/engine';

/** The swap fixes of the file's invalid-port findings, as [title, preferred, whole edited file]. */
function swaps(rel: string, text: string, extra: Record<string, string> = {}): [string, boolean, string][] {
  const found =
    engineWith({ ...extra, [rel]: text })
      .analyze()
      .findingsByFile.get(`/ws/${rel}`) ?? [];
  return found
    .filter((f) => f.code === 'invalid-port')
    .flatMap((f) => (f.fixes ?? []).filter((x) => x.title.startsWith('Swap to')))
    .map((x) => [x.title, x.preferred === true, applyEdits(text, x.edits)]);
}

const filter = (line: string) => `*filter\n:INPUT DROP [0:0]\n${line}\nCOMMIT\n`;
const nft = (rule: string) => `table inet f {\n  chain input {\n    type filter hook input priority 0;\n    ${rule}\n  }\n}\n`;
const compose = (ports: string) => `services:\n  app:\n    image: example/app\n${ports}`;

describe('invalid-port: Swap to LOW:HIGH', () => {
  const cases: [string, string, string, string, string][] = [
    [
      'iptables --dport',
      'etc/iptables/rules.v4',
      filter('-A INPUT -p tcp --dport 9000:8000 -j ACCEPT'),
      'Swap to 8000:9000',
      filter('-A INPUT -p tcp --dport 8000:9000 -j ACCEPT'),
    ],
    [
      'iptables names',
      'etc/iptables/rules.v4',
      filter('-A INPUT -p tcp --dport https:http -j ACCEPT'),
      'Swap to http:https',
      filter('-A INPUT -p tcp --dport http:https -j ACCEPT'),
    ],
    [
      'iptables udp (a warning)',
      'etc/iptables/rules.v4',
      filter('-A INPUT -p udp --sport 9000:8000 -j ACCEPT'),
      'Swap to 8000:9000',
      filter('-A INPUT -p udp --sport 8000:9000 -j ACCEPT'),
    ],
    [
      'iptables multiport entry',
      'etc/iptables/rules.v4',
      filter('-A INPUT -p tcp -m multiport --dports 22,9000:8000,443 -j ACCEPT'),
      'Swap to 8000:9000',
      filter('-A INPUT -p tcp -m multiport --dports 22,8000:9000,443 -j ACCEPT'),
    ],
    [
      'iptables --to-ports',
      'etc/iptables/rules.v4',
      '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 9000-8000\nCOMMIT\n',
      'Swap to 8000-9000',
      '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 8000-9000\nCOMMIT\n',
    ],
    ['nft', 'etc/nftables.conf', nft('tcp dport { 22, 9000-8000 } accept'), 'Swap to 8000-9000', nft('tcp dport { 22, 8000-9000 } accept')],
    [
      'compose host range',
      'srv/compose.yaml',
      compose('    ports:\n      - "9000-8000:80"\n'),
      'Swap to 8000-9000',
      compose('    ports:\n      - "8000-9000:80"\n'),
    ],
    ['compose expose', 'srv/compose.yaml', compose('    expose:\n      - 3001-3000\n'), 'Swap to 3000-3001', compose('    expose:\n      - 3000-3001\n')],
  ];
  for (const [name, rel, text, title, fixed] of cases)
    it(`${name}: ${title}, preferred, only the two ends change places`, () => {
      assert.deepStrictEqual(swaps(rel, text), [[title, true, fixed]]);
    });

  it('ufw: one swap for a tuple and every -A line ufw writes for it, the whole file back to what ufw wrote', () => {
    // Each block as ufw 0.36 writes it (ufw allow 1000:2000/tcp; allow log 3000:4000/udp; limit 5000:5001/tcp;
    // allow 80,7000:7100/tcp; allow from 10.0.0.0/8 port 6000:6100 proto tcp), then one range reversed by hand.
    const blocks: [string, string, string][] = [
      ['1000:2000', '2000:1000', '### tuple ### allow tcp {R} 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp -m multiport --dports {R} -j ACCEPT\n'],
      [
        '3000:4000',
        '4000:3000',
        '### tuple ### allow_log udp {R} 0.0.0.0/0 any 0.0.0.0/0 in\n' +
          '-A ufw-user-logging-input -p udp -m multiport --dports {R} -m conntrack --ctstate NEW -m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix "[UFW ALLOW] "\n' +
          '-A ufw-user-logging-input -p udp -m multiport --dports {R} -j RETURN\n' +
          '-A ufw-user-input -p udp -m multiport --dports {R} -j ufw-user-logging-input\n' +
          '-A ufw-user-input -p udp -m multiport --dports {R} -j ACCEPT\n',
      ],
      [
        '5000:5001',
        '5001:5000',
        '### tuple ### limit tcp {R} 0.0.0.0/0 any 0.0.0.0/0 in\n' +
          '-A ufw-user-input -p tcp -m multiport --dports {R} -m conntrack --ctstate NEW -m recent --set\n' +
          '-A ufw-user-input -p tcp -m multiport --dports {R} -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 -j ufw-user-limit\n' +
          '-A ufw-user-input -p tcp -m multiport --dports {R} -j ufw-user-limit-accept\n',
      ],
      [
        '7000:7100',
        '7100:7000',
        '### tuple ### allow tcp 80,{R} 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp -m multiport --dports 80,{R} -j ACCEPT\n',
      ],
      [
        '6000:6100',
        '6100:6000',
        '### tuple ### allow tcp any 0.0.0.0/0 {R} 10.0.0.0/8 in\n-A ufw-user-input -p tcp -m multiport --sports {R} -s 10.0.0.0/8 -j ACCEPT\n',
      ],
      // A hand-written single --dport line under the tuple is its line too.
      ['1000:2000', '2000:1000', '### tuple ### allow tcp {R} 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport {R} -j ACCEPT\n'],
    ];
    const chains = ':ufw-user-input - [0:0]\n:ufw-user-logging-input - [0:0]\n:ufw-user-limit - [0:0]\n:ufw-user-limit-accept - [0:0]\n';
    const file = (body: string) => `*filter\n${chains}### RULES ###\n\n${body}\n### END RULES ###\nCOMMIT\n`;
    const rel = 'etc/ufw/user.rules';
    for (const [range, reversed, block] of blocks) {
      const written = file(block.replaceAll('{R}', range));
      const text = file(block.replaceAll('{R}', reversed));
      const found = (
        engineWith({ [rel]: text })
          .analyze()
          .findingsByFile.get(`/ws/${rel}`) ?? []
      ).filter((f) => f.code === 'invalid-port');
      // The tuple and each of its -A lines (iptables-restore refuses the reversed range) are reported ...
      assert.strictEqual(found.length, block.split('\n').length - 1, reversed);
      // ... and every one offers the same single fix, which puts back exactly what ufw wrote.
      const fixes = found.map((f) => (f.fixes ?? []).filter((x) => x.title.startsWith('Swap to')));
      for (const list of fixes) assert.deepStrictEqual(list, fixes[0], reversed);
      assert.strictEqual(fixes[0].length, 1, reversed);
      assert.strictEqual(fixes[0][0].title, `Swap to ${range}`);
      assert.strictEqual(fixes[0][0].preferred, true);
      assert.strictEqual(applyEdits(text, fixes[0][0].edits), written, reversed);
      assert.deepStrictEqual(fixAll(found).fixes, [fixes[0][0]], 'Fix all applies it once');
    }
    // Another tuple's -A line with the same range is not this tuple's: each block keeps its own fix.
    const two = file(blocks[0][2].replaceAll('{R}', '2000:1000') + '\n' + blocks[5][2].replaceAll('{R}', '2000:1000'));
    const titles = (
      engineWith({ [rel]: two })
        .analyze()
        .findingsByFile.get(`/ws/${rel}`) ?? []
    )
      .flatMap((f) => f.fixes ?? [])
      .filter((x) => x.title.startsWith('Swap'));
    assert.deepStrictEqual(
      [...new Set(titles)].map((x) => applyEdits(two, x.edits)),
      [
        file(blocks[0][2].replaceAll('{R}', '1000:2000') + '\n' + blocks[5][2].replaceAll('{R}', '2000:1000')),
        file(blocks[0][2].replaceAll('{R}', '2000:1000') + '\n' + blocks[5][2].replaceAll('{R}', '1000:2000')),
      ],
    );
  });

  it('none where nothing is plainly reversed: a bad number, an equal multiport range, a variable, long syntax published, firewalld (which swaps itself)', () => {
    assert.deepStrictEqual(swaps('etc/iptables/rules.v4', filter('-A INPUT -p tcp --dport 70000:8000 -j ACCEPT')), []);
    assert.deepStrictEqual(swaps('etc/iptables/rules.v4', filter('-A INPUT -p tcp -m multiport --dports 8000:8000 -j ACCEPT')), []);
    assert.deepStrictEqual(swaps('srv/compose.yaml', compose('    ports:\n      - "${P}-8000:80"\n'), { 'srv/.env': 'P=9000\n' }), []);
    assert.deepStrictEqual(swaps('srv/compose.yaml', compose('    ports:\n      - target: 80\n        published: "9000-8000"\n')), []);
    const zone = '<?xml version="1.0" encoding="utf-8"?>\n<zone>\n  <port port="9000-8000" protocol="tcp"/>\n</zone>\n';
    const found = engineWith({ 'etc/firewalld/zones/public.xml': zone }).analyze().findingsByFile.get('/ws/etc/firewalld/zones/public.xml') ?? [];
    assert.deepStrictEqual(
      found.filter((f) => f.code === 'invalid-port'),
      [],
    );
  });

  it('swapRangeFix needs the exact text and one separator', () => {
    assert.strictEqual(swapRangeFix('/f', { start: 0, end: 9 }, '9000-8000', '-')?.edits[0].newText, '8000-9000');
    assert.strictEqual(swapRangeFix('/f', { start: 0, end: 10 }, '9000-8000', '-'), undefined);
    assert.strictEqual(swapRangeFix('/f', { start: 0, end: 6 }, '1-2-3', '-'), undefined);
    assert.strictEqual(swapRangeFix('/f', { start: 0, end: 5 }, '9000-', '-'), undefined);
  });
});
