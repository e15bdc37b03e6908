/**
 * The benchmark's LSP client: the real server (server/out/server.js --stdio) driven over stdio,
 * with the timings the benchmark reports (cold start, open file first, edits, hovers, memory).
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const rpc = require('vscode-languageserver-protocol/node');

const ROOT = path.resolve(__dirname, '..', '..');
const now = () => Number(process.hrtime.bigint()) / 1e6;

class Session {
  constructor(dir) {
    this.dir = dir;
    // PORTOLAN_BENCH_NODE_ARGS: node options for the server (--cpu-prof --cpu-prof-dir=DIR to profile it).
    const nodeArgs = (process.env.PORTOLAN_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    this.proc = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'server/out/server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const conn = (this.conn = rpc.createProtocolConnection(new rpc.StreamMessageReader(this.proc.stdout), new rpc.StreamMessageWriter(this.proc.stdin)));
    this.published = new Map();
    this.waiters = [];
    /** `$/progress` of work-done tokens the server created: [ms since start, value]. */
    this.progress = [];
    const notify = () => {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    };
    conn.onNotification(rpc.PublishDiagnosticsNotification.type, (p) => {
      this.published.set(p.uri, { diagnostics: p.diagnostics, at: now() });
      notify();
    });
    conn.onNotification('portolan/status', (s) => {
      this.status = { ...s, at: now() };
      notify();
    });
    conn.onRequest(rpc.WorkDoneProgressCreateRequest.type, () => null);
    conn.onNotification('$/progress', (p) => this.progress.push([now(), p.value]));
    conn.onRequest(rpc.ConfigurationRequest.type, (p) => p.items.map(() => null));
    conn.onRequest(rpc.RegistrationRequest.type, () => undefined);
    conn.listen();
  }

  uri(rel) {
    return `file://${this.dir}/${rel}`;
  }

  /** Resolves when `test()` holds (checked on every publication and status), or fails after `ms`. */
  until(test, what, ms = 120000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`benchmark: no ${what} within ${ms / 1000} s`)), ms);
      const check = () => {
        if (test()) {
          clearTimeout(timer);
          resolve(now());
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /**
   * Cold start: initialize, initialized and (as an editor restoring its tabs) one document opened at
   * once. Returns when the workspace is analysed: the time of the open file's first diagnostics and
   * the time of the first "ready" (everything published).
   */
  async cold(open, expectOnDisk) {
    const t0 = now();
    await this.conn.sendRequest(rpc.InitializeRequest.type, {
      processId: process.pid,
      rootUri: `file://${this.dir}`,
      workspaceFolders: [{ uri: `file://${this.dir}`, name: 'bench' }],
      capabilities: { workspace: { configuration: true }, window: { workDoneProgress: true } },
    });
    await this.conn.sendNotification(rpc.InitializedNotification.type, {});
    const openUri = this.uri(open.rel);
    await this.conn.sendNotification(rpc.DidOpenTextDocumentNotification.type, {
      textDocument: { uri: openUri, languageId: open.languageId, version: 1, text: open.text },
    });
    const openAt = await this.until(() => this.published.has(openUri), `diagnostics of the open ${open.rel}`);
    const readyAt = await this.until(() => this.status?.state === 'ready' && this.published.has(this.uri(expectOnDisk)), `publication of ${expectOnDisk}`);
    const progressed = this.progress.length > 0;
    return { openMs: Math.round(openAt - t0), coldMs: Math.round(readyAt - t0), progress: progressed };
  }

  /**
   * Edits `rel` (open) with each of `changes` in turn (incremental contentChanges); each one waits
   * until `done(publication)` holds for the publication of `watchRel`. Latencies in ms.
   */
  async edits(rel, changes, watchRel, done) {
    const uri = this.uri(rel);
    const watch = this.uri(watchRel);
    const latencies = [];
    let version = 1;
    for (const [i, change] of changes.entries()) {
      const before = this.published.get(watch)?.at ?? 0;
      const start = now();
      await this.conn.sendNotification(rpc.DidChangeTextDocumentNotification.type, { textDocument: { uri, version: ++version }, contentChanges: [change] });
      const at = await this.until(
        () => {
          const p = this.published.get(watch);
          return p && p.at > before && done(p.diagnostics, i);
        },
        `re-publication of ${watchRel} after edit ${i}`,
        30000,
      );
      latencies.push(at - start);
    }
    return latencies;
  }

  async hovers(positions) {
    const latencies = [];
    for (const { rel, position } of positions) {
      const start = now();
      const hover = await this.conn.sendRequest(rpc.HoverRequest.type, { textDocument: { uri: this.uri(rel) }, position });
      latencies.push(now() - start);
      if (!hover) throw new Error(`benchmark: hover on ${rel}:${position.line + 1} returned nothing`);
    }
    return latencies;
  }

  /** The server's peak resident memory so far (VmHWM), MiB. */
  peakMiB() {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${this.proc.pid}/status`, 'utf8'));
      return m ? Math.round(Number(m[1]) / 1024) : null;
    } catch {
      return null;
    }
  }

  async close() {
    await this.conn.sendRequest(rpc.ShutdownRequest.type);
    const exited = new Promise((resolve) => {
      if (this.proc.exitCode !== null) resolve();
      this.proc.once('exit', resolve);
      setTimeout(resolve, 10000);
    });
    await this.conn.sendNotification(rpc.ExitNotification.type);
    await exited; // (a profiled server writes its profile on exit)
    this.conn.dispose();
    if (this.proc.exitCode === null) this.proc.kill();
  }
}

module.exports = { Session };
