/**
 * Oracle: `haproxy -c` (Debian's HAProxy 2.6) judges our reading of bind and server lines on
 * generated cases: every address form, several addresses per line, ranges, prefixes and bad ports.
 * haproxy -c reads the configuration and binds nothing. It refuses a case: we report an error on the
 * line it names; it accepts it: we report no syntax or invalid-port error, and we read the sockets
 * the case states (so the comparison cannot pass by saying nothing).
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { engineWith, shownFindings } from '../helpers/engine';
import { requireProgram } from '../helpers/programs';

const HEAD = 'global\n  log stdout local0\ndefaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n';

interface Case {
  name: string;
  text: string;
  binds?: string[];
}

function cases(): Case[] {
  const out: Case[] = [];
  const fe = (name: string, bind: string, binds?: string[]) =>
    out.push({ name, text: `frontend f\n  bind ${bind}\n  default_backend b\nbackend b\n  server s1 127.0.0.1:8080\n`, binds });
  fe(':P', ':8000', ['0.0.0.0:8000/tcp']);
  fe('*:P', '*:8000', ['0.0.0.0:8000/tcp']);
  fe('0.0.0.0:P', '0.0.0.0:8000', ['0.0.0.0:8000/tcp']);
  fe('IPv4:P', '127.0.0.1:8000', ['127.0.0.1:8000/tcp']);
  fe('[::]:P', '[::]:8000', ['[::]:8000/tcp dual-stack']);
  fe(':::P', ':::8000', ['[::]:8000/tcp dual-stack']);
  fe('[::1]:P', '[::1]:8000', ['[::1]:8000/tcp']);
  fe('ipv6@:P', 'ipv6@:8000', ['[::]:8000/tcp dual-stack']);
  fe('ipv4@127.0.0.1:P', 'ipv4@127.0.0.1:8000', ['127.0.0.1:8000/tcp']);
  fe('[::]:P v6only', '[::]:8000 v6only', ['[::]:8000/tcp']);
  fe('[::]:P v4v6', '[::]:8000 v4v6', ['[::]:8000/tcp dual-stack']);
  fe('range', '127.0.0.1:8000-8010', ['127.0.0.1:8000-8010/tcp']);
  fe('two addresses on one line', ':8000,127.0.0.1:8001', ['0.0.0.0:8000/tcp', '127.0.0.1:8001/tcp']);
  fe('three addresses with a range', ':8000,[::1]:8001,127.0.0.2:8002-8003', ['0.0.0.0:8000/tcp', '127.0.0.2:8002-8003/tcp', '[::1]:8001/tcp']);
  fe('unix socket', 'unix@/tmp/portolan-haproxy.sock', []);
  fe('path', '/tmp/portolan-haproxy2.sock', []);
  fe('1 and 65535', ':1,:65535', ['0.0.0.0:1/tcp', '0.0.0.0:65535/tcp']);
  fe('no port', '127.0.0.1');
  fe('port 0', ':0');
  fe('port 70000', ':70000');
  fe('range above 65535', ':8000-70000');
  fe('reversed range', ':8010-8000');
  fe('service name', ':http');
  fe('bad address in a list', ':8000,127.0.0.1');
  fe('bad port in a list', ':8000,:99999');
  fe('no address', '');
  out.push({
    name: 'listen section with two binds and a server',
    text: 'listen l\n  bind :8000\n  bind [::1]:8001\n  server s 10.0.0.1:80\n',
    binds: ['0.0.0.0:8000/tcp', '[::1]:8001/tcp'],
  });
  out.push({ name: "server port 0 (the client's port)", text: 'listen l\n  bind :8000\n  server s 10.0.0.1:0\n', binds: ['0.0.0.0:8000/tcp'] });
  out.push({ name: 'server port 70000', text: 'listen l\n  bind :8000\n  server s 10.0.0.1:70000\n' });
  out.push({ name: 'server without port', text: 'listen l\n  bind :8000\n  server s 10.0.0.1\n', binds: ['0.0.0.0:8000/tcp'] });
  out.push({
    name: 'comment after bind',
    text: 'frontend f\n  bind :8000 # public\n  default_backend b\nbackend b\n  server s1 127.0.0.1:8080\n',
    binds: ['0.0.0.0:8000/tcp'],
  });
  return out;
}

function shortBind(f: { family?: string; address?: string; port: number; portEnd: number; protocol: string; v6only?: boolean }): string {
  const addr = f.family === 'ipv6' ? `[${f.address ?? '::'}]` : (f.address ?? '0.0.0.0');
  const port = f.port === f.portEnd ? `${f.port}` : `${f.port}-${f.portEnd}`;
  return `${addr}:${port}/${f.protocol}${f.family === 'ipv6' && f.address === undefined && f.v6only === false ? ' dual-stack' : ''}`;
}

describe('HAProxy oracle: haproxy -c', function () {
  this.timeout(120_000);
  let tmp: string;
  before(function () {
    requireProgram(this, ['haproxy', '/usr/sbin/haproxy'], 'haproxy');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-haproxy-'));
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('agrees with haproxy -c on every generated case, and reads the sockets each case states', () => {
    const all = cases();
    const disagree: string[] = [];
    let refused = 0;
    all.forEach((c, i) => {
      const text = HEAD + c.text;
      const file = path.join(tmp, `case-${i}.cfg`);
      fs.writeFileSync(file, text);
      const r = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8', timeout: 30000 });
      const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
      const engine = engineWith({ 'etc/haproxy/haproxy.cfg': text });
      const errors = shownFindings(engine).filter((f) => f.severity === 'error' && (f.code === 'syntax' || f.code === 'invalid-port'));
      if (r.status === 0) {
        if (errors.length > 0) disagree.push(`${c.name}: haproxy -c accepts it, we say ${errors.map((e) => `${e.code} at line ${e.line}`).join(', ')}`);
        const got = engine
          .analyze()
          .facts.filter(({ fact }) => fact.role === 'listen')
          .map(({ fact }) => shortBind(fact))
          .sort();
        if (c.binds === undefined) disagree.push(`${c.name}: haproxy -c accepts it; the case states no sockets (we read ${got.join(', ')})`);
        else if (got.join() !== [...c.binds].sort().join())
          disagree.push(`${c.name}: we read ${got.join(', ') || 'nothing'}, the case states ${c.binds.join(', ')}`);
      } else {
        refused++;
        const m = /\[[^\]\s]+:(\d+)\]/.exec(out);
        if (!m) return void disagree.push(`${c.name}: haproxy -c failed without naming a line: ${out.trim()}`);
        if (!errors.some((e) => e.line === Number(m[1])))
          disagree.push(
            `${c.name}: haproxy -c refuses line ${m[1]} (${out.split('\n')[0]}); we say ${errors.map((e) => `${e.code} at line ${e.line}`).join(', ') || 'nothing'}`,
          );
        if (c.binds !== undefined) disagree.push(`${c.name}: haproxy -c refuses it but the case states sockets`);
      }
    });
    console.log(`      haproxy -c: ${all.length} cases, ${all.length - disagree.length} agree (${refused} refused by haproxy -c)`);
    for (const d of disagree) console.log(`      DISAGREE ${d}`);
    assert.strictEqual(disagree.length, 0);
  });
});
