/** Host globs (`portolan.hosts`, `.portolan.json`): the matcher answers as picomatch does (issue 16 tests `dir/**` without a RegExp). */
import * as assert from 'assert';
import picomatch from 'picomatch';
import { globSet, matcher } from '../../server/src/core/globSet';

describe('globSet matcher', () => {
  const globs = [
    'hosts/h0/**',
    'hosts/web.1/**',
    'a b/**',
    'deep/x/y/**',
    '**',
    'hosts/*/**',
    'hosts/h0/*',
    './hosts/h0/**',
    'hosts//h0/**',
    'hosts/../h0/**',
    'h[0]/**',
    'hosts/h0/**/*.conf',
    'hosts/h0',
  ];
  const paths = [
    'hosts/h0',
    'hosts/h0/',
    'hosts/h0/etc/nginx/nginx.conf',
    'hosts/h0/.git/config',
    'hosts/h0/a/.b/c',
    'hosts/h0/./x',
    'hosts/h0/../x',
    'hosts/h0/..',
    'hosts/h0/.',
    'hosts/h0/...',
    'hosts/h0/a/..',
    'hosts/h0//x',
    'hosts/h00/x',
    'hosts/h0x',
    'hosts/web.1/x',
    'hosts/webX1/x',
    'a b/c',
    'deep/x/y',
    'deep/x/y/z/w.conf',
    'h0/x',
    'hosts/h0/**',
    '',
  ];

  it('answers every glob and path as picomatch (dot: true) does', () => {
    for (const glob of globs) {
      const reference = picomatch(glob, { dot: true, windows: false });
      for (const rel of paths) assert.strictEqual(matcher(glob)(rel), rel !== '' && reference(rel), `${glob} on "${rel}"`);
    }
  });

  it('the same glob gets the same matcher; a set adds, then negated globs take out', () => {
    assert.strictEqual(matcher('hosts/h0/**'), matcher('hosts/h0/**'));
    const set = globSet(['hosts/h0/**', '!hosts/h0/tmp/**']);
    assert.deepStrictEqual(
      ['hosts/h0/etc/x', 'hosts/h0/tmp/y', 'hosts/h1/etc/x'].map((p) => set.isMatch(p)),
      [true, false, false],
    );
    assert.deepStrictEqual(set.bases, ['hosts/h0']);
    assert.strictEqual(globSet(['!hosts/h0/tmp/**']).isMatch('hosts/h1/x'), false);
  });
});
