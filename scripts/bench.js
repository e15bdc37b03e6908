#!/usr/bin/env node
/**
 * Benchmark: generates a big infrastructure repository (default 10,000 config files across many
 * hosts), starts the real language server over stdio on it, and prints
 *   - cold analysis: initialize -> first publication of every expected diagnostic
 *   - edit -> diagnostics latency (p50/p95) for an edit that creates/removes a port conflict,
 *     measured until the OTHER file of the conflict is re-published
 *   - hover latency (p50/p95)
 *   - peak memory (VmHWM) of the server process
 * and appends the figures to bench/results.jsonl, comparing with the previous run.
 * Usage: node scripts/bench.js [--files N] [--edits N] [--hovers N]
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, execSync } = require('child_process');
const rpc = require('vscode-languageserver-protocol/node');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const FILES = opt('files', 10000);
const EDITS = opt('edits', 40);
const HOVERS = opt('hovers', 200);
const ROOT = path.resolve(__dirname, '..');

/** ~10 files per host: sshd, nginx main + sites, compose project, firewall rules. */
function generate(dir, total) {
  const hosts = Math.ceil(total / 10);
  const written = [];
  const put = (rel, text) => {
    const full = path.join(dir, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, text);
    written.push(rel);
  };
  const hostMap = {};
  for (let h = 0; h < hosts && written.length < total; h++) {
    const base = `hosts/h${h}`;
    hostMap[`h${h}`] = [`${base}/**`];
    put(`${base}/etc/ssh/sshd_config`, `Include /etc/ssh/sshd_config.d/*.conf\nPort 22\nPort ${2200 + (h % 50)}\nListenAddress 0.0.0.0\nPermitRootLogin no\n`);
    put(`${base}/etc/ssh/sshd_config.d/10-hardening.conf`, 'PasswordAuthentication no\nX11Forwarding no\n');
    put(`${base}/etc/nginx/nginx.conf`, 'events {}\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n  include /etc/nginx/sites-enabled/*;\n}\n');
    for (let s = 0; s < 3; s++) {
      put(
        `${base}/etc/nginx/sites-enabled/site${s}`,
        `server {\n  listen 80;\n  listen [::]:80;\n  server_name s${s}.h${h}.example;\n  location / { proxy_pass http://127.0.0.1:${8000 + s}; }\n}\nserver {\n  listen 443 ssl;\n  server_name s${s}.h${h}.example;\n}\n`,
      );
    }
    put(`${base}/etc/nginx/conf.d/upstreams.conf`, `upstream app {\n  server 127.0.0.1:8000;\n  server 127.0.0.1:8001 backup;\n}\n`);
    put(`${base}/etc/nginx/conf.d/status.conf`, `server {\n  listen 127.0.0.1:${8080 + (h % 3)};\n  location /status { stub_status; }\n}\n`);
    put(
      `${base}/srv/app/compose.yaml`,
      `services:\n  app:\n    image: app:${h}\n    ports:\n      - "127.0.0.1:8000:8000"\n      - "9${String(h % 1000).padStart(3, '0')}:9000"\n  db:\n    image: postgres:16\n    expose: ["5432"]\n`,
    );
    put(
      `${base}/etc/iptables/rules.v4`,
      `*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT\nCOMMIT\n`,
    );
  }
  fs.writeFileSync(path.join(dir, '.portolan.json'), JSON.stringify({ hosts: hostMap }));
  return written;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function peakMemoryMiB(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-bench-'));
  const files = generate(dir, FILES);
  const uri = (rel) => `file://${dir}/${rel}`;
  const server = spawn(process.execPath, [path.join(ROOT, 'server/out/server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = rpc.createProtocolConnection(new rpc.StreamMessageReader(server.stdout), new rpc.StreamMessageWriter(server.stdin));
  const published = new Map();
  let onPublish = () => {};
  conn.onNotification(rpc.PublishDiagnosticsNotification.type, (p) => {
    published.set(p.uri, p.diagnostics);
    onPublish(p);
  });
  conn.onRequest(rpc.ConfigurationRequest.type, (p) => p.items.map(() => null));
  conn.onRequest(rpc.RegistrationRequest.type, () => undefined);
  conn.listen();

  // Host h0's sshd gets a second Port that an edit in h0's compose file will collide with.
  const sshd = 'hosts/h0/etc/ssh/sshd_config';
  const compose = 'hosts/h0/srv/app/compose.yaml';
  const composeText = fs.readFileSync(path.join(dir, compose), 'utf8');

  const t0 = process.hrtime.bigint();
  await conn.sendRequest(rpc.InitializeRequest.type, {
    processId: process.pid,
    rootUri: `file://${dir}`,
    workspaceFolders: [{ uri: `file://${dir}`, name: 'bench' }],
    capabilities: { workspace: { configuration: true } },
  });
  // Cold: the file with the last-known finding (a conflict we plant on disk) must be published.
  const coldTarget = uri('hosts/h1/etc/ssh/sshd_config');
  fs.appendFileSync(path.join(dir, 'hosts/h1/etc/ssh/sshd_config'), 'Port 70000\n');
  const cold = new Promise((resolve) => {
    onPublish = (p) => {
      if (p.uri === coldTarget) resolve();
    };
  });
  await conn.sendNotification(rpc.InitializedNotification.type, {});
  await cold;
  const coldMs = Number(process.hrtime.bigint() - t0) / 1e6;

  await conn.sendNotification(rpc.DidOpenTextDocumentNotification.type, {
    textDocument: { uri: uri(compose), languageId: 'yaml', version: 1, text: composeText },
  });
  await new Promise((r) => setTimeout(r, 500));
  const editLatencies = [];
  for (let i = 0; i < EDITS; i++) {
    // Alternate: publish :22 (collides with sshd on h0) / back to the original text (no conflict).
    const text = i % 2 === 0 ? composeText.replace('"127.0.0.1:8000:8000"', '"22:22"') : composeText;
    const start = process.hrtime.bigint();
    const done = new Promise((resolve) => {
      onPublish = (p) => {
        if (p.uri === uri(sshd)) {
          const hasConflict = p.diagnostics.some((d) => d.code === 'port-conflict');
          if (hasConflict === (i % 2 === 0)) resolve();
        }
      };
    });
    await conn.sendNotification(rpc.DidChangeTextDocumentNotification.type, {
      textDocument: { uri: uri(compose), version: i + 2 },
      contentChanges: [{ text }],
    });
    await Promise.race([
      done,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`edit ${i}: no re-publication of ${sshd} within 30s (is the compose format registered?)`)), 30000),
      ),
    ]);
    editLatencies.push(Number(process.hrtime.bigint() - start) / 1e6);
  }

  const hoverLatencies = [];
  for (let i = 0; i < HOVERS; i++) {
    const h = i % Math.max(1, Math.floor(files.length / 10));
    const start = process.hrtime.bigint();
    const hover = await conn.sendRequest(rpc.HoverRequest.type, {
      textDocument: { uri: uri(`hosts/h${h}/etc/ssh/sshd_config`) },
      position: { line: 1, character: 6 },
    });
    hoverLatencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (!hover) throw new Error('hover returned nothing');
  }
  const peak = peakMemoryMiB(server.pid);
  await conn.sendRequest(rpc.ShutdownRequest.type);
  await conn.sendNotification(rpc.ExitNotification.type);
  conn.dispose();
  server.kill();
  fs.rmSync(dir, { recursive: true, force: true });

  let commit = '';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {}
  const result = {
    date: new Date().toISOString(),
    commit,
    files: files.length,
    coldMs: Math.round(coldMs),
    editP50Ms: editLatencies.length ? +percentile(editLatencies, 50).toFixed(1) : null,
    editP95Ms: editLatencies.length ? +percentile(editLatencies, 95).toFixed(1) : null,
    hoverP50Ms: +percentile(hoverLatencies, 50).toFixed(2),
    hoverP95Ms: +percentile(hoverLatencies, 95).toFixed(2),
    peakMemoryMiB: peak,
  };
  const history = path.join(ROOT, 'bench', 'results.jsonl');
  const previous = fs.existsSync(history)
    ? fs
        .readFileSync(history, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((r) => r.files === result.files)
        .pop()
    : undefined;
  console.log(`Portolan benchmark — ${result.files} config files (${Math.ceil(FILES / 10)} hosts)`);
  const row = (label, key, unit) => {
    const prev = previous?.[key];
    const delta = prev !== undefined ? `  (previous ${prev}${unit} at ${previous.commit})` : '';
    console.log(`  ${label.padEnd(34)} ${String(result[key]).padStart(8)}${unit}${delta}`);
  };
  row('cold analysis', 'coldMs', ' ms');
  row('edit -> diagnostics p50', 'editP50Ms', ' ms');
  row('edit -> diagnostics p95', 'editP95Ms', ' ms');
  row('hover p50', 'hoverP50Ms', ' ms');
  row('hover p95', 'hoverP95Ms', ' ms');
  row('peak memory (server VmHWM)', 'peakMemoryMiB', ' MiB');
  fs.mkdirSync(path.dirname(history), { recursive: true });
  fs.appendFileSync(history, JSON.stringify(result) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
