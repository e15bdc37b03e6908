/**
 * Rename across files (issue 12), judged by the real programs: a host of nginx (an include), sshd
 * (Port and ListenAddress host:port), compose (short and long syntax), iptables, ufw (user.rules and
 * user6.rules) and nftables. Each port is renamed through the LSP feature, the WorkspaceEdit applied,
 * and every rewritten file handed to its program — nginx -t, sshd -T, docker-compose config,
 * iptables-restore --test / ip6tables-restore --test, nft -c — which must accept it and, where it
 * prints what it read, show the new port. Our re-analysis must then find the port moved: the new
 * port has as many references as the old one had, on the same lines, and the old port none left.
 * Prints the counts.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import type { Location, TextEdit } from 'vscode-languageserver';
import { provideReferences } from '../../server/src/features/references';
import { provideRename } from '../../server/src/features/rename';
import { engineWith } from '../helpers/engine';
import { isRoot, requireProgram, run } from '../helpers/programs';
import { SshdOracle } from '../helpers/sshd';

const UFW_RULES = (v6: boolean) => {
  const chain = v6 ? 'ufw6-user-input' : 'ufw-user-input';
  const any = v6 ? '::/0' : '0.0.0.0/0';
  return `*filter\n:${chain} - [0:0]\n### RULES ###\n\n### tuple ### allow tcp 8080 ${any} any ${any} in\n-A ${chain} -p tcp --dport 8080 -j ACCEPT\n\n### END RULES ###\nCOMMIT\n`;
};

const HOST: Record<string, string> = {
  'etc/nginx/nginx.conf': 'events {}\nhttp {\n    access_log off;\n    include conf.d/*.conf;\n}\n',
  'etc/nginx/conf.d/app.conf':
    'server {\n    listen 8080;\n    location / {\n        proxy_pass http://127.0.0.1:9000;\n    }\n    location /dns {\n        proxy_pass http://localhost:9000/dns;\n    }\n}\n',
  'etc/ssh/sshd_config': 'Port 2222\nListenAddress 0.0.0.0:2223\nListenAddress 0.0.0.0\nPasswordAuthentication no\n',
  'srv/app/compose.yaml':
    'services:\n  app:\n    image: example/app:1.4\n    ports:\n      - "9000:80"\n      - target: 53\n        published: "5353"\n        protocol: udp\n',
  'etc/iptables/rules.v4':
    '*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 8080,9000 -j ACCEPT\n-A INPUT -p tcp --dport 2222 -j ACCEPT\n-A INPUT -p tcp --dport 2223 -j ACCEPT\n-A INPUT -p udp --dport 5353 -j ACCEPT\nCOMMIT\n',
  'etc/ufw/user.rules': UFW_RULES(false),
  'etc/ufw/user6.rules': UFW_RULES(true),
  'etc/ufw/ufw.conf': 'ENABLED=yes\n',
  'etc/default/ufw': 'DEFAULT_INPUT_POLICY="DROP"\nIPV6=yes\n',
  'etc/nftables.conf':
    '#!/usr/sbin/nft -f\nflush ruleset\n\ntable inet filter {\n    chain input {\n        type filter hook input priority 0; policy drop;\n        iif lo accept\n        tcp dport { 2222, 2223, 8080 } accept\n        tcp dport 9000 accept\n        udp dport 5353 accept\n    }\n}\n',
};

/** The renames: from a mention (file, the text of the port, nth occurrence) to a new port. */
const RENAMES: {
  file: string;
  needle: string;
  nth?: number;
  to: string;
  rewrites: string;
  also?: { file: string; needle: string; nth?: number };
}[] = [
  {
    file: 'etc/nginx/conf.d/app.conf',
    needle: '8080',
    to: '8090',
    rewrites: 'etc/iptables/rules.v4:1 etc/nftables.conf:1 etc/nginx/conf.d/app.conf:1 etc/ufw/user.rules:2 etc/ufw/user6.rules:2',
    also: { file: 'etc/nftables.conf', needle: '8080' },
  },
  {
    file: 'srv/app/compose.yaml',
    needle: '9000',
    to: '9100',
    rewrites: 'etc/iptables/rules.v4:1 etc/nftables.conf:1 etc/nginx/conf.d/app.conf:2 srv/app/compose.yaml:1',
    also: { file: 'etc/nginx/conf.d/app.conf', needle: '9000', nth: 1 },
  },
  {
    file: 'etc/ssh/sshd_config',
    needle: '2222',
    to: '2322',
    rewrites: 'etc/iptables/rules.v4:1 etc/nftables.conf:1 etc/ssh/sshd_config:1',
    also: { file: 'etc/iptables/rules.v4', needle: '2222' },
  },
  {
    file: 'etc/ssh/sshd_config',
    needle: '2223',
    to: '2333',
    rewrites: 'etc/iptables/rules.v4:1 etc/nftables.conf:1 etc/ssh/sshd_config:1',
  },
  {
    file: 'srv/app/compose.yaml',
    needle: '5353',
    to: '5454',
    rewrites: 'etc/iptables/rules.v4:1 etc/nftables.conf:1 srv/app/compose.yaml:1',
    also: { file: 'etc/nftables.conf', needle: '5353' },
  },
];

