/** Include patterns resolved against the workspace's files (issue 16 compiles each pattern once for every directory it is tried under). */
import * as assert from 'assert';
import { FileIndex, resolveInclude } from '../../server/src/core/includes';
import type { IncludeRef } from '../../server/src/core/types';

const span = { start: 0, end: 0 };
const ref = (pattern: string, relativeTo: IncludeRef['relativeTo']): IncludeRef => ({ span, pattern, relativeTo });

describe('resolveInclude', () => {
  const files = [
    '/ws/host1/etc/nginx/nginx.conf',
    '/ws/host1/etc/nginx/conf.d/b.conf',
    '/ws/host1/etc/nginx/conf.d/a.conf',
    '/ws/host1/etc/nginx/conf.d/.hidden.conf',
    '/ws/host1/etc/nginx/conf.d/c.txt',
    '/ws/host1/etc/nginx/conf.d/sub/d.conf',
    '/ws/host1/etc/nginx/sites/x[1].conf',
    '/ws/host1/etc/nginx/sites/x1.conf',
    '/ws/host1/etc/ssh/sshd_config',
    '/ws/host1/etc/ssh/sshd_config.d/10-port.conf',
    '/ws/we*ird/etc/nginx/nginx.conf',
    '/ws/we*ird/etc/nginx/conf.d/w.conf',
    '/ws/weXird/etc/nginx/conf.d/not-this.conf',
    '/ws/deep/a/b/c/nginx.conf',
    '/ws/deep/etc/nginx/conf.d/up.conf',
  ];
  const index = new FileIndex(files);
  const from = (includingFile: string, rootFile = includingFile) => ({ includingFile, rootFile });

  it('maps a system path onto the nearest ancestor that mirrors it: dot files and other names are not matched, results sorted', () => {
    assert.deepStrictEqual(resolveInclude(index, ref('/etc/nginx/conf.d/*.conf', 'root-file-dir'), from('/ws/host1/etc/nginx/nginx.conf')), [
      '/ws/host1/etc/nginx/conf.d/a.conf',
      '/ws/host1/etc/nginx/conf.d/b.conf',
    ]);
    // '*' stops at '/': the file in sub/ is not matched; '*/*' reaches it.
    assert.deepStrictEqual(resolveInclude(index, ref('/etc/nginx/conf.d/*/*.conf', 'root-file-dir'), from('/ws/host1/etc/nginx/nginx.conf')), [
      '/ws/host1/etc/nginx/conf.d/sub/d.conf',
    ]);
    // Walks up past directories that do not mirror it.
    assert.deepStrictEqual(resolveInclude(index, ref('/etc/nginx/conf.d/*.conf', 'root-file-dir'), from('/ws/deep/a/b/c/nginx.conf')), [
      '/ws/deep/etc/nginx/conf.d/up.conf',
    ]);
  });

  it('a wildcard in the name of a directory of the workspace is literal, not a pattern', () => {
    assert.deepStrictEqual(resolveInclude(index, ref('/etc/nginx/conf.d/*.conf', 'root-file-dir'), from('/ws/we*ird/etc/nginx/nginx.conf')), [
      '/ws/we*ird/etc/nginx/conf.d/w.conf',
    ]);
    assert.deepStrictEqual(resolveInclude(index, ref('conf.d/*.conf', 'including-file-dir'), from('/ws/we*ird/etc/nginx/nginx.conf')), [
      '/ws/we*ird/etc/nginx/conf.d/w.conf',
    ]);
  });

  it('relative patterns: against the including file, the root config, with .. and with quoted and bracketed names', () => {
    const nginx = '/ws/host1/etc/nginx/nginx.conf';
    const site = '/ws/host1/etc/nginx/sites/x1.conf';
    assert.deepStrictEqual(resolveInclude(index, ref('conf.d/*.conf', 'including-file-dir'), from(nginx)), [
      '/ws/host1/etc/nginx/conf.d/a.conf',
      '/ws/host1/etc/nginx/conf.d/b.conf',
    ]);
    assert.deepStrictEqual(resolveInclude(index, ref('conf.d/a.conf', 'root-file-dir'), from(site, nginx)), ['/ws/host1/etc/nginx/conf.d/a.conf']);
    assert.deepStrictEqual(resolveInclude(index, ref('conf.d/a.conf', 'including-file-dir'), from(site, nginx)), []);
    assert.deepStrictEqual(resolveInclude(index, ref('../conf.d/?.conf', 'including-file-dir'), from(site, nginx)), [
      '/ws/host1/etc/nginx/conf.d/a.conf',
      '/ws/host1/etc/nginx/conf.d/b.conf',
    ]);
    assert.deepStrictEqual(resolveInclude(index, ref('./sites/x[1].conf', 'root-file-dir'), from(nginx)), ['/ws/host1/etc/nginx/sites/x1.conf']);
    assert.deepStrictEqual(resolveInclude(index, ref('sites/x\\[1\\].conf', 'root-file-dir'), from(nginx)), ['/ws/host1/etc/nginx/sites/x[1].conf']);
    assert.deepStrictEqual(resolveInclude(index, ref('sites//x[!2].conf', 'root-file-dir'), from(nginx)), ['/ws/host1/etc/nginx/sites/x1.conf']);
  });

  it("sshd's relative Include: under /etc/ssh mapped onto the workspace, else the root config's directory", () => {
    const sshd = '/ws/host1/etc/ssh/sshd_config';
    assert.deepStrictEqual(resolveInclude(index, ref('sshd_config.d/*.conf', '/etc/ssh'), from(sshd)), ['/ws/host1/etc/ssh/sshd_config.d/10-port.conf']);
    const elsewhere = new FileIndex(['/ws/box/sshd_config', '/ws/box/sshd_config.d/20.conf']);
    assert.deepStrictEqual(resolveInclude(elsewhere, ref('sshd_config.d/*.conf', '/etc/ssh'), from('/ws/box/sshd_config')), ['/ws/box/sshd_config.d/20.conf']);
  });

  it('the system path itself wins when the workspace holds it; nothing matched is empty', () => {
    const rooted = new FileIndex(['/etc/nginx/conf.d/root.conf', ...files]);
    assert.deepStrictEqual(resolveInclude(rooted, ref('/etc/nginx/conf.d/*.conf', 'root-file-dir'), from('/ws/host1/etc/nginx/nginx.conf')), [
      '/etc/nginx/conf.d/root.conf',
    ]);
    assert.deepStrictEqual(resolveInclude(index, ref('/etc/nginx/modules/*.conf', 'root-file-dir'), from('/ws/host1/etc/nginx/nginx.conf')), []);
    assert.deepStrictEqual(resolveInclude(index, ref('', 'root-file-dir'), from('/ws/host1/etc/nginx/nginx.conf')), []);
  });
});

