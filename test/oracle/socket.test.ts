/**
 * Oracle: `systemd-analyze verify` (Debian's systemd 252) judges our reading of .socket units on
 * generated cases: every address form of ListenStream/ListenDatagram/ListenSequentialPacket, ports at
 * and past the edges, host names, BindIPv6Only and the booleans. systemd logs each line it ignores as
 * `FILE:LINE: ...`; we must warn on exactly those lines, and on an accepted case read the sockets the
 * case states (so the comparison cannot pass by saying nothing). verify loads the unit; it binds nothing.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { engineWith, shownFindings } from '../helpers/engine';
import { requireProgram } from '../helpers/programs';

interface Case {
  name: string;
  body: string;
  binds: string[];
}

function cases(): Case[] {
  const out: Case[] = [];
  const c = (name: string, body: string, binds: string[] = []) => out.push({ name, body, binds });
  c('port only', 'ListenStream=8000', ['[::]:8000/tcp dual']);
  c('port 1 and 65535', 'ListenStream=1\nListenStream=65535', ['[::]:1/tcp dual', '[::]:65535/tcp dual']);
  c('port 0', 'ListenStream=0\nListenStream=8000', ['[::]:8000/tcp dual']);
  c('port 65536', 'ListenStream=65536\nListenStream=8000', ['[::]:8000/tcp dual']);
  c('IPv4:port', 'ListenStream=127.0.0.1:8000', ['127.0.0.1:8000/tcp']);
  c('0.0.0.0:port', 'ListenStream=0.0.0.0:8000', ['0.0.0.0:8000/tcp']);
  c('[IPv6]:port', 'ListenStream=[::1]:8000', ['[::1]:8000/tcp']);
  c('[::]:port', 'ListenStream=[::]:8000', ['[::]:8000/tcp dual']);
  c('datagram', 'ListenDatagram=127.0.0.1:5353\nListenDatagram=5354', ['127.0.0.1:5353/udp', '[::]:5354/udp dual']);
  c('IPv6 without brackets', 'ListenStream=::1:8000\nListenStream=8001', ['[::]:8001/tcp dual']);
  c('host name', 'ListenStream=localhost:8000\nListenStream=8001', ['[::]:8001/tcp dual']);
  c('bare address', 'ListenStream=127.0.0.1\nListenStream=8001', ['[::]:8001/tcp dual']);
  c('bracketed address without port', 'ListenStream=[::1]\nListenStream=8001', ['[::]:8001/tcp dual']);
  c('short IPv4', 'ListenStream=1.2.3:8000\nListenStream=8001', ['[::]:8001/tcp dual']);
  c('port with letters', 'ListenStream=80x\nListenStream=8001', ['[::]:8001/tcp dual']);
  c('address port 0', 'ListenStream=127.0.0.1:0\nListenStream=8001', ['[::]:8001/tcp dual']);
  c('unix path and abstract socket', 'ListenStream=/run/portolan-oracle.sock\nListenStream=@portolan\nListenStream=8001', ['[::]:8001/tcp dual']);
  c('sequential packet on a path', 'ListenSequentialPacket=/run/portolan-oracle.sock\nListenStream=8001', ['[::]:8001/tcp dual']);
  c('sequential packet on a port', 'ListenSequentialPacket=8000\nListenStream=8001', ['[::]:8001/tcp dual']);
  c('sequential packet on an address', 'ListenSequentialPacket=127.0.0.1:8000\nListenStream=8001', ['[::]:8001/tcp dual']);
  c('BindIPv6Only=ipv6-only', 'ListenStream=8000\nBindIPv6Only=ipv6-only', ['[::]:8000/tcp']);
  c('BindIPv6Only=both', 'ListenStream=8000\nBindIPv6Only=both', ['[::]:8000/tcp dual']);
  c('bad BindIPv6Only', 'ListenStream=8000\nBindIPv6Only=maybe', ['[::]:8000/tcp dual']);
  c('booleans', 'ListenStream=8000\nFreeBind=yes\nReusePort=on', ['[::]:8000/tcp dual']);
  c('bad booleans', 'ListenStream=8000\nFreeBind=perhaps\nReusePort=x', ['[::]:8000/tcp dual']);
  c('reset', 'ListenStream=8000\nListenStream=\nListenStream=8001', ['[::]:8001/tcp dual']);
  c('spaces around the value', 'ListenStream =  8000  ', ['[::]:8000/tcp dual']);
  return out;
}

const show = (f: { family?: string; address?: string; port: number; protocol: string; v6only?: boolean }) =>
  `${f.family === 'ipv6' ? `[${f.address ?? '::'}]` : (f.address ?? '0.0.0.0')}:${f.port}/${f.protocol}${f.family === 'ipv6' && !f.address && !f.v6only ? ' dual' : ''}`;

describe('systemd .socket oracle: systemd-analyze verify', function () {
  this.timeout(300_000);
  let tmp: string;
  let analyze = '';
  before(function () {
    analyze = requireProgram(this, ['systemd-analyze'], 'systemd');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-socket-'));
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('warns on exactly the lines systemd ignores, and reads the sockets each case states', () => {
    const all = cases();
    const disagree: string[] = [];
    let ignoredLines = 0;
    all.forEach((c, i) => {
      const text = `[Unit]\nDescription=portolan oracle case\n[Socket]\n${c.body}\n`;
      const unit = path.join(tmp, `portolan-case${i}.socket`);
      fs.writeFileSync(unit, text);
      fs.writeFileSync(path.join(tmp, `portolan-case${i}.service`), '[Service]\nExecStart=/bin/true\n');
      const r = spawnSync(analyze, ['verify', '--man=no', unit], { encoding: 'utf8', timeout: 60000 });
      const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
      const theirs = [...out.matchAll(new RegExp(`portolan-case${i}\\.socket:(\\d+):`, 'g'))].map((m) => Number(m[1]));
      ignoredLines += theirs.length;
      const engine = engineWith({ 'etc/systemd/system/web.socket': text });
      const ours = shownFindings(engine)
        .filter((f) => f.code === 'syntax' || f.code === 'invalid-port')
        .map((f) => f.line);
      if ([...new Set(theirs)].sort().join() !== [...new Set(ours)].sort().join())
        disagree.push(`${c.name}: systemd ignores lines [${theirs.join(', ')}] (${out.trim().split('\n')[0] ?? ''}), we warn on [${ours.join(', ')}]`);
      const got = engine
        .analyze()
        .facts.filter(({ fact }) => fact.role === 'listen')
        .map(({ fact }) => show(fact))
        .sort();
      if (got.join() !== [...c.binds].sort().join()) disagree.push(`${c.name}: we read ${got.join(', ') || 'nothing'}, the case states ${c.binds.join(', ')}`);
    });
    console.log(`      systemd-analyze verify: ${all.length} cases, ${all.length - disagree.length} agree (${ignoredLines} lines ignored by systemd)`);
    for (const d of disagree) console.log(`      DISAGREE ${d}`);
    assert.strictEqual(disagree.length, 0);
  });
});
