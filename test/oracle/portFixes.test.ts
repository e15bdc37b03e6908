/**
 * The compose side of the port quick fixes, applied, judged by docker-compose config: "Use port N"
 * (port-conflict, ephemeral-port) and "Publish on 127.0.0.1 only" (docker-bypasses-firewall) give a
 * file compose accepts and publishes as the title says, the finding is gone and no error or warning
 * is new. Prints the counts.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { applyEdits } from '../../server/src/core/fixes';
import type { Finding } from '../../server/src/core/types';
import { engineWith as engineOf } from '../helpers/engine';
import { requireProgram, run } from '../helpers/programs';

const UFW = {
  'etc/ufw/user.rules': '*filter\n:ufw-user-input - [0:0]\n### RULES ###\n### END RULES ###\nCOMMIT\n',
  'etc/default/ufw': 'DEFAULT_INPUT_POLICY="DROP"\n',
  'etc/ufw/ufw.conf': 'ENABLED=yes\n',
};
const CASES: Record<string, string>[] = [
  {
    'compose.yaml': 'services:\n  app:\n    image: example/app\n    ports:\n      - "8080:80" # web\n',
    'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 8080;\n  }\n}\n',
  },
  { 'compose.yaml': 'services:\n  app:\n    image: example/app\n    ports:\n      - target: 80\n        published: 50080\n' },
  { 'compose.yaml': "services:\n  app:\n    image: example/app\n    ports:\n      - '127.0.0.1:50000-50001:80-81'\n" },
  { ...UFW, 'compose.yaml': 'services:\n  app:\n    image: example/app\n    ports:\n      - "8080:80"\n      - 0.0.0.0:9090:90/udp\n' },
  { ...UFW, 'compose.yaml': 'services:\n  app:\n    image: example/app\n    ports:\n      - target: 80\n        published: "8443"\n        protocol: tcp\n' },
  // System ports: the conventional alternate first (443 -> 8443, 22 -> 2222), then near ports below 1024.
  {
    'compose.yaml': 'services:\n  app:\n    image: example/app\n    ports:\n      - "443:443"\n',
    'etc/nginx/nginx.conf': 'http {\n  server {\n    listen 443;\n  }\n}\n',
  },
  { 'compose.yaml': 'services:\n  app:\n    image: example/app\n    ports:\n      - "22:22"\n', 'etc/ssh/sshd_config': 'Port 22\n' },
];

function published(compose: string, text: string): { status: number; stderr: string; ports: unknown } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-port-fix-'));
  fs.writeFileSync(path.join(dir, 'compose.yaml'), text);
  const r = run(compose, ['-f', path.join(dir, 'compose.yaml'), 'config'], { cwd: dir });
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: r.status ?? -1, stderr: r.stderr, ports: r.status === 0 ? parseYaml(r.stdout).services.app.ports : undefined };
}

/** Each case is one machine although its compose file sits beside etc/ rather than under srv/ (core/sharedHost.ts). */
function engineWith(files: Record<string, string>) {
  const engine = engineOf(files);
  engine.hosts.setFolders([{ folder: '/ws', hosts: {}, oneHost: true }]);
  return engine;
}

const serious = (fs_: Finding[]) => fs_.filter((f) => f.severity === 'error' || f.severity === 'warning');

describe('compose port quick fixes against docker-compose config', function () {
  this.timeout(300000);
  let compose: string;
  before(function () {
    compose = requireProgram(this, ['docker-compose'], 'docker-compose');
  });

  it('every fix offered, applied, is accepted, removes its finding and adds no error or warning', () => {
    let applied = 0;
    let accepted = 0;
    let gone = 0;
    for (const files of CASES) {
      const before = [...engineWith(files).analyze().findingsByFile.values()].flat();
      for (const finding of before.filter((f) => f.file === '/ws/compose.yaml')) {
        for (const fix of finding.fixes ?? []) {
          if (!/^(Use port|Publish on 127\.0\.0\.1)/.test(fix.title)) continue;
          applied++;
          assert.ok(
            fix.edits.every((e) => e.file === '/ws/compose.yaml'),
            fix.title,
          );
          const text = applyEdits(files['compose.yaml'], fix.edits);
          const r = published(compose, text);
          assert.strictEqual(r.status, 0, `${fix.title}: ${r.stderr}`);
          const shown = JSON.stringify(r.ports);
          const port = /Use port (\d+)/.exec(fix.title)?.[1];
          if (port) assert.ok(shown.includes(port), `${fix.title}: compose publishes ${shown}`);
          else assert.ok(shown.includes('127.0.0.1'), `${fix.title}: compose publishes ${shown}`);
          accepted++;
          const after = [
            ...engineWith({ ...files, 'compose.yaml': text })
              .analyze()
              .findingsByFile.values(),
          ].flat();
          assert.ok(
            !after.some((f) => f.code === finding.code && f.file === finding.file && f.span.start === finding.span.start),
            `${fix.title}: ${finding.code} still there`,
          );
          const added = serious(after).filter((a) => !serious(before).some((b) => b.code === a.code && b.file === a.file));
          assert.deepStrictEqual(
            added.map((f) => f.message),
            [],
            fix.title,
          );
          gone++;
        }
      }
    }
    console.log(`      compose port fixes: ${applied} applied, ${accepted} accepted by docker-compose config, ${gone} findings gone with nothing new`);
    assert.ok(applied >= 8, `fixes applied: ${applied}`);
  });
});
