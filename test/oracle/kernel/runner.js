/**
 * Kernel oracle runner: starts the programs of each case in order, inside the network namespace it
 * was started in (see namespace.sh), and prints for every program whether one of its bind() calls
 * failed with EADDRINUSE. One JSON line per case on stdout.
 *
 *   node runner.js BATCH.json
 *
 * BATCH.json: { hostKey, cases: [{ id, dir, actors: [...] }] } where an actor is
 *   { kind: 'sshd',  config }                         sshd -D -f config -h hostKey
 *   { kind: 'nginx', prefix, config }                 nginx in the foreground, one process
 *   { kind: 'docker', mappings: [{ protocol, addresses: [{ address, family }], from, to, oneOf }] }
 *       the stand-in for Docker's port publishing: one socket per address and port, as docker-proxy
 *       opens them (IPv6 sockets v6-only); a host range published to one container port (oneOf)
 *       takes the first port of the range that is free on every address. When a bind fails the
 *       container does not start and every socket it opened is closed again.
 *   { kind: 'docker', proxy: true, mappings }        the same publishes bound by Docker's own docker-proxy
 *       (/usr/sbin/docker-proxy of Debian's docker.io 20.10), one process per address, port and protocol
 *       as dockerd starts it (-proto -host-ip -host-port -container-ip -container-port; it reports on
 *       fd 3: "0" when listening, "1\n<error>" when not). Fixed ports only. Go's net.ListenTCP sets
 *       SO_REUSEADDR on its TCP listeners, net.ListenUDP nothing; "tcp6"/"udp6" sockets are v6-only.
 *   { kind: 'sockets', sockets: [...] }                 sockets.py: the listening sockets of a program that
 *       cannot run here (systemd-resolved's stub listeners, systemd's .socket units), with the socket
 *       options it sets, in groups that stand or fall together (it keeps the groups that bound)
 * Each result: { status: 'ok' | 'eaddrinuse' | 'error', detail }.
 *
 * Every process this runner starts is stopped by its PID at the end of its case, also on failure,
 * timeout or when the runner itself is told to stop.
 */
'use strict';
const { spawn } = require('child_process');
const dgram = require('dgram');
const fs = require('fs');
const net = require('net');
const path = require('path');

const READY_TIMEOUT_MS = 5000;
/**
 * SIGTERM first, SIGKILL after this long: nginx misses a SIGTERM that lands between writing its pid
 * file and entering its event loop, and then waits in epoll forever.
 */
const STOP_TIMEOUT_MS = 100;
const POLL_MS = 5;

/** Processes of the running case, stopped on the way out whatever happens. */
const live = new Set();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `report`: also a pipe on fd 3 (docker-proxy reports there), its text in proc.report. */
function startProcess(cmd, args, report = false) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe', ...(report ? ['pipe'] : [])] });
  const proc = { child, output: '', report: '', exited: false, code: null };
  if (report) child.stdio[3].on('data', (d) => (proc.report += d));
  child.stdout.on('data', (d) => (proc.output += d));
  child.stderr.on('data', (d) => (proc.output += d));
  child.on('error', (e) => {
    proc.output += String(e);
    proc.exited = true;
  });
  child.on('exit', (code, signal) => {
    proc.exited = true;
    proc.code = code ?? signal;
  });
  live.add(proc);
  return proc;
}

async function stopProcess(proc) {
  if (!proc.exited && proc.child.pid) {
    try {
      process.kill(proc.child.pid, 'SIGTERM');
    } catch {}
    const until = Date.now() + STOP_TIMEOUT_MS;
    while (!proc.exited && Date.now() < until) await sleep(POLL_MS);
    if (!proc.exited) {
      try {
        process.kill(proc.child.pid, 'SIGKILL');
      } catch {}
      while (!proc.exited) await sleep(POLL_MS);
    }
  }
  live.delete(proc);
}

/** Polls until `check` returns a value or the program times out. */
async function until(check) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) return { status: 'error', detail: 'timed out waiting for the program to listen or fail' };
    await sleep(POLL_MS);
  }
}

/**
 * sshd writes its PidFile once every listen address has been tried; each failed one is logged as
 * "Bind to port P on ADDR failed: Address already in use." and sshd keeps the sockets that bound
 * (it exits with "Cannot bind any address." when none did). The log goes to a file (-E), complete
 * by the time the pid file appears.
 */
