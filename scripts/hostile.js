#!/usr/bin/env node
/**
 * `npm run test:hostile`: the big hostile inputs of issue 17 that the suite does not build (the suite
 * keeps the small deterministic cases in test/unit/hostile.test.ts and test/protocol/hostile.test.ts).
 * Each case is generated (test/hostile/generators.ts), analysed once by the engine, and measured:
 * time and the process's resident memory. Fails (exit 1) on a throw, a case over 60 s, or over 1 GiB.
 * Then big documents opened in the real server (server/out, `npm run build` first): how long a hover
 * on another file waits, when the analysis is published, one keystroke (and the longest wait of hovers sent
 * back to back meanwhile: how long it blocks the server), and the server's peak memory.
 */
require('tsx/cjs');
const { engineWith } = require('../test/helpers/engine');
const g = require('../test/hostile/generators');

const CASES = process.env.HOSTILE_OPENED_ONLY
  ? []
  : [
      ['sshd Include storm, 5,000 files', () => g.sshdIncludeStorm(5_000)],
      ['YAML merge-key chain 9x9', () => ({ '/ws/compose.yaml': g.yamlMergeChain(9, 9) })],
      ['YAML wide merge 50x100', () => ({ '/ws/compose.yaml': g.yamlWideMerge(50, 100) })],
      ['nftables jump diamond 16x4', () => ({ '/ws/etc/nftables.conf': g.nftDiamond(16, 4) })],
      ['iptables jump diamond 30x2', () => ({ '/ws/etc/iptables/rules.v4': g.iptablesDiamond(30, 2) })],
      ['rules.v4, 10,000 multiport rules (1.5 MB, 150,000 facts)', () => ({ '/ws/etc/iptables/rules.v4': g.bigRulesV4(10_000) })],
    ];

let failed = 0;
async function main() {
  for (const [name, make] of CASES) {
    const files = { ...make(), '/ws/etc/ssh/sshd_config': 'Port 99999\n' };
    const t0 = process.hrtime.bigint();
    let note;
    try {
      const e = engineWith(files);
      const r = e.analyze();
      const canary = (r.findingsByFile.get('/ws/etc/ssh/sshd_config') ?? []).some((f) => f.code === 'invalid-port');
      if (!canary) throw new Error('the canary sshd_config lost its invalid-port finding');
      note = `${r.findingsByFile.size} files with findings`;
    } catch (e) {
      note = `FAILED: ${e.message}`;
      failed++;
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const rss = process.memoryUsage().rss;
    if (ms > 60_000 || rss > 1024 ** 3) {
      failed++;
      note += ' (over the bound)';
    }
    console.log(`${name.padEnd(50)} ${String(Math.round(ms)).padStart(7)} ms ${String(Math.round(rss / 1024 ** 2)).padStart(6)} MiB  ${note}`);
    if (global.gc) global.gc();
  }
  for (const [name, make] of OPENED) {
    try {
      const r = await openInServer(make(), OPENED.find((c) => c[0] === name)[2]);
      const over = r.hoverDuringMs > 60_000 || r.peakMiB > 1024;
      if (over) failed++;
      console.log(
        `${name.padEnd(50)} hover ${r.hoverMs} ms (${r.hoverDuringMs} ms during the analysis), published ${r.publishedMs} ms, keystroke ${r.keystrokeMs} ms (longest hover meanwhile ${r.keystrokeHoverMs} ms), peak ${r.peakMiB} MiB  ${r.note}${over ? ' (over the bound)' : ''}`,
      );
    } catch (e) {
      failed++;
      console.log(`${name.padEnd(50)} FAILED: ${e.message}`);
    }
  }
  console.log(failed ? `${failed} case(s) failed` : `all ${CASES.length + OPENED.length} cases passed`);
  process.exit(failed ? 1 : 0);
}

/** The biggest text `make(n)` gives within `bytes` (3.9 MB: just under the 4 MB limit). */
function fit(make, bytes = 3.9e6) {
  let lo = 1;
  let hi = 2_000_000;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (make(mid).length <= bytes) lo = mid;
    else hi = mid - 1;
  }
  return make(lo);
}