describe('FileIndex', () => {
  it('lists the files in a directory and under it, and forgets removed files and emptied directories', () => {
    const index = new FileIndex(['/w/a/x.conf', '/w/a/b/y.conf', '/w/a/b/c/z.conf', '/w/d/q', '/r']);
    const under = (dir: string) => index.under(dir).sort();
    assert.deepStrictEqual(under('/w/a'), ['/w/a/b/c/z.conf', '/w/a/b/y.conf', '/w/a/x.conf']);
    assert.deepStrictEqual(under('/'), ['/r', '/w/a/b/c/z.conf', '/w/a/b/y.conf', '/w/a/x.conf', '/w/d/q']);
    assert.deepStrictEqual(under('/w/a/b/c/z.conf'), []);
    assert.deepStrictEqual(under('/nowhere'), []);
    assert.ok(index.has('/w/a/b/y.conf') && !index.has('/w/a/b'));
    index.remove('/w/a/b/c/z.conf');
    assert.deepStrictEqual(under('/w/a/b'), ['/w/a/b/y.conf']);
    index.remove('/w/a/b/y.conf');
    index.remove('/w/a/b/y.conf');
    assert.deepStrictEqual(under('/w'), ['/w/a/x.conf', '/w/d/q']);
    index.add('/w/a/b/c/z.conf');
    assert.deepStrictEqual(under('/w/a'), ['/w/a/b/c/z.conf', '/w/a/x.conf']);
    for (const f of ['/w/a/x.conf', '/w/a/b/c/z.conf', '/w/d/q', '/r']) index.remove(f);
    assert.deepStrictEqual(under('/'), []);
    index.add('/w/a/b/c/z.conf');
    assert.deepStrictEqual(under('/'), ['/w/a/b/c/z.conf']);
    assert.ok(!index.has('/w/a/x.conf'));
  });
});
