import * as assert from 'assert';
import {
  isYaml11Sexagesimal,
  parseHostIp,
  parsePortRange,
  parseShortSpec,
  sexagesimalValue,
  UNKNOWN,
  type RangePart,
  type ShortSpec,
} from '../../server/src/formats/compose/ports';

/** A parsed spec as "ip|host|container/proto" ('-' for absent), ranges as from-to. */
function show(spec: ShortSpec): string {
  const r = (p: RangePart | undefined) => (!p ? '-' : 'unknown' in p ? '?' : p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`);
  const ip = spec.hostIp ? (spec.hostIp.address ? (spec.hostIp.address.address ?? (spec.hostIp.address.family === 'ipv6' ? '::' : '0.0.0.0')) : '?') : '-';
  return `${ip}|${r(spec.hostPort)}|${r(spec.container)}/${spec.protocol}`;
}

function parse(text: string): string {
  const p = parseShortSpec(text);
  return p.ok ? show(p.value) : `error: ${p.error.message}`;
}

describe('compose port grammar', () => {
  /**
   * Test vectors of docker/go-connections nat/nat_test.go (TestParsePortSpecs, TestParsePortSpecsWithRange,
   * TestParseNetworkOpts*, TestPartPortSpecIPV6, TestStringer, TestParsePortSpecFull), restated
   * as our own table: spec → host IP | host port | container port / protocol.
   */
  const accepted: [string, string][] = [
    ['1234/tcp', '-|-|1234/tcp'],
    ['2345/udp', '-|-|2345/udp'],
    ['3456/sctp', '-|-|3456/sctp'],
    ['1234:1234/tcp', '-|1234|1234/tcp'],
    ['0.0.0.0:1234:1234/tcp', '0.0.0.0|1234|1234/tcp'],
    ['1234-1236/tcp', '-|-|1234-1236/tcp'],
    ['1234-1236:1234-1236/tcp', '-|1234-1236|1234-1236/tcp'],
    ['0.0.0.0:1234-1236:1234-1236/tcp', '0.0.0.0|1234-1236|1234-1236/tcp'],
    ['0.0.0.0:1234-1235:3333-3334/tcp', '0.0.0.0|1234-1235|3333-3334/tcp'],
    ['192.168.1.100::80', '192.168.1.100|-|80/tcp'],
    ['192.168.1.100:8080:80', '192.168.1.100|8080|80/tcp'],
    ['192.168.1.100::6000/udp', '192.168.1.100|-|6000/udp'],
    ['192.168.1.100::6000/sctp', '192.168.1.100|-|6000/sctp'],
    ['[2001:4860:0:2001::68]::333', '2001:4860:0:2001::68|-|333/tcp'],
    ['[::1]:80:80', '::1|80|80/tcp'],
    ['2001:4860:0:2001::68::333', '2001:4860:0:2001::68|-|333/tcp'],
    ['::1:80:80', '::1|80|80/tcp'],
    ['::::80', '::|-|80/tcp'],
    [':8080:6000/tcp', '-|8080|6000/tcp'],
    ['::6000', '-|-|6000/tcp'],
    ['[::1]:8080:6000/udp', '::1|8080|6000/udp'],
    ['[::1]::6000/udp', '::1|-|6000/udp'],
    ['::1:8080:6000/udp', '::1|8080|6000/udp'],
    ['::::6000/udp', '::|-|6000/udp'],
    // SplitProtoPort and ParsePortRange vectors: empty protocol is tcp, upper case is lowered, 0 and 0123 parse.
    ['1234/', '-|-|1234/tcp'],
    ['1234/UDP', '-|-|1234/udp'],
    ['0', '-|-|0/tcp'],
    ['0123', '-|-|123/tcp'],
    ['65535', '-|-|65535/tcp'],
    ['1234-1234', '-|-|1234/tcp'],
    ['8000-9000', '-|-|8000-9000/tcp'],
    // A host range beside a single container port: Docker picks one port of the range.
    ['8000-8010:80', '-|8000-8010|80/tcp'],
  ];
  for (const [spec, expected] of accepted) {
    it(`accepts ${JSON.stringify(spec)} as ${expected}`, () => assert.strictEqual(parse(spec), expected));
  }

  /** Rejected by go-connections (same sources, plus parse_test.go's TestParsePortRange invalid cases). */
  const rejected: [string, RegExp][] = [
    ['localhost:1234:1234/tcp', /host IP "localhost"/],
    ['localhost:1234-1236:1234-1236/tcp', /host IP "localhost"/],
    ['192.168.1.100', /container port "192.168.1.100"/],
    ['192.168.1.100:-1:-1', /container port "-1"/],
    ['65536', /out of range/],
    ['asdf', /container port "asdf"/],
    ['1asdf', /container port "1asdf"/],
    ['9000-8000', /end is below the start/],
    ['8000-', /end of the range/],
    ['-9000', /start of the range/],
    ['8000-a', /"a" is not a number/],
    ['8000-9000a', /"9000a" is not a number/],
    ['a-9000', /"a" is not a number/],
    ['8000a-9000', /"8000a" is not a number/],
    ['-8000-', /start of the range/],
    ['-', /start of the range/],
    ['', /No container port/],
    ['/udp', /No container port/],
    ['80/xyz', /protocol "xyz"/],
    ['8000-8001:80-82', /differ in size/],
    ['70000:80', /host port "70000".*out of range/],
    ['[::1:80:80', /bracketed/],
    ['[::1]x:80:80', /bracketed/],
    ['fe80::1%eth0:80:80', /host IP/],
    ['01.2.3.4:80:80', /host IP "01.2.3.4"/],
  ];
  for (const [spec, message] of rejected) {
    it(`rejects ${JSON.stringify(spec)}`, () => assert.match(parse(spec), new RegExp(`^error: .*${message.source}`)));
  }

  it('points errors at the offending characters', () => {
    const at = (spec: string) => {
      const p = parseShortSpec(spec);
      assert.ok(!p.ok);
      return spec.slice(p.error.start, p.error.end);
    };
    assert.strictEqual(at('127.0.0.1:70000:80'), '70000');
    assert.strictEqual(at('8080:80/xyz'), 'xyz');
    assert.strictEqual(at('8080-9000a:80'), '9000a');
    assert.strictEqual(at('8000-8001:80-82'), '8000-8001:80-82');
    assert.strictEqual(at('localhost:80:80'), 'localhost');
    assert.strictEqual(at('[::g]:80:80'), '::g');
  });

  it('gives the offsets of each part, brackets left out of the address', () => {
    const text = '[::1]:8080-8081:80-81/udp';
    const p = parseShortSpec(text);
    assert.ok(p.ok);
    const { hostIp, hostPort, container, protocolSlice } = p.value;
    assert.deepStrictEqual(
      [hostIp, hostPort, container, protocolSlice].map((s) => text.slice(s!.start, s!.end)),
      ['::1', '8080-8081', '80-81', 'udp'],
    );
  });

  it('treats a part holding an unresolved variable as unknown, not wrong', () => {
    assert.strictEqual(parse(`${UNKNOWN}:80`), '-|?|80/tcp');
    assert.strictEqual(parse(`8080:${UNKNOWN}`), '-|8080|?/tcp');
    assert.strictEqual(parse(`${UNKNOWN}:8080:80`), '?|8080|80/tcp');
    const p = parseShortSpec(`80/${UNKNOWN}`);
    assert.ok(p.ok && p.value.protocolUnknown);
  });

  it('parsePortRange and parseHostIp on their own', () => {
    assert.deepStrictEqual(parsePortRange('100-200', 5), { ok: true, value: { start: 5, end: 12, from: 100, to: 200 } });
    assert.strictEqual(parsePortRange('+80').ok, true, 'strconv.ParseInt accepts a plus sign');
    const ip = parseHostIp('[fe80::1]', 0);
    assert.ok(ip.ok && ip.value?.address?.address === 'fe80::1' && ip.value.start === 1);
    assert.strictEqual(parseHostIp('', 0).ok, true);
  });

  it('knows which unquoted texts YAML 1.1 reads as base-60 numbers', () => {
    assert.ok(isYaml11Sexagesimal('22:22'));
    assert.strictEqual(sexagesimalValue('22:22'), 1342);
    assert.strictEqual(sexagesimalValue('2222:22'), 133342);
    assert.ok(isYaml11Sexagesimal('53:53'));
    for (const no of ['80:80', '8080:80', '3000:3000', '127.0.0.1:22:22', '22:22/udp', '0:22']) assert.ok(!isYaml11Sexagesimal(no), no);
  });

  it('never throws on garbage', () => {
    const samples = [
      '',
      ':',
      '::',
      ':::',
      '[',
      ']',
      '[]',
      '[]:1:1',
      '/',
      '//',
      '1/2/3',
      '-'.repeat(1000),
      ':'.repeat(1000),
      '9'.repeat(400),
      '\u0000\uffff',
      'a:b:c:d:e/f',
    ];
    for (const s of samples) assert.doesNotThrow(() => parseShortSpec(s), s);
  });
});