async function startSshd(actor, batch, dir, index) {
  const pidFile = path.join(dir, `sshd-${index}.pid`);
  const logFile = path.join(dir, `sshd-${index}.log`);
  const proc = startProcess('/usr/sbin/sshd', ['-D', '-E', logFile, '-f', actor.config, '-h', batch.hostKey, '-o', `PidFile=${pidFile}`]);
  const result = await until(() => (fs.existsSync(pidFile) || proc.exited ? {} : undefined));
  if (result.status) return { proc, result };
  const lines = (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '').split(/\r?\n/).filter(Boolean);
  const inUse = lines.filter((l) => /^Bind to port \d+ on .* failed: Address already in use\.$/.test(l));
  if (inUse.length > 0) return { proc, result: { status: 'eaddrinuse', detail: inUse.join(' | ') } };
  if (proc.exited) return { proc, result: { status: 'error', detail: `sshd exited (${proc.code}): ${[...lines, proc.output.trim()].join(' | ')}` } };
  return { proc, result: { status: 'ok', detail: lines.join(' | ') } };
}

/**
 * nginx writes its pid file after every listening socket is open. A failed bind() is logged at once
 * ("bind() to ADDR failed (98: Address already in use)"); nginx would retry for two seconds and then
 * exit, so it is stopped as soon as the line appears.
 */
