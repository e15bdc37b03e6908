/**
 * The "Use port N" quick fixes (port-conflict, ephemeral-port) offered on nginx and sshd files,
 * applied, judged by the programs themselves: every fix the engine offers across the corpus (its
 * workspaces, as the command line checks them, and its single nginx and sshd files) and across the
 * cases below. Each fix changes only the port digits its title names; `nginx -t` (test/helpers/nginx.ts)
 * or `sshd -T` (which must print the new port) accepts the result; and re-analysed, the finding is gone
 * and no error or warning is new. Prints the counts.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { applyEdits } from '../../server/src/core/fixes';
import type { Finding, Fix } from '../../server/src/core/types';
import { engineWith } from '../helpers/engine';
import { NginxT } from '../helpers/nginx';
import { isRoot, requireProgram, run } from '../helpers/programs';
import { SshdOracle } from '../helpers/sshd';
import { folderFixView } from '../helpers/fixOracles';

const CORPUS = process.env.PORTOLAN_CORPUS ?? path.resolve(__dirname, '../../../shared/corpus');
const NGINX = 'etc/nginx/nginx.conf';
const SSHD = 'etc/ssh/sshd_config';
const nginxMain = (servers: string) => `events {}\nhttp {\n    access_log off;\n${servers}}\n`;

/** Hosts whose nginx or sshd side gets a "Use port N" fix. */
const CASES: Record<string, string>[] = [
  { [SSHD]: 'Port 50022\n' },
  { [SSHD]: 'Port 8080\nAddressFamily inet\n', [NGINX]: nginxMain('    server {\n        listen 8080;\n    }\n') },
  { [SSHD]: 'ListenAddress 0.0.0.0:2222\n', 'compose.yaml': 'services:\n  app:\n    image: example/app\n    ports:\n      - "2222:22"\n' },
  { [SSHD]: 'Port 22\r\nPort 33000 # second\r\n' },
  { [NGINX]: nginxMain('    server {\n        listen 40000;\n        listen [::]:40000 ipv6only=on;\n    }\n') },
  {
    [NGINX]: nginxMain('    server {\n        listen 127.0.0.1:9000;\n    }\n'),
    'compose.yaml': 'services:\n  php:\n    image: php\n    ports:\n      - "127.0.0.1:9000:9000"\n',
  },
  // System ports: the conventional alternate first (8443, 8080, 2222), then near ports in the privileged range.
  ...[443, 80].map((port) => ({
    [NGINX]: nginxMain(`    server {\n        listen ${port};\n    }\n`),
    'srv/web/compose.yaml': `services:\n  web:\n    image: example/web\n    ports:\n      - "${port}:${port}"\n`,
  })),
  { [SSHD]: 'Port 22\n', 'srv/web/compose.yaml': 'services:\n  git:\n    image: example/git\n    ports:\n      - "22:2200"\n' },
];

type Program = 'nginx' | 'sshd';
const programOf = (file: string, text: string): Program | undefined =>
  /sshd_config$|\/sshd_config\.d\//.test(file)
    ? 'sshd'
    : /nginx|\.conf$|sites-(available|enabled)\//.test(file) && /\blisten\b/.test(text)
      ? 'nginx'
      : undefined;

const serious = (list: Finding[]) => list.filter((f) => f.severity === 'error' || f.severity === 'warning');
const isPortFix = (fix: Fix) => /^Use port \d+(-\d+)? /.test(fix.title);

