/**
 * The installable package (`npm run package`, scripts/package.js): what is inside the .vsix, and that
 * the bundles inside it work on their own, away from the repository and its node_modules: the server
 * over stdio (the contract for other editors, with the custom port map request), and the CLI.
 */
import * as assert from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HoverRequest } from 'vscode-languageserver-protocol/node';
import { TestClient } from '../helpers/lspClient';

const ROOT = path.resolve(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { packageExtension } = require('../../scripts/package.js') as {
  packageExtension(o: { out: string; stage: string }): Promise<{ out: string; output: string }>;
};

describe('the .vsix package', function () {
  this.timeout(120_000);
  let work: string;
  let ext: string;
  let files: string[];
  let manifest: Record<string, any>;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-package-'));
    const vsix = path.join(work, 'portolan.vsix');
    await packageExtension({ out: vsix, stage: path.join(work, 'stage') });
    // Unpacked far from the repository, so nothing can resolve into its node_modules or data/.
    execFileSync('unzip', ['-q', vsix, '-d', path.join(work, 'unpacked')]);
    ext = path.join(work, 'unpacked', 'extension');
    files = (fs.readdirSync(ext, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(ext, f)).isFile()).sort();
    manifest = JSON.parse(fs.readFileSync(path.join(ext, 'package.json'), 'utf8'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('holds the bundles with their sourcemaps, the grammars, data, icons, README images, LICENSE and nothing else', () => {
    const bundles = ['client/out/extension.js', 'server/out/server.js', 'server/out/cli.js', 'server/out/parseWorker.js'];
    for (const b of bundles) {
      assert.ok(files.includes(b), b);
      assert.ok(files.includes(`${b}.map`), `${b}.map`);
    }
    for (const data of fs.readdirSync(path.join(ROOT, 'data')).filter((f) => f.endsWith('.json'))) assert.ok(files.includes(`data/${data}`), data);
    for (const g of manifest.contributes.grammars) assert.ok(files.includes(g.path.replace(/^\.\//, '')), g.path);
    for (const v of manifest.contributes.jsonValidation) assert.ok(files.includes(v.url.replace(/^\.\//, '')), v.url);
    for (const l of manifest.contributes.languages) if (l.configuration) assert.ok(files.includes(l.configuration.replace(/^\.\//, '')), l.configuration);
    assert.ok(files.includes(manifest.icon), manifest.icon);
    assert.ok(files.includes('LICENSE.txt') || files.includes('LICENSE'));
    const readme = fs.readFileSync(path.join(ext, 'readme.md'), 'utf8');
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]);
    assert.ok(images.length >= 3, `README shows screenshots: ${images.join(', ')}`);
    for (const image of images) assert.ok(files.includes(image), `${image} (relative in README) is in the package`);
    const top = [...new Set(files.map((f) => f.split('/')[0]))].sort();
    assert.deepStrictEqual(top, [
      'LICENSE.txt',
      'changelog.md',
      'client',
      'data',
      'docs',
      'media',
      'package.json',
      'readme.md',
      'schemas',
      'server',
      'syntaxes',
    ]);
    assert.deepStrictEqual(
      files.filter((f) => /(^|\/)(src|test|bench|node_modules|examples)\//.test(f) || f.endsWith('.ts')),
      [],
    );
  });

  it('its manifest: no scripts or dependencies, fields for the marketplace, trust declared, every walkthrough file present', () => {
    assert.strictEqual(manifest.scripts, undefined);
    assert.strictEqual(manifest.dependencies, undefined);
    assert.strictEqual(manifest.main, './client/out/extension.js');
    for (const field of ['repository', 'homepage', 'bugs', 'license', 'icon']) assert.ok(manifest[field], field);
    assert.strictEqual(manifest.capabilities.untrustedWorkspaces.supported, true);
    for (const step of manifest.contributes.walkthroughs[0].steps) assert.ok(files.includes(step.media.markdown), step.media.markdown);
    assert.ok(files.includes(manifest.contributes.viewsContainers.activitybar[0].icon));
  });

  it('the bundled server answers over stdio: diagnostics, a hover and the port map, reading data/ from the package', async () => {
    const folder = path.join(work, 'host');
    fs.mkdirSync(path.join(folder, 'etc', 'ssh'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'etc', 'ssh', 'sshd_config'), 'Port 22\nPort 50022\n');
    const client = await TestClient.start(folder, { serverJs: path.join(ext, 'server', 'out', 'server.js') });
    try {
      const uri = `file://${folder}/etc/ssh/sshd_config`;
      await client.until(() => client.codes(uri).length > 0);
      assert.deepStrictEqual(client.codes(uri), ['ephemeral-port']);
      const hover = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 0, character: 6 } });
      assert.match(JSON.stringify(hover?.contents), /TCP 22 — SSH/);
      const map = (await client.connection.sendRequest('portolan/portMap', {})) as { hosts: { label: string; ports: { port: number; service?: string }[] }[] };
      assert.deepStrictEqual(
        map.hosts.map((h) => [h.label, h.ports.map((p) => `${p.port} ${p.service ?? ''}`.trim())]),
        [['host', ['22 SSH', '50022']]],
      );
    } finally {
      await client.stop();
    }
  });

  it('the bundled CLI prints what the repository build prints', () => {
    const run = (cli: string) => spawnSync(process.execPath, [cli, 'check', 'examples'], { cwd: ROOT, encoding: 'utf8' });
    const bundled = run(path.join(ext, 'server', 'out', 'cli.js'));
    const built = run(path.join(ROOT, 'server', 'out', 'cli.js'));
    assert.strictEqual(bundled.status, 1, bundled.stderr);
    assert.strictEqual(bundled.stdout, built.stdout);
    assert.match(bundled.stdout, /port-conflict/);
  });
});
