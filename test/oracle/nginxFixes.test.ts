/**
 * The nginx quick fixes, applied, give a configuration that `nginx -t` accepts and that we no longer
 * flag, changing only the text the fix names. nginx -t binds the sockets it reads, so it runs in a
 * network namespace of its own (`unshare -n`, loopback only).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { applyEdits, engineWith } from '../helpers/engine';
import { isRoot, requireProgram, run } from '../helpers/programs';

const wrap = (servers: string) => `events {}\nhttp {\n    access_log off;\n${servers}}\n`;
const CASES: string[] = [
  wrap(
    '    server {\n        listen 127.0.0.1:8081 default_server;\n    }\n    server {\n        listen 127.0.0.1:8081 default_server;\n        server_name b.example;\n    }\n',
  ),
  wrap('    server { listen 8082 default_server ssl; ssl_certificate x; ssl_certificate_key x; }\n    server { listen 8082   default_server; }\n'),
  wrap('    server {\n        listen [::1]:8083 default;\n    }\n    server {\n        listen [::1]:8083\tdefault_server\treuseport;\n    }\n'),
];

describe('nginx quick fixes against nginx -t', function () {
  this.timeout(120000);
  let nginx: string;
  let unshare: string;
  let dir: string;
  before(function () {
    nginx = requireProgram(this, ['/usr/sbin/nginx', 'nginx'], 'nginx');
    unshare = requireProgram(this, ['unshare'], 'util-linux');
    requireProgram(this, ['ip', '/usr/sbin/ip'], 'iproute2');
    if (!isRoot()) {
      if (process.env.CI === 'true') throw new Error('nginx -t in a network namespace needs root; CI runs as root');
      console.log('      skipped: nginx -t in a network namespace needs root');
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-nginx-fix-'));
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  /** nginx -t on a config text: rc and stderr. Certificates are not what we test: ssl lines use none. */
  function nginxT(name: string, text: string): { status: number; stderr: string } {
    const prefix = path.join(dir, name);
    fs.mkdirSync(path.join(prefix, 'conf'), { recursive: true });
    fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'), text.replace(/ ssl_certificate x; ssl_certificate_key x;/g, '').replace(/ ssl;/g, ';'));
    const script = `ip link set lo up && exec "$1" -t -p "$2/" -c conf/nginx.conf -g "pid $2/nginx.pid; error_log $2/error.log;"`;
    const r = run(unshare, ['-n', 'sh', '-c', script, 'sh', nginx, prefix]);
    return { status: r.status, stderr: r.stderr };
  }

  let applied = 0;
  for (const [i, config] of CASES.entries()) {
    it(`case ${i + 1}: removing the duplicate default_server satisfies nginx -t and changes only that word`, () => {
      const before = nginxT(`case-${i}`, config);
      assert.notStrictEqual(before.status, 0, 'the case must start out refused by nginx -t');
      assert.match(before.stderr, /duplicate default server/);
      const engine = engineWith({ 'etc/nginx/nginx.conf': config });
      const finding = engine
        .analyze()
        .findingsByFile.get('/ws/etc/nginx/nginx.conf')!
        .find((f) => f.code === 'duplicate-default-server');
      assert.ok(finding?.fixes?.length, 'a fix is offered');
      for (const fix of finding.fixes) {
        const fixed = applyEdits(config, fix.edits);
        const after = nginxT(`case-${i}-fixed`, fixed);
        assert.strictEqual(after.status, 0, `${fix.title}: nginx -t still refuses:\n${after.stderr}\n--- fixed:\n${fixed}`);
        const ours = engineWith({ 'etc/nginx/nginx.conf': fixed }).analyze().findingsByFile.get('/ws/etc/nginx/nginx.conf') ?? [];
        assert.deepStrictEqual(
          ours.filter((f) => f.severity === 'error').map((f) => f.message),
          [],
        );
        // Exactly one default_server/default word went, with the blank before it: the rest is untouched.
        let head = 0;
        while (head < fixed.length && fixed[head] === config[head]) head++;
        const removed = config.slice(head, head + (config.length - fixed.length));
        assert.strictEqual(config.slice(0, head) + config.slice(head + removed.length), fixed, `${fix.title}: more than one place changed`);
        assert.match(removed, /^([ \t]+(default_server|default)|(default_server|default)[ \t]+)$/, `${fix.title}: removed ${JSON.stringify(removed)}`);
        applied++;
      }
    });
  }
  after(() => console.log(`      nginx quick fixes: ${applied} applied fixes accepted by nginx -t`));
});