type Judge = (text: string) => Promise<{ ok: boolean; why: string; shows: (port: string) => boolean }>;

describe('rename across files against the real programs', function () {
  this.timeout(300000);
  let tmp: string;
  let sshd: SshdOracle;
  const judges = new Map<string, Judge>();
  const tally = {
    renames: 0,
    filesRewritten: 0,
    accepted: new Map<string, number>(),
    references: 0,
  };

  before(function () {
    const nginx = requireProgram(this, ['/usr/sbin/nginx', 'nginx'], 'nginx');
    const sshdBin = requireProgram(this, ['/usr/sbin/sshd', 'sshd'], 'openssh-server');
    const keygen = requireProgram(this, ['ssh-keygen'], 'openssh-client');
    const compose = requireProgram(this, ['docker-compose'], 'docker-compose');
    const restore4 = requireProgram(this, ['iptables-nft-restore', '/usr/sbin/iptables-nft-restore'], 'iptables');
    const restore6 = requireProgram(this, ['ip6tables-nft-restore', '/usr/sbin/ip6tables-nft-restore'], 'iptables');
    const nft = requireProgram(this, ['nft', '/usr/sbin/nft'], 'nftables');
    const unshare = requireProgram(this, ['unshare', '/usr/bin/unshare'], 'util-linux');
    requireProgram(this, ['ip', '/usr/sbin/ip'], 'iproute2');
    if (!isRoot()) {
      if (process.env.CI === 'true') throw new Error('nginx -t, iptables-restore and nft in a network namespace need root; CI runs as root');
      console.log('      skipped: the programs run in a network namespace, which needs root');
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-rename-'));
    sshd = new SshdOracle(sshdBin, keygen, unshare);
    let n = 0;
    const write = (name: string, text: string) => {
      const file = path.join(tmp, `${n++}-${name}`);
      fs.writeFileSync(file, text);
      return file;
    };
    judges.set('etc/nginx/conf.d/app.conf', async (text) => {
      // nginx -t on the whole tree (nginx.conf includes conf.d/*.conf relative to itself), in a namespace: it binds what it reads.
      const prefix = path.join(tmp, `nginx-${n++}`);
      fs.mkdirSync(path.join(prefix, 'conf.d'), { recursive: true });
      fs.writeFileSync(path.join(prefix, 'nginx.conf'), HOST['etc/nginx/nginx.conf']);
      fs.writeFileSync(path.join(prefix, 'conf.d', 'app.conf'), text);
      const script = `ip link set lo up && "$1" -t -p "$2/" -c "$2/nginx.conf" -g "pid $2/nginx.pid; error_log $2/error.log;" && exec "$1" -T -p "$2/" -c "$2/nginx.conf" -g "pid $2/nginx.pid; error_log $2/error.log;"`;
      const r = run(unshare, ['-n', 'sh', '-c', script, 'sh', nginx, prefix]);
      return {
        ok: r.status === 0,
        why: r.stderr,
        shows: (port) => new RegExp(`(listen |:)${port}\\b`).test(r.stdout),
      };
    });
    judges.set('etc/ssh/sshd_config', async (text) => {
      const v = await sshd.judge(sshd.materialize({ name: `rename-${n++}`, config: text }));
      return {
        ok: v.status === 0,
        why: v.stderr,
        shows: (port) => v.ports.includes(Number(port)) || v.listens.some((l) => l.endsWith(`:${port}`)),
      };
    });
    judges.set('srv/app/compose.yaml', async (text) => {
      const file = write('compose.yaml', text);
      const r = run(compose, ['-f', file, 'config'], { cwd: tmp });
      const ports = r.status === 0 ? JSON.stringify(parseYaml(r.stdout).services.app.ports) : '';
      return {
        ok: r.status === 0,
        why: r.stderr,
        shows: (port) => new RegExp(`"published":"?${port}"?[,}]`).test(ports),
      };
    });
    const iptables = (restore: string, save: string): Judge => {
      return async (text) => {
        const file = write('rules', text);
        const test = run('sh', ['-c', '"$0" --test < "$1"', restore, file]);
        // A real restore in a namespace of our own, and what the kernel then holds.
        const load = run(unshare, ['-n', 'sh', '-c', '"$0" < "$1" && exec "$2"', restore, file, save]);
        return {
          ok: test.status === 0 && load.status === 0,
          why: test.stderr + load.stderr,
          shows: (port) => new RegExp(`(--dports? |,)${port}\\b`).test(load.stdout),
        };
      };
    };
    judges.set('etc/iptables/rules.v4', iptables(restore4, 'iptables-nft-save'));
    judges.set('etc/ufw/user.rules', iptables(restore4, 'iptables-nft-save'));
    judges.set('etc/ufw/user6.rules', iptables(restore6, 'ip6tables-nft-save'));
    judges.set('etc/nftables.conf', async (text) => {
      const file = write('nftables.conf', text);
      const check = run(unshare, ['-n', nft, '-c', '-f', file]);
      const load = run(unshare, ['-n', 'sh', '-c', '"$0" -f "$1" && exec "$0" list ruleset', nft, file]);
      return {
        ok: check.status === 0 && load.status === 0,
        why: check.stderr + load.stderr,
        shows: (port) => new RegExp(`\\b${port}\\b`).test(load.stdout),
      };
    });
  });
  after(() => {
    sshd?.dispose();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    const accepted = [...tally.accepted].map(([program, count]) => `${program} ${count}`).join(', ');
    console.log(
      `      rename oracle: ${tally.renames} renames, ${tally.filesRewritten} files rewritten, all accepted (${accepted}); ${tally.references} references moved to the new ports`,
    );
  });

  const programOf = (file: string) =>
    ({
      'etc/nginx/conf.d/app.conf': 'nginx -t',
      'etc/ssh/sshd_config': 'sshd -T',
      'srv/app/compose.yaml': 'docker-compose config',
      'etc/iptables/rules.v4': 'iptables-restore --test',
      'etc/ufw/user.rules': 'iptables-restore --test',
      'etc/ufw/user6.rules': 'ip6tables-restore --test',
      'etc/nftables.conf': 'nft -c',
    })[file] ?? file;

  it('the programs accept the host as it is', async () => {
    for (const [file, judge] of judges) {
      const verdict = await judge(HOST[file]);
      assert.ok(verdict.ok, `${programOf(file)} refuses ${file} before any rename: ${verdict.why}`);
    }
  });

  for (const r of RENAMES) {
    it(`${r.needle} -> ${r.to} from ${r.file}: every rewritten file accepted, showing ${r.to}; the references moved`, async () => {
      const engine = engineWith(HOST);
      const at = (file: string, needle: string, nth = 0) => {
        const text = HOST[file];
        let offset = -1;
        for (let i = 0; i <= nth; i++) offset = text.indexOf(needle, offset + 1);
        assert.ok(offset >= 0, `${needle} in ${file}`);
        return engine.lineIndex(`/ws/${file}`).position(offset + 1);
      };
      const edit = provideRename(engine, `/ws/${r.file}`, at(r.file, r.needle, r.nth), r.to);
      assert.ok(!('error' in edit), 'error' in edit ? edit.error : '');
      const changes = Object.fromEntries(Object.entries(edit.changes ?? {}).map(([uri, edits]) => [uri.replace('file:///ws/', ''), edits]));
      // Which files, how many mentions each (a ufw tuple comment and its -A line are two).
      assert.strictEqual(
        Object.entries(changes)
          .map(([file, edits]) => `${file}:${edits.length}`)
          .sort()
          .join(' '),
        r.rewrites,
      );
      if (r.also) {
        // The same socket from another of its mentions: the same edits.
        const other = provideRename(engine, `/ws/${r.also.file}`, at(r.also.file, r.also.needle, r.also.nth), r.to);
        assert.ok(!('error' in other), 'error' in other ? other.error : '');
        const sorted = (c: typeof edit.changes) =>
          Object.fromEntries(
            Object.entries(c ?? {}).map(([uri, edits]) => [
              uri,
              [...edits].sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character),
            ]),
          );
        assert.deepStrictEqual(sorted(other.changes), sorted(edit.changes), `renaming from ${r.also.file} rewrites the same mentions`);
      }
      const before = provideReferences(engine, `/ws/${r.file}`, at(r.file, r.needle, r.nth));
      const renamed: Record<string, string> = { ...HOST };
      for (const [file, edits] of Object.entries(changes)) {
        assert.ok(
          edits.every((e: TextEdit) => e.newText === r.to),
          `${file}: every edit writes ${r.to}`,
        );
        const index = engine.lineIndex(`/ws/${file}`);
        const spans = edits.map((e: TextEdit) => ({
          start: index.offset(e.range.start.line, e.range.start.character),
          end: index.offset(e.range.end.line, e.range.end.character),
        }));
        let text = HOST[file];
        for (const s of [...spans].sort((a, b) => b.start - a.start)) text = text.slice(0, s.start) + r.to + text.slice(s.end);
        renamed[file] = text;
        const judge = judges.get(file);
        assert.ok(judge, `no program judges ${file}`);
        const verdict = await judge(text);
        assert.ok(verdict.ok, `${programOf(file)} refuses the renamed ${file}:\n${verdict.why}\n---\n${text}`);
        assert.ok(verdict.shows(r.to), `${programOf(file)} does not show ${r.to} in the renamed ${file}:\n${text}`);
        assert.ok(!verdict.shows(r.needle), `${programOf(file)} still shows ${r.needle} in the renamed ${file}`);
        tally.accepted.set(programOf(file), (tally.accepted.get(programOf(file)) ?? 0) + 1);
        tally.filesRewritten++;
      }
      // Our re-analysis: the new port has the old port's references, on the same lines; the old port has none left.
      const after = engineWith(renamed);
      const lines = (locs: Location[]) => locs.map((l) => `${l.uri}:${l.range.start.line}`).sort();
      const moved = provideReferences(after, `/ws/${r.file}`, at(r.file, r.needle, r.nth));
      assert.strictEqual(moved.length, before.length, `references at ${r.to}`);
      assert.deepStrictEqual(lines(moved), lines(before));
      const protocol = r.to === '5454' ? 'udp' : 'tcp';
      const left = after
        .analyze()
        .facts.filter(({ fact: f }) => f.role !== 'container' && !f.implicit && f.protocol === protocol && f.port === Number(r.needle) && f.portEnd === f.port);
      assert.deepStrictEqual(
        left.map(({ fact: f }) => `${f.file}:${f.context}`),
        [],
        `mentions of ${r.needle} left`,
      );
      tally.references += moved.length;
      tally.renames++;
    });
  }
});
