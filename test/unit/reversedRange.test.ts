/** invalid-port's "Swap to LOW:HIGH" fix: offered on a reversed range in each syntax, whole file compared; absent where nothing is plainly reversed. */
import * as assert from 'assert';
import { swapRangeFix } from '../../server/src/core/reversedRange';
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

  it('ufw: the tuple and its -A line each get their swap', () => {
    const text = (r: string) =>
      `*filter\n:ufw-user-input - [0:0]\n### RULES ###\n\n### tuple ### allow tcp ${r} 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport ${r} -j ACCEPT\n\n### END RULES ###\nCOMMIT\n`;
    const got = swaps('etc/ufw/user.rules', text('2000:1000'));
    assert.deepStrictEqual(
      got.map(([t, p]) => [t, p]),
      [
        ['Swap to 1000:2000', true],
        ['Swap to 1000:2000', true],
      ],
    );
    assert.deepStrictEqual(
      got.map(([, , t]) => t),
      [text('2000:1000').replace('tcp 2000:1000', 'tcp 1000:2000'), text('2000:1000').replace('--dport 2000:1000', '--dport 1000:2000')],
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