const OPENED = [
  ['opened rules.v4, 26,000 rules (3.9 MB, analysed)', () => g.bigRulesV4(26_000)],
  ['opened rules.v4, 100,000 rules (15 MB, over the limit)', () => g.bigRulesV4(100_000)],
  ['opened nginx.conf, 43,000 servers (3.9 MB)', () => fit(g.bigNginx), 'etc/nginx/nginx.conf'],
  ['opened compose.yaml, 16,000 services (0.9 MB, parsed in the worker)', () => g.bigCompose(16_000), 'srv/app/compose.yaml'],
];

/** Opens `text` as `rel` (etc/iptables/rules.v4) in a real server beside a canary sshd_config and measures it. */
async function openInServer(text, rel = 'etc/iptables/rules.v4') {
  const fs = require('fs');
  const os = require('os');
  const path = require('path');
  const p = require('vscode-languageserver-protocol/node');
  const { TestClient } = require('../test/helpers/lspClient');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-hostile-open-'));
  fs.mkdirSync(`${dir}/etc/ssh`, { recursive: true });
  fs.writeFileSync(`${dir}/etc/ssh/sshd_config`, 'Port 99999\nPort 22\n');
  const client = await TestClient.start(dir);
  try {
    const canary = `file://${dir}/etc/ssh/sshd_config`;
    await client.until(() => client.codes(canary).includes('invalid-port'), 60_000);
    let lastReady = Date.now();
    let readies = 0;
    client.connection.onNotification(new p.NotificationType('portolan/status'), (s) => {
      if (s.state !== 'ready') return;
      lastReady = Date.now();
      readies++;
    });
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    // Until an analysis after `count` readies has been published and nothing followed for a second.
    const settled = async (count, since) => {
      while (readies <= count || Date.now() - lastReady < 1000) await sleep(100);
      return lastReady - since;
    };
    while (Date.now() - lastReady < 1000) await sleep(100);
    const hover = async () => {
      const h0 = Date.now();
      await client.connection.sendRequest(p.HoverRequest.type, { textDocument: { uri: canary }, position: { line: 1, character: 6 } });
      return Date.now() - h0;
    };
    const uri = `file://${dir}/${rel}`;
    const t0 = Date.now();
    const c0 = readies;
    await client.connection.sendNotification(p.DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'plaintext', version: 1, text } });
    const hoverMs = await hover();
    // A hover sent once the analysis has started waits for the rest of it.
    await sleep(500);
    const hoverDuringMs = await hover();
    const publishedMs = await settled(c0, t0);
    const diagnostics = client.diagnostics.get(uri)?.diagnostics ?? [];
    const t1 = Date.now();
    const c1 = readies;
    const edit = { range: { start: { line: 5, character: 0 }, end: { line: 5, character: 0 } }, text: '#' };
    await client.connection.sendNotification(p.DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 2 }, contentChanges: [edit] });
    // Hovers on the canary back to back until the keystroke's analysis is published: the longest wait is how long it blocks.
    let keystrokeHoverMs = 0;
    while (readies <= c1) {
      keystrokeHoverMs = Math.max(keystrokeHoverMs, await hover());
      await sleep(20);
    }
    const keystrokeMs = await settled(c1, t1);
    const peakMiB = Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${client.proc.pid}/status`, 'utf8'))[1]) / 1024);
    if (client.proc.exitCode !== null) throw new Error('the server died');
    const note = `${diagnostics.length} diagnostics on it${diagnostics.length === 1 ? `: ${diagnostics[0].message}` : ''}`;
    return { hoverMs, hoverDuringMs, publishedMs, keystrokeMs, keystrokeHoverMs, peakMiB, note };
  } finally {
    await client.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
