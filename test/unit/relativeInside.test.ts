/** A file relative to its workspace folder (core/hosts.ts): by prefix for plain paths, as path.relative says for the rest. */
import * as assert from 'assert';
import { relativeInside } from '../../server/src/core/hosts';

describe('relativeInside', () => {
  it('inside, the folder itself, outside, a sibling sharing a prefix, the root, and paths with . and ..', () => {
    const cases: [string, string, string | undefined][] = [
      ['/ws', '/ws/a/b.conf', 'a/b.conf'],
      ['/ws', '/ws', ''],
      ['/ws', '/other/a', undefined],
      ['/ws', '/ws2/a', undefined],
      ['/ws', '/w', undefined],
      ['/', '/etc/ssh/sshd_config', 'etc/ssh/sshd_config'],
      ['/ws/', '/ws/a', 'a'],
      ['/ws', '/ws/./a/../b', 'b'],
      ['/ws', '/ws/../x', undefined],
      ['/ws/a/..', '/ws/b', 'b'],
      // A name that starts with two dots is inside (path.relative's '..foo' is not a way up).
      ['/ws', '/ws/..foo/x', '..foo/x'],
      ['/ws', '/ws//a', 'a'],
    ];
    for (const [folder, file, expected] of cases) assert.strictEqual(relativeInside(folder, file), expected, `${folder} ${file}`);
  });
});
