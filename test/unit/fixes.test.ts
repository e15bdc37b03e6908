/**
 * The rules' quick fixes (core/fixes.ts and the formats' writers): what each offers, that it changes
 * exactly what its title says (the whole file compared), and that applied, its finding is gone and no
 * new error or warning appears. The real programs judge the results in test/oracle/*Fixes.test.ts.
 */
import * as assert from 'assert';
import type { Finding } from '../../server/src/core/types';
import { fixAll } from '../../server/src/features/codeActions';
import { ignoreFileFix } from '../../server/src/core/ignore';
import { engineWith, withFix } from '../helpers/engine';

const NGINX = 'etc/nginx/nginx.conf';
const COMPOSE = 'srv/web/docker-compose.yml';

function findings(files: Record<string, string>): Finding[] {
  return [...engineWith(files).analyze().findingsByFile.values()].flat();
}

const warningsUp = (before: Finding[], after: Finding[]) =>
  after.filter(
    (a) => (a.severity === 'error' || a.severity === 'warning') && !before.some((b) => b.code === a.code && b.file === a.file && b.message === a.message),
  );

describe('quick fixes that repair', () => {
  const conflict = {
    [NGINX]: 'http {\n  server {\n    # the site\n    listen 127.0.0.1:8080 default_server;\n  }\n}\n',
    [COMPOSE]: 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80" # public\n      - 8081:81\n',
  };

  it('port-conflict: "Use port N" on each side, free on the host and near the original; compose changes the host side only', () => {
    const all = findings(conflict).filter((f) => f.code === 'port-conflict');
    const onNginx = all.find((f) => f.file.endsWith('nginx.conf'))!;
    const onCompose = all.find((f) => f.file.endsWith('.yml'))!;
    const ports = onNginx.fixes!.filter((f) => f.title.startsWith('Use port')).map((f) => Number(/Use port (\d+)/.exec(f.title)![1]));
    assert.strictEqual(ports.length, 3);
    for (const p of ports) assert.ok(p !== 8080 && p !== 8081 && Math.abs(p - 8080) < 20, `${p}: near 8080 and not 8081, which compose publishes`);
    const fix = onCompose.fixes!.find((f) => f.title.startsWith('Use port'))!;
    const port = /Use port (\d+)/.exec(fix.title)![1];
    const after = withFix(conflict, fix);
    assert.strictEqual(after[COMPOSE], conflict[COMPOSE].replace('"8080:80"', `"${port}:80"`));
    assert.strictEqual(after[NGINX], conflict[NGINX]);
    const nginxFix = withFix(conflict, onNginx.fixes![0]);
    assert.strictEqual(
      nginxFix[NGINX],
      conflict[NGINX].replace('127.0.0.1:8080 default_server', `127.0.0.1:${/Use port (\d+)/.exec(onNginx.fixes![0].title)![1]} default_server`),
    );
    for (const f of [fix, onNginx.fixes![0]]) {
      const later = findings(withFix(conflict, f));
      assert.ok(!later.some((x) => x.code === 'port-conflict'), `${f.title}: conflict gone`);
      assert.deepStrictEqual(warningsUp(findings(conflict), later), []);
    }
    assert.ok(
      onNginx.fixes!.every((f) => !f.preferred),
      "which side moves is the user's choice",
    );
  });

  it('port-conflict: "Use port N" offers the conventional alternate first, then the nearest ports no well-known service uses, in the original\'s class', () => {
    const nginxOn = (listen: string) => `http {\n  server {\n    listen ${listen};\n  }\n}\n`;
    const composeOn = (...ports: string[]) => `services:\n  web:\n    image: x\n    ports:\n${ports.map((p) => `      - "${p}"\n`).join('')}`;
    const choices = (files: Record<string, string>, file: string) => {
      const f = findings(files).find((x) => x.code === 'port-conflict' && x.file === `/ws/${file}`);
      assert.ok(f, `a conflict on ${file}`);
      return f.fixes!.filter((x) => x.title.startsWith('Use port')).map((x) => Number(/^Use port (\d+) \(free on this host\)$/.exec(x.title)![1]));
    };
    const cases: [string, Record<string, string>, string, number[]][] = [
      // 444 (snpp) and 445 (microsoft-ds) are /etc/services' below 1024: a privileged port stays privileged beyond its alternate.
      ['443', { [NGINX]: nginxOn('443'), [COMPOSE]: composeOn('443:443') }, NGINX, [8443, 442, 441]],
      ['443 with 8443 taken', { [NGINX]: nginxOn('443'), [COMPOSE]: composeOn('443:443', '8443:8443') }, NGINX, [442, 441, 446]],
      ['80', { [NGINX]: nginxOn('80'), [COMPOSE]: composeOn('80:80') }, NGINX, [8080, 8000, 81]],
      // 23 telnet, 21 ftp, 20 ftp-data, 25 smtp, 19 chargen are well-known.
      ['22', { 'etc/ssh/sshd_config': 'Port 22\n', [COMPOSE]: composeOn('22:2200') }, 'etc/ssh/sshd_config', [2222, 24, 26]],
      // 8081 is tproxy in /etc/services: above 1024 only the curated list counts, so the neighbour is offered.
      ['8080', { [NGINX]: nginxOn('8080'), [COMPOSE]: composeOn('8080:80') }, NGINX, [8081, 8079, 8082]],
      // 3000 (Grafana, dev servers) is on the curated list.
      ['3001', { [NGINX]: nginxOn('3001'), [COMPOSE]: composeOn('3001:80') }, NGINX, [3002, 3003, 2999]],
      ['5432', { [COMPOSE]: composeOn('5432:5432', '5432:80') }, COMPOSE, [5433, 5431, 5434]],
    ];
    for (const [name, files, file, want] of cases) assert.deepStrictEqual(choices(files, file), want, name);
  });

  it('ephemeral-port: the preferred fix moves the port just below the ephemeral ranges', () => {
    const files = { 'etc/ssh/sshd_config': '# ssh\nPort 50022 # high\n' };
    const f = findings(files).find((x) => x.code === 'ephemeral-port')!;
    const port = Number(/^Use port (\d+) \(below the ephemeral ranges\)$/.exec(f.fixes![0].title)![1]);
    assert.ok(port < 32768 && port > 32000, String(port));
    assert.strictEqual(f.fixes![0].preferred, true);
    const after = withFix(files, f.fixes![0]);
    assert.strictEqual(after['etc/ssh/sshd_config'], `# ssh\nPort ${port} # high\n`);
    assert.deepStrictEqual(
      findings(after).map((x) => x.code),
      [],
    );
  });

  it('port-conflict: no "Use port N" on a line two nginx instances read (it collides with itself; rewriting it moves both)', () => {
    // Two nginx of one host (two directories under one etc/) that include the same server file.
    const root = 'events {}\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n}\n';
    const files = { [NGINX]: root, 'etc/nginx-tls/nginx.conf': root, 'etc/nginx/conf.d/status.conf': 'server {\n  listen 127.0.0.1:8080;\n}\n' };
    const shared = findings(files).filter((f) => f.code === 'port-conflict' && f.file === '/ws/etc/nginx/conf.d/status.conf');
    // One finding per side, and both sides stand at this line (one per nginx that reads it).
    assert.strictEqual(shared.length, 2);
    assert.deepStrictEqual(
      shared
        .flatMap((f) => f.fixes ?? [])
        .map((x) => x.title)
        .filter((t) => t.startsWith('Use port')),
      [],
    );
    // Beside a program of its own, the other side still gets its fixes.
    const withSshd = findings({ ...files, 'etc/ssh/sshd_config': 'Port 8080\n' }).filter((f) => f.code === 'port-conflict');
    assert.ok(withSshd.some((f) => f.file === '/ws/etc/ssh/sshd_config' && f.fixes?.some((x) => x.title.startsWith('Use port'))));
  });

  it('a port written through a variable is not rewritten', () => {
    const files = { [COMPOSE]: 'services:\n  web:\n    image: x\n    ports:\n      - "${P:-50000}:80"\n' };
    for (const f of findings(files)) assert.ok(!(f.fixes ?? []).some((x) => x.title.startsWith('Use port')), f.message);
  });

  it('docker-bypasses-firewall: "Publish on 127.0.0.1 only" in short syntax, written before the host port or in place of the address', () => {
    const fw = {
      'etc/ufw/user.rules': '*filter\n:ufw-user-input - [0:0]\n### RULES ###\n### END RULES ###\nCOMMIT\n',
      'etc/default/ufw': 'DEFAULT_INPUT_POLICY="DROP"\n',
      'etc/ufw/ufw.conf': 'ENABLED=yes\n',
    };
    const cases: [string, string][] = [
      ['      - "8080:80"\n', '      - "127.0.0.1:8080:80"\n'],
      ['      - 0.0.0.0:8080:80\n', '      - 127.0.0.1:8080:80\n'],
    ];
    for (const [ports, fixed] of cases) {
      const files = { ...fw, [COMPOSE]: `services:\n  web:\n    image: nginx\n    ports:\n${ports}` };
      const f = findings(files).find((x) => x.code === 'docker-bypasses-firewall');
      assert.ok(f, ports);
      const fix = f.fixes!.find((x) => x.title === 'Publish on 127.0.0.1 only')!;
      const after = withFix(files, fix);
      assert.strictEqual(after[COMPOSE], `services:\n  web:\n    image: nginx\n    ports:\n${fixed}`);
      assert.ok(!findings(after).some((x) => x.code === 'docker-bypasses-firewall'), fixed);
    }
  });

  it('"Ignore in this file" silences the code in the whole file, after a #! line', () => {
    const files = { 'etc/ssh/sshd_config': '#!/bin/false\nPort 50022\nPort 50023\n' };
    const f = findings(files).find((x) => x.code === 'ephemeral-port')!;
    const fix = ignoreFileFix(files['etc/ssh/sshd_config'], f, 'sshd')!;
    const after = withFix(files, fix);
    assert.strictEqual(after['etc/ssh/sshd_config'], '#!/bin/false\n# portolan-ignore-file ephemeral-port\nPort 50022\nPort 50023\n');
    assert.deepStrictEqual(findings(after), []);
  });

  it('Fix all takes each preferred fix once and never two findings onto one port', () => {
    const files = { 'etc/ssh/sshd_config': 'Port 50022\nPort 50023\n' };
    const all = findings(files);
    const { fixes } = fixAll(all);
    assert.strictEqual(fixes.length, 2);
    const after = withFix(files, { edits: fixes.flatMap((f) => f.edits) });
    const [a, b] = fixes.map((f) => f.edits[0].newText);
    assert.notStrictEqual(a, b);
    assert.strictEqual(after['etc/ssh/sshd_config'], `Port ${a}\nPort ${b}\n`);
    assert.deepStrictEqual(findings(after), []);
  });
});
