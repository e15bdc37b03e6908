/**
 * Oracle: each real program reads the UTF-8 BOM and UTF-16 variants of a small config of its own, and
 * says whether it loads it (exit status, or the port it reports). Our verdict is what the engine says
 * about the same bytes read through the workspace edge (workspace/files.ts decodeText): an Error or
 * Warning on line 1 (messageId encoding-*) means "the program will not load it as written", no finding
 * means "loads it". The two must agree; the plain UTF-8 variant of each case is the control (both
 * accept it, same facts). For every BOM the program refuses, the quick fix is applied, the result saved
 * as UTF-8, and the program must then load it.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Engine } from '../../server/src/core/engine';
import { createFormatModules } from '../../server/src/formats/index';
import { RULES } from '../../server/src/rules/index';
import { loadRegistry } from '../../server/src/workspace/data';
import { loadFirewalldServices } from '../../server/src/workspace/firewalldData';
import { decodeText } from '../../server/src/workspace/files';
import { applyEdits } from '../helpers/engine';
import { findProgram, isRoot, run } from '../helpers/programs';

type Variant = 'utf-8' | 'utf-8-bom' | 'utf-16le';

interface EncodingCase {
  name: string;
  /** Programs it needs (the first found of each list). */
  needs: string[];
  /** Files of the case; `file` is the one written in each variant, the others as plain UTF-8. */
  file: string;
  text: string;
  others?: Record<string, string>;
  /** Does the program load the case in `dir` (its port read)? */
  loads: (dir: string, file: string) => boolean;
}

const ok = (cmd: string, args: string[], cwd?: string) => run(cmd, args, { cwd }).status === 0;
const MPM = 'LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so';

