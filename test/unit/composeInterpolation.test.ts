import * as assert from 'assert';
import { interpolate, mappedFromOffsets, parseDotenv, spanOf } from '../../server/src/formats/compose/interpolation';
import { UNKNOWN } from '../../server/src/formats/compose/ports';

/** Interpolates `text` as if it sat at offset 0 of a file; returns the value ('?' for unknown) and issue kinds. */
function run(text: string, vars: Record<string, string> = {}) {
  const input = mappedFromOffsets(
    text,
    Array.from({ length: text.length + 1 }, (_, i) => i),
  );
  const out = interpolate(input, new Map(Object.entries(vars)));
  return {
    value: out.value.text.split(UNKNOWN).join('?'),
    issues: out.issues.map((i) => `${i.kind}:${text.slice(i.span.start, i.span.end)}`),
    mapped: out.value,
    text,
  };
}

describe('compose interpolation', () => {
  // compose-go template_test.go semantics, restated.
  const cases: [string, Record<string, string>, string][] = [
    ['${P}', { P: '8080' }, '8080'],
    ['$P:80', { P: '8080' }, '8080:80'],
    ['${P:-8080}:80', {}, '8080:80'],
    ['${P:-8080}:80', { P: '' }, '8080:80'],
    ['${P:-8080}:80', { P: '9090' }, '9090:80'],
    ['${P-8080}:80', {}, '8080:80'],
    ['${P-8080}:80', { P: '' }, ':80'],
    ['${P:?need a port}', { P: '1' }, '1'],
    ['${P?need a port}', { P: '' }, ''],
    ['${P:+8443}', { P: 'yes' }, '8443'],
    ['${P:+8443}', { P: '' }, ''],
    ['${P+8443}', { P: '' }, '8443'],
    ['${P+8443}', {}, ''],
    ['$$P', { P: 'x' }, '$P'],
    ['$$${P}', { P: '1' }, '$1'],
    ['${A:-${B:-7}}0', {}, '70'],
    ['${A:-${B}}', { B: '5' }, '5'],
    ['a$', {}, 'a$'],
    ['$1', {}, '$1'],
    ['${p_1}', { p_1: 'x' }, 'x'],
  ];
  for (const [text, vars, expected] of cases) {
    it(`${text} with ${JSON.stringify(vars)} → ${JSON.stringify(expected)}`, () => {
      const r = run(text, vars);
      assert.strictEqual(r.value, expected);
      assert.deepStrictEqual(r.issues, []);
    });
  }

  it('marks unset variables as unknown and reports them on the expression', () => {
    assert.deepStrictEqual(run('${P}:80'), { ...run('${P}:80'), value: '?:80', issues: ['unset:${P}'] });
    assert.deepStrictEqual(run('$P:80').issues, ['unset:$P']);
    assert.deepStrictEqual(run('${P:?set it}').issues, ['unset:${P:?set it}']);
    assert.deepStrictEqual(run('${P?x}', {}).issues, ['unset:${P?x}']);
    assert.deepStrictEqual(run('${P:?x}', { P: '' }).issues, ['unset:${P:?x}']);
  });

  it('rejects malformed templates', () => {
    for (const bad of ['${', '${P', '${}', '${1P}', '${P!x}', '${P x}']) assert.strictEqual(run(bad).issues[0]?.split(':')[0], 'invalid', bad);
  });

  it('maps every output character to its source: literals to themselves, substitutions to the whole expression', () => {
    const r = run('${P:-8080}:80', {});
    // The default's characters keep their own positions; a substituted value covers the expression.
    assert.strictEqual(r.text.slice(spanOf(r.mapped, 0, 4, { start: 0, end: 0 }).start, spanOf(r.mapped, 0, 4, { start: 0, end: 0 }).end), '8080');
    const s = run('${P}:80', { P: '9090' });
    const host = spanOf(s.mapped, 0, 4, { start: 0, end: 0 });
    assert.strictEqual(s.text.slice(host.start, host.end), '${P}');
    const c = spanOf(s.mapped, 5, 7, { start: 0, end: 0 });
    assert.strictEqual(s.text.slice(c.start, c.end), '80');
  });
});

describe('.env files (compose-go dialect)', () => {
  const env = (text: string) => Object.fromEntries([...parseDotenv(text).vars].map(([k, v]) => [k, v.split(UNKNOWN).join('?')]));

  it('reads plain, exported, yaml-style and quoted values', () => {
    const text = [
      '# comment',
      'A=1',
      'export B=2',
      'C: 3',
      "D='4 # not a comment'",
      'E="5\\t5"',
      'F=6 # comment',
      'G=7#8',
      'H = 8 ',
      'I="multi',
      'line"',
      'J',
      'K=${A}${B}',
      "L='${A}'",
      'M="${A}-$B"',
      'N=$UNSET_IN_FILE',
      'O=',
    ].join('\n');
    assert.deepStrictEqual(env(text), {
      A: '1',
      B: '2',
      C: '3',
      D: '4 # not a comment',
      E: '5\t5',
      F: '6',
      G: '7#8',
      H: '8',
      I: 'multi\nline',
      J: '?',
      K: '12',
      L: '${A}',
      M: '1-2',
      N: '?',
      O: '',
    });
  });

  it('handles CRLF line ends', () => {
    assert.deepStrictEqual(env('A=1\r\nB="2"\r\n'), { A: '1', B: '2' });
  });

  it('reports what compose refuses and keeps the rest', () => {
    const r = parseDotenv('A=1\nB C=2\nD=4\nE="open\n');
    assert.deepStrictEqual([...r.vars.keys()], ['A', 'D']);
    assert.strictEqual(r.issues.length, 2);
  });

  it('never throws on garbage', () => {
    for (const g of ['=', '==', '"', "'", '\u0000', 'export', 'export ', 'A="\\', 'A=\\', '\n\n\n', 'x'.repeat(10000)])
      assert.doesNotThrow(() => parseDotenv(g), g);
  });
});
