import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCheck } from '../../server/src/cli';
import { collect } from '../../server/src/cli/collect';
import { engineWith } from '../helpers/engine';

function tree(files: Record<string, string>, links: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-ws-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  for (const [name, target] of Object.entries(links)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.symlinkSync(target, path.join(dir, name));
  }
  return dir;
}

const NGINX = {
  'etc/nginx/nginx.conf': 'events {}\nhttp {\n  include /etc/nginx/sites-enabled/*;\n}\n',
  'etc/nginx/sites-available/app': 'server {\n  listen 8080;\n}\n',
};
const COMPOSE = { 'srv/compose.yaml': 'services:\n  a:\n    image: x\n    ports:\n      - "8080:80"\n' };

describe('workspace on disk (command line)', () => {
  it('a sites-enabled symlink is read through the link and reported once, on its target', () => {
    const dir = tree({ ...NGINX, ...COMPOSE }, { 'etc/nginx/sites-enabled/app': '../sites-available/app' });
    const lines: string[] = [];
    const counts = runCheck([dir], (l) => lines.push(l));
    const nginxSide = lines.filter((l) => l.split(':')[0].includes('etc/nginx/'));
    assert.strictEqual(nginxSide.length, 1, lines.join('\n'));
    assert.match(nginxSide[0], /sites-available\/app:2:10 error port-conflict/);
    assert.strictEqual(counts.errors, 2);
  });

  it('without the symlink (site not enabled) nginx.conf does not load the site file: it collides with nothing', () => {
    const dir = tree({ ...NGINX, ...COMPOSE });
    const lines: string[] = [];
    const counts = runCheck([dir], (l) => lines.push(l));
    assert.strictEqual(counts.errors, 0, lines.join('\n'));
    const listed = collect([dir], dir).files.find((f) => f.shown === 'etc/nginx/sites-available/app');
    assert.deepStrictEqual(listed?.notes, ['inactive: not loaded: no nginx.conf on this host includes it']);
  });

  it('skips node_modules and .git, and reads .portolan.json hosts', () => {
    const dir = tree({
      'web1/etc/ssh/sshd_config': 'Port 2222\n',
      'web2/etc/ssh/sshd_config': 'Port 2222\n',
      'node_modules/x/sshd_config': 'Port 70000\n',
      '.git/sshd_config': 'Port 70000\n',
      '.portolan.json': JSON.stringify({ hosts: { web1: ['web1/**'], web2: ['web2/**'] } }),
    });
    const lines: string[] = [];
    const counts = runCheck([dir], (l) => lines.push(l));
    assert.deepStrictEqual(lines, []);
    assert.strictEqual(counts.files, 2);
    const oneHost = tree({ 'web1/etc/ssh/sshd_config': 'Port 2222\n', 'web2/etc/ssh/sshd_config': 'Port 2222\n' });
    const conflicts: string[] = [];
    runCheck([oneHost], (l) => conflicts.push(l));
    assert.strictEqual(conflicts.filter((l) => l.includes('port-conflict')).length, 2);
  });
});

describe('aliases in the engine', () => {
  it('an edit of the target reaches the instance that reads it through the link', () => {
    const engine = engineWith({ ...NGINX, 'etc/nginx/sites-enabled/app': NGINX['etc/nginx/sites-available/app'], ...COMPOSE });
    engine.setAlias('/ws/etc/nginx/sites-enabled/app', '/ws/etc/nginx/sites-available/app');
    const conflictFiles = () =>
      [...engine.analyze().findingsByFile.entries()]
        .filter(([, l]) => l.some((f) => f.code === 'port-conflict'))
        .map(([f]) => f)
        .sort();
    assert.deepStrictEqual(conflictFiles(), ['/ws/etc/nginx/sites-available/app', '/ws/srv/compose.yaml']);
    engine.setFile('/ws/etc/nginx/sites-available/app', 'server {\n  listen 8081;\n}\n');
    assert.deepStrictEqual(conflictFiles(), []);
  });
});