const CASES: EncodingCase[] = [
  {
    name: 'sshd_config (sshd -T)',
    needs: ['sshd', 'ssh-keygen', 'unshare'],
    file: 'etc/ssh/sshd_config',
    text: 'Port 2222\n',
    loads: (dir, file) => {
      const key = path.join(dir, 'hostkey');
      if (!fs.existsSync(key)) run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      const r = run('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /run && mkdir /run/sshd && exec sshd -T -f "$1" -h "$2"', 'sh', file, key]);
      return r.status === 0 && /^port 2222$/m.test(r.stdout);
    },
  },
  {
    name: 'nginx.conf (nginx -t)',
    needs: ['nginx'],
    file: 'etc/nginx/nginx.conf',
    text: 'events {}\nhttp { server { listen 127.0.0.1:8080; } }\n',
    loads: (dir, file) => {
      fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
      return ok('nginx', ['-t', '-q', '-p', dir, '-c', file, '-g', `pid ${dir}/nginx.pid; error_log stderr;`]);
    },
  },
  {
    name: 'docker-compose.yml (docker-compose config)',
    needs: ['docker-compose'],
    file: 'docker-compose.yml',
    text: 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n',
    loads: (dir, file) => /published: 8080/.test(run('docker-compose', ['-f', file, 'config'], { cwd: dir }).stdout),
  },
  {
    name: 'Kubernetes manifest (kubectl label --local)',
    needs: ['kubectl'],
    file: 'k8s/service.yaml',
    text: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: 80\n      targetPort: 8080\n',
    // --local: read and printed by the client alone (the file visitor every kubectl command reads -f through), no cluster.
    loads: (dir, file) => /targetPort: 8080/.test(run('kubectl', ['label', '--local', '-f', file, 'checked=yes', '-o', 'yaml'], { cwd: dir }).stdout),
  },
  {
    name: '.env (docker-compose config)',
    needs: ['docker-compose'],
    file: '.env',
    text: 'WEB_PORT=8080\n',
    others: { 'docker-compose.yml': 'services:\n  web:\n    image: nginx\n    ports:\n      - "${WEB_PORT}:80"\n' },
    loads: (dir) => /published: 8080/.test(run('docker-compose', ['config'], { cwd: dir }).stdout),
  },
  {
    name: 'rules.v4 (iptables-restore --test)',
    needs: ['iptables-restore', 'unshare'],
    file: 'etc/iptables/rules.v4',
    text: '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n',
    loads: (_dir, file) => ok('unshare', ['-n', 'iptables-restore', '--test', file]),
  },
  {
    name: 'ufw user.rules (iptables-restore --test, as ufw loads it)',
    needs: ['iptables-restore', 'unshare'],
    file: 'etc/ufw/user.rules',
    text: '*filter\n:ufw-user-input - [0:0]\n-A ufw-user-input -p tcp --dport 22 -j ACCEPT\nCOMMIT\n',
    loads: (_dir, file) => ok('unshare', ['-n', 'iptables-restore', '--test', file]),
  },
  {
    name: 'nftables.conf (nft -c)',
    needs: ['nft', 'unshare'],
    file: 'etc/nftables.conf',
    text: 'table inet f {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport 22 accept\n  }\n}\n',
    loads: (_dir, file) => ok('unshare', ['-n', 'nft', '-c', '-f', file]),
  },
  {
    name: 'haproxy.cfg (haproxy -c)',
    needs: ['haproxy'],
    file: 'etc/haproxy/haproxy.cfg',
    text: 'defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nfrontend f\n  bind 127.0.0.1:8080\n  default_backend b\nbackend b\n  server s1 127.0.0.1:9000\n',
    loads: (_dir, file) => ok('haproxy', ['-c', '-q', '-f', file]),
  },
  {
    name: 'apache2.conf (apache2 -t)',
    needs: ['apache2'],
    file: 'etc/apache2/apache2.conf',
    // The Listen comes first: a UTF-16 file reads as no directive at all (the MPM line is lost too).
    text: `Listen 8080\nServerRoot {DIR}\n${MPM}\nServerName x\nPidFile {DIR}/apache.pid\nErrorLog /dev/null\n`,
    loads: (_dir, file) => ok('apache2', ['-t', '-f', file]),
  },
  {
    name: 'Caddyfile (caddy adapt)',
    needs: ['caddy'],
    file: 'Caddyfile',
    text: ':8080 {\n\trespond "hi"\n}\n',
    loads: (dir, file) => /":8080"/.test(run('caddy', ['adapt', '--config', file, '--adapter', 'caddyfile'], { cwd: dir }).stdout),
  },
  {
    name: 'systemd .socket (systemd-analyze verify)',
    needs: ['systemd-analyze'],
    file: 'etc/systemd/system/x.socket',
    text: '[Socket]\nListenStream=8080\n',
    others: { 'etc/systemd/system/x.service': '[Service]\nExecStart=/bin/true\n' },
    loads: (_dir, file) => ok('systemd-analyze', ['verify', file]),
  },
  {
    name: 'firewalld zone, XML declaring utf-8 (firewall-offline-cmd)',
    needs: ['firewall-offline-cmd'],
    file: 'etc/firewalld/zones/t.xml',
    text: '<?xml version="1.0" encoding="utf-8"?>\n<zone>\n  <short>T</short>\n  <port protocol="tcp" port="8080"/>\n</zone>\n',
    loads: (dir) => /8080\/tcp/.test(run('firewall-offline-cmd', ['--system-config', path.join(dir, 'etc/firewalld'), '--zone=t', '--list-ports']).stdout),
  },
  {
    name: 'firewalld zone, no declaration (firewall-offline-cmd)',
    needs: ['firewall-offline-cmd'],
    file: 'etc/firewalld/zones/t.xml',
    text: '<zone>\n  <short>T</short>\n  <port protocol="tcp" port="8080"/>\n</zone>\n',
    loads: (dir) => /8080\/tcp/.test(run('firewall-offline-cmd', ['--system-config', path.join(dir, 'etc/firewalld'), '--zone=t', '--list-ports']).stdout),
  },
  {
    name: 'firewalld.conf, a setting on line 1 (firewall-offline-cmd --get-default-zone)',
    needs: ['firewall-offline-cmd'],
    file: 'etc/firewalld/firewalld.conf',
    text: 'DefaultZone=trusted\n',
    loads: (dir) => run('firewall-offline-cmd', ['--system-config', path.join(dir, 'etc/firewalld'), '--get-default-zone']).stdout.trim() === 'trusted',
  },
];

