/** Literal IP addresses as the parsers read them (parseIp answers from a cache since issue 16: the same answers, each a new object). */
import * as assert from 'assert';
import { parseIp } from '../../server/src/core/address';
import { BoundedCache } from '../../server/src/core/boundedCache';

describe('parseIp', () => {
  const cases: [string, ReturnType<typeof parseIp>][] = [
    ['127.0.0.1', { family: 'ipv4', address: '127.0.0.1' }],
    ['0.0.0.0', { family: 'ipv4' }],
    ['256.1.1.1', undefined],
    ['[::]', { family: 'ipv6' }],
    ['::', { family: 'ipv6' }],
    ['[2001:DB8:0:0:0:0:0:1]', { family: 'ipv6', address: '2001:db8::1' }],
    ['fe80::1%eth0', { family: 'ipv6', address: 'fe80::1%eth0' }],
    ['localhost', undefined],
    ['example.com', undefined],
    [`[${'0:'.repeat(60)}1]`, undefined],
  ];

  it('reads each address to its family and canonical text, the same the second time', () => {
    for (let round = 0; round < 2; round++)
      for (const [text, expected] of cases) assert.deepStrictEqual(parseIp(text), expected, `${text} (round ${round + 1})`);
  });

  it('gives a new object each time: changing one answer changes no later one', () => {
    const first = parseIp('10.0.0.1')!;
    first.address = 'changed';
    assert.deepStrictEqual(parseIp('10.0.0.1'), { family: 'ipv4', address: '10.0.0.1' });
    assert.notStrictEqual(parseIp('[::]'), parseIp('[::]'));
  });
});

describe('BoundedCache', () => {
  it('makes each value once, keeps undefined answers, and is emptied (not grown) past its size', () => {
    const made: string[] = [];
    const cache = new BoundedCache<string, string | undefined>(2);
    const make = (k: string) => {
      made.push(k);
      return k === 'none' ? undefined : k.toUpperCase();
    };
    assert.deepStrictEqual([cache.get('a', make), cache.get('a', make), cache.get('none', make), cache.get('none', make)], ['A', 'A', undefined, undefined]);
    assert.deepStrictEqual(made, ['a', 'none']);
    cache.get('b', make);
    cache.get('a', make);
    assert.deepStrictEqual(made, ['a', 'none', 'b', 'a']);
  });
});