describe('"Use port N" fixes on nginx and sshd against nginx -t and sshd -T', function () {
  this.timeout(600000);
  let nginxT: NginxT;
  let sshd: SshdOracle;
  let dir: string;
  const counts = { applied: 0, nginx: 0, sshd: 0, gone: 0 };

  before(function () {
    const nginx = requireProgram(this, ['/usr/sbin/nginx', 'nginx'], 'nginx');
    const openssl = requireProgram(this, ['openssl'], 'openssl');
    requireProgram(this, ['unshare'], 'util-linux');
    requireProgram(this, ['ip', '/usr/sbin/ip'], 'iproute2');
    if (!isRoot()) {
      if (process.env.CI === 'true') throw new Error('nginx -t and sshd -T in namespaces of their own need root; CI runs as root');
      console.log('      skipped: nginx -t and sshd -T in namespaces of their own need root');
      this.skip();
    }
    sshd = new SshdOracle(
      requireProgram(this, ['/usr/sbin/sshd', 'sshd'], 'openssh-server'),
      requireProgram(this, ['ssh-keygen'], 'openssh-client'),
      'unshare',
    );
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-listen-fix-'));
    const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
    const made = run(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=portolan.test', '-days', '2']);
    assert.strictEqual(made.status, 0, made.stderr);
    nginxT = new NginxT(nginx, dir, cert, key);
  });
  after(() => {
    sshd?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The whole file compared: only the port digits at the finding's place change, to the port of the title. */
  function assertOnlyThePort(original: string, fixed: string, finding: Finding, fix: Fix): void {
    const port = /^Use port (\d+(?:-\d+)?) /.exec(fix.title)![1];
    assert.strictEqual(fix.edits.length, 1, `${fix.title}: one edit`);
    const [e] = fix.edits;
    assert.ok(e.file === finding.file && e.span.start === finding.span.start && e.span.end === finding.span.end, `${fix.title}: edits the finding's port`);
    assert.match(original.slice(e.span.start, e.span.end), /^\d+(-\d+)?$/, `${fix.title}: replaces digits`);
    assert.strictEqual(fixed, original.slice(0, e.span.start) + port + original.slice(e.span.end), `${fix.title}: the file changes only there`);
  }

  /** The real program's word on the fixed file (sshd -T must print the new port). */
  async function accepted(program: Program, fixed: string, fix: Fix): Promise<void> {
    if (program === 'nginx') {
      const v = nginxT.test(fixed);
      assert.ok(v.ok, `${fix.title}: nginx -t refuses: ${v.message} (neutralized: ${v.neutralized.join('; ') || 'nothing'})\n--- fixed:\n${fixed}`);
      counts.nginx++;
      return;
    }
    const v = await sshd.judge(sshd.materialize({ name: 'fix', config: fixed }));
    assert.strictEqual(v.status, 0, `${fix.title}: sshd -T refuses:\n${v.stderr}\n--- fixed:\n${fixed}`);
    const port = Number(/^Use port (\d+)/.exec(fix.title)![1]);
    assert.ok(v.ports.includes(port) || v.listens.some((l) => l.endsWith(`:${port}`)), `${fix.title}: sshd -T prints ports ${v.ports} listens ${v.listens}`);
    counts.sshd++;
  }

  /** Every port fix on nginx/sshd files of one analysis; `reanalyse` gives the findings after writing one file. */
  async function judgeAll(
    name: string,
    before: Finding[],
    textOf: (file: string) => string,
    reanalyse: (file: string, text: string) => Finding[],
  ): Promise<void> {
    for (const finding of before) {
      const original = textOf(finding.file);
      const program = programOf(finding.file, original);
      if (!program) continue;
      for (const fix of (finding.fixes ?? []).filter(isPortFix)) {
        counts.applied++;
        const fixed = applyEdits(original, fix.edits);
        assertOnlyThePort(original, fixed, finding, fix);
        await accepted(program, fixed, fix);
        const after = reanalyse(finding.file, fixed);
        assert.ok(
          !after.some((f) => f.code === finding.code && f.file === finding.file && f.span.start === finding.span.start),
          `${name}: ${fix.title}: ${finding.code} still there`,
        );
        const key = (f: Finding) => `${f.code}|${f.file}|${f.span.start}`;
        const had = new Set(serious(before).map(key));
        assert.deepStrictEqual(
          serious(after)
            .filter((f) => !had.has(key(f)))
            .map((f) => `${f.code}: ${f.message}`),
          [],
          `${name}: ${fix.title}: new findings`,
        );
        counts.gone++;
      }
    }
  }

  it('the cases: every fix is accepted, its finding gone, nothing new', async () => {
    const before = counts.applied;
    for (const [i, files] of CASES.entries()) {
      const findings = [...engineWith(files).analyze().findingsByFile.values()].flat();
      const text = (file: string) => files[file.slice('/ws/'.length)];
      await judgeAll(`case ${i + 1}`, findings, text, (file, fixed) =>
        [
          ...engineWith({ ...files, [file.slice('/ws/'.length)]: fixed })
            .analyze()
            .findingsByFile.values(),
        ].flat(),
      );
    }
    assert.ok(counts.applied - before >= 15, `fixes applied on the cases: ${counts.applied - before}`);
  });

  it('the corpus: every fix on an nginx or sshd file is accepted, its finding gone, nothing new', async function () {
    if (!fs.existsSync(CORPUS)) this.skip();
    const before = counts.applied;
    for (const kind of ['nginx', 'sshd']) {
      for (const name of fs.readdirSync(path.join(CORPUS, kind)).sort()) {
        const files = { [kind === 'nginx' ? NGINX : SSHD]: fs.readFileSync(path.join(CORPUS, kind, name), 'utf8') };
        const text = (file: string) => files[file.slice('/ws/'.length)];
        const findings = [...engineWith(files).analyze().findingsByFile.values()].flat();
        await judgeAll(name, findings, text, (file, fixed) =>
          [
            ...engineWith({ [file.slice('/ws/'.length)]: fixed })
              .analyze()
              .findingsByFile.values(),
          ].flat(),
        );
      }
    }
    const workspaces = path.join(CORPUS, 'workspaces');
    for (const name of fs.readdirSync(workspaces).sort()) {
      if (!fs.statSync(path.join(workspaces, name)).isDirectory()) continue;
      // The folder read as the command line reads it; a fixed file is set in the engine and analysed again.
      const folder = folderFixView(path.join(workspaces, name));
      await judgeAll(name, folder.findings(), folder.textOf, folder.reanalyse);
    }
    // The corpus's nginx and sshd conflicts were false ones (files no nginx.conf loads, projects not known
    // to share a host): with those gone it offers few or no "Use port N" fixes; each one it does offer is judged above.
    console.log(`      corpus: ${counts.applied - before} "Use port N" fixes offered on nginx/sshd files`);
  });

  after(() =>
    console.log(
      `      "Use port N" on nginx/sshd: ${counts.applied} applied, ${counts.nginx} accepted by nginx -t, ${counts.sshd} by sshd -T (new port printed), ${counts.gone} findings gone with nothing new`,
    ),
  );
});