function encode(text: string, variant: Variant): Buffer {
  if (variant === 'utf-8') return Buffer.from(text, 'utf8');
  if (variant === 'utf-8-bom') return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

interface Ours {
  /** Our verdict: no Error/Warning about the encoding. */
  loads: boolean;
  /** Information only: we did not check this program. */
  unchecked: boolean;
  facts: number;
  text: string;
  fix?: { span: { start: number; end: number }; newText: string }[];
}

/** Our verdict on the files in `dir`, read as the workspace reads them. */
function ours(dir: string, file: string, names: string[]): Ours {
  const registry = loadRegistry();
  const engine = new Engine(createFormatModules(registry, { firewalldServices: loadFirewalldServices() }), registry, RULES);
  engine.hosts.setFolders([{ folder: dir, hosts: {} }]);
  for (const name of names) {
    const abs = path.join(dir, name);
    const read = decodeText(fs.readFileSync(abs));
    assert.ok('text' in read, `${name} is read as text`);
    engine.setFile(abs, read.text);
    engine.setEncoding(abs, read.encoding);
  }
  const abs = path.join(dir, file);
  const result = engine.analyze();
  const notes = (result.findingsByFile.get(abs) ?? []).filter((f) => f.messageId?.startsWith('encoding-'));
  const blocking = notes.filter((f) => f.severity === 'error' || f.severity === 'warning');
  return {
    loads: blocking.length === 0,
    unchecked: notes.length > 0 && blocking.length === 0,
    facts: result.factsByFile.get(abs)?.length ?? 0,
    text: engine.text(abs) ?? '',
    fix: blocking[0]?.fixes?.[0]?.edits,
  };
}

describe('encodings: each program on BOM and UTF-16 files, against our verdict (oracle)', function () {
  this.timeout(600000);
  let root: string;
  before(function () {
    if (!isRoot()) {
      if (process.env.CI === 'true') throw new Error('the encoding oracle needs root (namespaces for sshd, iptables-restore, nft)');
      console.log('      skipped: the encoding oracle needs root (namespaces for sshd, iptables-restore, nft)');
      this.skip();
    }
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-encoding-'));
  });
  after(() => root && fs.rmSync(root, { recursive: true, force: true }));

  it('every program and Portolan agree on whether the file loads; a refused BOM fixed by our edit loads', () => {
    let compared = 0;
    let agreed = 0;
    let fixed = 0;
    const disagreements: string[] = [];
    const skipped: string[] = [];
    let n = 0;
    for (const c of CASES) {
      const missing = c.needs.filter((p) => !findProgram([p, `/usr/sbin/${p}`]));
      if (missing.length) {
        if (process.env.CI === 'true') throw new Error(`${c.name}: ${missing.join(', ')} missing; CI must have it`);
        skipped.push(`${c.name} (${missing.join(', ')} missing)`);
        continue;
      }
      let plainFacts = -1;
      for (const variant of ['utf-8', 'utf-8-bom', 'utf-16le'] as Variant[]) {
        const dir = path.join(root, `case-${n++}`);
        const text = c.text.split('{DIR}').join(dir);
        const files: Record<string, Buffer> = { [c.file]: encode(text, variant) };
        for (const [name, t] of Object.entries(c.others ?? {})) files[name] = Buffer.from(t);
        for (const [name, bytes] of Object.entries(files)) {
          fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
          fs.writeFileSync(path.join(dir, name), bytes);
        }
        const abs = path.join(dir, c.file);
        const program = c.loads(dir, abs);
        const our = ours(dir, c.file, Object.keys(files));
        if (variant === 'utf-8') {
          assert.ok(program && our.loads, `${c.name}: the plain UTF-8 control must load (program ${program}, ours ${our.loads})`);
          plainFacts = our.facts;
          continue;
        }
        // The rest of the file is analysed as if the mark were not there: the same facts as plain UTF-8.
        assert.equal(our.facts, plainFacts, `${c.name} ${variant}: facts kept`);
        if (our.unchecked) {
          skipped.push(`${c.name} ${variant} (we say: not checked)`);
          continue;
        }
        compared++;
        if (program === our.loads) agreed++;
        else disagreements.push(`${c.name} ${variant}: the program ${program ? 'loads' : 'refuses'} it, we say it ${our.loads ? 'loads' : 'does not'}`);
        if (!program && variant === 'utf-8-bom' && our.fix) {
          const after = applyEdits(
            our.text,
            our.fix.map((e) => ({ span: e.span, newText: e.newText })),
          );
          fs.writeFileSync(abs, after, 'utf8');
          assert.ok(c.loads(dir, abs), `${c.name}: loads after 'Re-save as UTF-8 without BOM'`);
          assert.ok(ours(dir, c.file, Object.keys(files)).loads, `${c.name}: no finding after the fix`);
          fixed++;
        }
      }
    }
    console.log(`      encodings: ${agreed}/${compared} verdicts agree with the programs; ${fixed} BOM fixes applied and loaded`);
    for (const s of skipped) console.log(`      not compared: ${s}`);
    assert.deepEqual(disagreements, []);
    assert.ok(compared >= 20, `at least 20 comparisons (got ${compared})`);
  });
});