async function startNginx(actor) {
  const prefix = actor.prefix.endsWith('/') ? actor.prefix : `${actor.prefix}/`;
  const pidFile = path.join(prefix, 'nginx.pid');
  const errorLog = path.join(prefix, 'error.log');
  const proc = startProcess('nginx', ['-p', prefix, '-c', actor.config, '-e', errorLog, '-g', `daemon off; master_process off; pid ${pidFile};`]);
  const readLog = () => (fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : '');
  const result = await until(() => {
    const log = readLog();
    const inUse = log.split('\n').filter((l) => /bind\(\) to \S+ failed \(98: Address already in use\)/.test(l));
    if (inUse.length > 0) return { status: 'eaddrinuse', detail: inUse[0].replace(/^.*\[emerg\] \d+#\d+: /, '') };
    if (fs.existsSync(pidFile)) return { status: 'ok', detail: '' };
    if (proc.exited) return { status: 'error', detail: `nginx exited (${proc.code}): ${(log + proc.output).trim()}` };
    return undefined;
  });
  return { proc, result };
}

function bindOne(b, port) {
  return new Promise((resolve) => {
    if (b.protocol === 'udp') {
      const socket = dgram.createSocket({ type: b.family === 'ipv6' ? 'udp6' : 'udp4', ipv6Only: b.family === 'ipv6' });
      socket.once('error', (e) => resolve({ error: e }));
      socket.bind({ address: b.address, port, exclusive: true }, () => resolve({ close: () => new Promise((r) => socket.close(() => r())) }));
    } else {
      const server = net.createServer();
      server.once('error', (e) => resolve({ error: e }));
      server.listen({ host: b.address, port, ipv6Only: b.family === 'ipv6', exclusive: true }, () =>
        resolve({ close: () => new Promise((r) => server.close(() => r())) }),
      );
    }
  });
}

/** Binds one port on every address of a mapping; all or nothing. */
async function bindPort(m, port) {
  const opened = [];
  for (const a of m.addresses) {
    const r = await bindOne({ protocol: m.protocol, ...a }, port);
    if (r.error) {
      await Promise.all(opened.map((close) => close()));
      return { error: r.error, where: `${a.family === 'ipv6' ? `[${a.address}]` : a.address}:${port}/${m.protocol}` };
    }
    opened.push(r.close);
  }
  return { opened };
}

/** One docker-proxy, as dockerd starts it for a published port; resolves once it listens or has failed. */
function startProxy(protocol, address, port) {
  const args = ['-proto', protocol, '-host-ip', address, '-host-port', String(port), '-container-ip', '127.0.0.1', '-container-port', '9'];
  const proc = startProcess('/usr/sbin/docker-proxy', args, true);
  const where = `${address.includes(':') ? `[${address}]` : address}:${port}/${protocol}`;
  return until(() => {
    if (proc.report.startsWith('0')) return { proc, where };
    if (proc.report.startsWith('1') || proc.exited) {
      // Wait for the whole message: the process exits after writing it.
      if (!proc.exited) return undefined;
      const why = proc.report.replace(/^1\n?/, '').trim() || proc.output.trim();
      return { proc, where, failed: { status: /address already in use/.test(why) ? 'eaddrinuse' : 'error', detail: `docker-proxy ${where}: ${why}` } };
    }
    return undefined;
  }).then((r) => (r.status ? { proc, where, failed: r } : r));
}

/** The publishes of one container bound by docker-proxy processes; when one fails the container does not start and the others stop. */
async function startDockerProxies(actor) {
  const procs = [];
  for (const m of actor.mappings) {
    if (m.oneOf) throw new Error('docker-proxy actors take fixed ports only');
    for (let port = m.from; port <= m.to; port++) {
      for (const a of m.addresses) {
        const r = await startProxy(m.protocol, a.address, port);
        procs.push(r.proc);
        if (r.failed) {
          await Promise.all(procs.map(stopProcess));
          return { close: async () => {}, result: r.failed };
        }
      }
    }
  }
  return { close: () => Promise.all(procs.map(stopProcess)), result: { status: 'ok', detail: '' } };
}

async function startDocker(actor) {
  if (actor.proxy) return startDockerProxies(actor);
  const opened = [];
  const fail = async (error, where) => {
    await Promise.all(opened.map((close) => close()));
    return {
      close: async () => {},
      result:
        error.code === 'EADDRINUSE'
          ? { status: 'eaddrinuse', detail: `bind ${where}: EADDRINUSE` }
          : { status: 'error', detail: `bind ${where}: ${error.message}` },
    };
  };
  for (const m of actor.mappings) {
    if (m.oneOf) {
      // A host range to one container port: the first port of the range free on every address.
      let last;
      for (let port = m.from; port <= m.to && !last?.opened; port++) {
        const r = await bindPort(m, port);
        if (r.error && r.error.code !== 'EADDRINUSE') return fail(r.error, r.where);
        last = r;
      }
      if (!last.opened) return fail(last.error, `${last.where} and every other port of ${m.from}-${m.to}`);
      opened.push(...last.opened);
      continue;
    }
    for (let port = m.from; port <= m.to; port++) {
      const r = await bindPort(m, port);
      if (r.error) return fail(r.error, r.where);
      opened.push(...r.opened);
    }
  }
  return { close: () => Promise.all(opened.map((close) => close())), result: { status: 'ok', detail: '' } };
}

/** The socket stand-in prints one JSON line: ok (and holds its sockets until stopped), or why not (and exits). */
async function startSockets(actor) {
  const proc = startProcess('python3', [path.join(__dirname, 'sockets.py'), JSON.stringify(actor.sockets)]);
  const result = await until(() => {
    const line = proc.output.split('\n').find((l) => l.startsWith('{'));
    if (line) {
      const r = JSON.parse(line);
      return { status: r.status, detail: r.detail ?? '' };
    }
    if (proc.exited) return { status: 'error', detail: `sockets.py exited (${proc.code}): ${proc.output.trim()}` };
    return undefined;
  });
  return { proc, result };
}

async function runCase(batch, c) {
  let stopMs = 0;
  const results = [];
  const procs = [];
  const closers = [];
  try {
    for (let i = 0; i < c.actors.length; i++) {
      const actor = c.actors[i];
      const t0 = Date.now();
      if (actor.kind === 'sshd') {
        const { proc, result } = await startSshd(actor, batch, c.dir, i);
        procs.push(proc);
        results.push(result);
      } else if (actor.kind === 'nginx') {
        const { proc, result } = await startNginx(actor);
        procs.push(proc);
        // A failed nginx exits and frees what it held: stop it now, before the next program starts.
        if (result.status !== 'ok') await stopProcess(proc);
        results.push(result);
      } else if (actor.kind === 'sockets') {
        // sockets.py closes what a failed group opened and keeps the rest (it exits when nothing bound).
        const { proc, result } = await startSockets(actor);
        procs.push(proc);
        results.push(result);
      } else if (actor.kind === 'docker') {
        const { close, result } = await startDocker(actor);
        closers.push(close);
        results.push(result);
      } else {
        results.push({ status: 'error', detail: `unknown actor kind ${actor.kind}` });
      }
      results[results.length - 1].ms = Date.now() - t0;
    }
  } catch (e) {
    results.push({ status: 'error', detail: `runner: ${e && e.stack ? e.stack : e}` });
  } finally {
    const t0 = Date.now();
    await Promise.all(procs.map(stopProcess));
    await Promise.all(closers.map((close) => close()));
    stopMs = Date.now() - t0;
  }
  return { results, stopMs };
}

async function main() {
  const batch = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  for (const c of batch.cases) {
    const started = Date.now();
    const { results, stopMs } = await runCase(batch, c);
    process.stdout.write(`${JSON.stringify({ id: c.id, results, stopMs, ms: Date.now() - started })}\n`);
  }
}

async function stopAll() {
  await Promise.all([...live].map(stopProcess));
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    stopAll().then(() => process.exit(1));
  });
}

main().then(
  () => stopAll(),
  (e) => {
    process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
    stopAll().then(() => process.exit(1));
  },
);
