#!/usr/bin/env node
/**
 * `npm run bench`: Portolan's speed and memory on generated workspaces (written into a temporary
 * folder, removed afterwards; deterministic from --seed), with the real CLI and the real language
 * server over stdio:
 *   stacks  N compose stacks (default 2,000; 8 mappings each) on hosts with a reverse proxy, sshd and
 *           a firewall: `portolan check` time and peak RSS, beside reading + yaml-parsing the compose
 *           files alone and beside dclint (the peer, installed on demand into ~/.cache/portolan-bench);
 *           the server's cold start (the open file's diagnostics first, then everything) and one
 *           keystroke in one compose file -> its new diagnostics.
 *   mixed   10,000 (and 1,000) mixed files, 10 a host: cold analysis, edit -> diagnostics of the
 *           OTHER side of a conflict (p50/p95), hover (p50/p95), the server's peak memory (VmHWM).
 * Each figure is printed beside its previous value (the newest earlier run with it, on the same processor
 * model when there is one) and the target (issue 16); the run is appended to
 * bench/results.jsonl (date, commit, machine, figures). Speed is measured here only, never in tests.
 * Usage: node scripts/bench.js [--stacks N] [--files N] [--small N] [--edits N] [--hovers N] [--seed N]
 *        [--no-peer] [--only cli|server]
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execSync } = require('child_process');
const { composeStacks, mixedWorkspace } = require('./bench/workspaces');
const { cliCheck, yamlFloor, subsetFloor, dclint } = require('./bench/processes');
const { Session } = require('./bench/lsp');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const flag = (name) => args.includes(`--${name}`);
const only = (() => {
  const i = args.indexOf('--only');
  return i >= 0 ? args[i + 1] : undefined;
})();
const STACKS = opt('stacks', 2000);
const FILES = opt('files', 10000);
const SMALL = opt('small', 1000);
const EDITS = opt('edits', 40);
const HOVERS = opt('hovers', 200);
const SEED = opt('seed', 1);
const ROOT = path.resolve(__dirname, '..');
const log = (line) => process.stderr.write(`${line}\n`);

/** What issue 16 asks for: [figure, label, unit, comparison, target]. */
const FIGURES = [
  ['stacks.cliMs', 'check, N compose stacks', 'ms', '<', 800],
  ['stacks.cliRssMiB', 'check, N stacks: peak RSS', 'MiB', '<', 150],
  ['stacks.yamlFloorMs', 'read + yaml-parse alone', 'ms'],
  ['stacks.subsetFloorMs', 'read + our YAML reader alone', 'ms'],
  ['stacks.peerMs', 'dclint on the same files', 'ms'],
  ['stacks.peerRssMiB', 'dclint: peak RSS', 'MiB'],
  ['stacks.peerRatio', 'dclint time / check time', 'x', '>=', 200],
  ['stacks.serverOpenMs', 'server: open file published', 'ms'],
  ['stacks.serverColdMs', 'server: all published', 'ms'],
  ['stacks.keystrokeP50Ms', 'keystroke -> diagnostics p50', 'ms'],
  ['stacks.keystrokeP95Ms', 'keystroke -> diagnostics p95', 'ms', '<', 20],
  ['stacks.serverPeakMiB', 'server peak (VmHWM)', 'MiB', '<', 200],
  ['small.coldMs', 'cold analysis, SMALL files', 'ms'],
  ['small.editP95Ms', 'edit -> other side p95, SMALL', 'ms', '<', 20],
  ['mixed.coldMs', 'cold analysis, FILES files', 'ms', '<', 2000],
  ['mixed.openMs', 'open file published, FILES', 'ms'],
  ['mixed.editP50Ms', 'edit -> other side p50', 'ms'],
  ['mixed.editP95Ms', 'edit -> other side p95', 'ms', '<', 20],
  ['mixed.hoverP50Ms', 'hover p50', 'ms'],
  ['mixed.hoverP95Ms', 'hover p95', 'ms', '<', 2],
  ['mixed.peakMiB', 'server peak (VmHWM)', 'MiB', '<', 200],
];

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return +sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(2);
}

function tempDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `portolan-bench-${tag}-`));
}

/** The 2,000-stack workspace: the CLI, the floor and the peer, then the server. */
async function stacksRun(figures) {
  const dir = tempDir('stacks');
  try {
    const ws = composeStacks(dir, STACKS, SEED);
    log(
      `stacks: ${STACKS} compose stacks, ${ws.mappings} mappings, ${(ws.composeBytes / 1e6).toFixed(2)} MB of compose files, ${ws.files.length} files, ${ws.hosts} hosts`,
    );
    if (only !== 'server') {
      const cli = cliCheck(dir);
      log(`  portolan check: ${cli.summary}`);
      figures['stacks.cliMs'] = cli.ms;
      figures['stacks.cliRssMiB'] = cli.rssMiB;
      const composeFiles = ws.files.filter((f) => /compose\.ya?ml$/.test(f)).map((f) => path.join(dir, f));
      figures['stacks.yamlFloorMs'] = yamlFloor(composeFiles).ms;
      figures['stacks.subsetFloorMs'] = subsetFloor(composeFiles).ms;
      const peer = flag('no-peer') ? undefined : dclint(dir, log);
      if (peer) {
        log(`  dclint ${peer.version}: ${peer.files} files reported`);
        figures['stacks.peerMs'] = peer.ms;
        figures['stacks.peerRssMiB'] = peer.rssMiB;
        figures['stacks.peerRatio'] = Math.round(peer.ms / cli.ms);
      }
    }
    if (only !== 'cli') await stacksServer(dir, ws, figures);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Cold start with one compose file open (a digit typed after its db port: invalid, so it has
 * diagnostics to publish), then keystrokes in it: the digit deleted, typed again, and so on.
 */
async function stacksServer(dir, ws, figures) {
  const rel = ws.composeFiles[Math.floor(ws.composeFiles.length / 2)];
  const lines = fs.readFileSync(path.join(dir, rel), 'utf8').split('\n');
  const dbLine = lines.findIndex((l) => /^\s+- "127\.0\.0\.1:\d+:(5432|3306)"$/.test(l));
  const character = lines[dbLine].indexOf(':', lines[dbLine].indexOf('127.0.0.1:') + 10); // after the host port
  lines[dbLine] = lines[dbLine].slice(0, character) + '0' + lines[dbLine].slice(character);
  // A finding on disk in the last host: published with "everything".
  const last = ws.files.filter((f) => f.endsWith('/etc/ssh/sshd_config')).pop();
  fs.appendFileSync(path.join(dir, last), 'Port 70000\n');
  const session = new Session(dir);
  try {
    const cold = await session.cold({ rel, languageId: 'dockercompose', text: lines.join('\n') }, last);
    figures['stacks.serverOpenMs'] = cold.openMs;
    figures['stacks.serverColdMs'] = cold.coldMs;
    figures['stacks.progress'] = cold.progress;
    const at = { line: dbLine, character };
    const after = { line: dbLine, character: character + 1 };
    const changes = Array.from({ length: EDITS }, (_, i) =>
      i % 2 === 0 ? { range: { start: at, end: after }, text: '' } : { range: { start: at, end: at }, text: '0' },
    );
    const lat = await session.edits(rel, changes, rel, (diags, i) => diags.some((d) => d.code === 'invalid-port') === (i % 2 === 1));
    figures['stacks.keystrokeP50Ms'] = percentile(lat, 50);
    figures['stacks.keystrokeP95Ms'] = percentile(lat, 95);
    figures['stacks.serverPeakMiB'] = session.peakMiB();
  } finally {
    await session.close();
  }
}

/** The mixed workspace of `files` files: cold, the conflict edit on host h0, hovers. */
async function mixedRun(files, prefix, figures, hovers) {
  const dir = tempDir('mixed');
  const session = new Session(dir);
  try {
    mixedWorkspace(dir, files);
    // A finding on disk in the last host (published with "everything"), and the compose file of h0 open.
    const last = `hosts/h${Math.ceil(files / 10) - 1}/etc/ssh/sshd_config`;
    fs.appendFileSync(path.join(dir, last), 'Port 70000\n');
    const compose = 'hosts/h0/srv/app/compose.yaml';
    const text = fs.readFileSync(path.join(dir, compose), 'utf8');
    const cold = await session.cold({ rel: compose, languageId: 'dockercompose', text: text.replace('"127.0.0.1:8000:8000"', '"127.0.0.1:8000:8000x"') }, last);
    figures[`${prefix}.coldMs`] = cold.coldMs;
    figures[`${prefix}.openMs`] = cold.openMs;
    // Alternately publish :22 (collides with h0's sshd) and take it back: the sshd side is re-published.
    const start = text.indexOf('"127.0.0.1:8000:8000x"'.slice(0, -2));
    const at = (offset) => ({ line: text.slice(0, offset).split('\n').length - 1, character: offset - text.lastIndexOf('\n', offset - 1) - 1 });
    const range = { start: at(start), end: at(start + '"127.0.0.1:8000:8000x"'.length) };
    const changes = [];
    for (let i = 0; i < EDITS; i++) {
      const newText = i % 2 === 0 ? '"22:22"' : '"127.0.0.1:8000:8000"';
      changes.push({
        range: i === 0 ? range : { start: range.start, end: { line: range.start.line, character: range.start.character + changes[i - 1].text.length } },
        text: newText,
      });
    }
    const lat = await session.edits(
      compose,
      changes,
      'hosts/h0/etc/ssh/sshd_config',
      (diags, i) => diags.some((d) => d.code === 'port-conflict') === (i % 2 === 0),
    );
    figures[`${prefix}.editP50Ms`] = percentile(lat, 50);
    figures[`${prefix}.editP95Ms`] = percentile(lat, 95);
    if (hovers) {
      const hosts = Math.ceil(files / 10);
      const positions = Array.from({ length: HOVERS }, (_, i) => ({
        rel: `hosts/h${(i * 7) % hosts}/etc/ssh/sshd_config`,
        position: { line: 1, character: 6 },
      }));
      const hov = await session.hovers(positions);
      figures[`${prefix}.hoverP50Ms`] = percentile(hov, 50);
      figures[`${prefix}.hoverP95Ms`] = percentile(hov, 95);
    }
    figures[`${prefix}.peakMiB`] = session.peakMiB();
  } finally {
    await session.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Earlier runs of the same sizes, newest first (older lines of results.jsonl had the 10,000-file figures flat). */
function earlierRuns(history) {
  if (!fs.existsSync(history)) return [];
  const lines = fs.readFileSync(history, 'utf8').trim().split('\n').filter(Boolean);
  const runs = [];
  for (let i = lines.length - 1; i >= 0; i--) {
    const r = JSON.parse(lines[i]);
    if (r.figures && r.params?.stacks === STACKS && r.params?.files === FILES) runs.push(r);
    else if (r.files === FILES) {
      const f = {};
      for (const k of ['coldMs', 'editP50Ms', 'editP95Ms', 'hoverP50Ms', 'hoverP95Ms']) f[`mixed.${k}`] = r[k];
      f['mixed.peakMiB'] = r.peakMemoryMiB;
      runs.push({ ...r, figures: f });
    }
  }
  return runs;
}

/**
 * Each figure's previous value: from the newest earlier run that has it on the same processor model
 * (a run with --only cli has no server figures), else from another machine, marked: machines of one kind
 * differ by 2-3x, so only the same model compares.
 */
function previousFigures(runs, machine) {
  const previous = new Map();
  for (const [key] of FIGURES) {
    const same = runs.find((r) => r.figures?.[key] !== undefined && r.figures[key] !== null && r.machine?.cpu === machine.cpu);
    const any = same ?? runs.find((r) => r.figures?.[key] !== undefined && r.figures[key] !== null);
    if (any) previous.set(key, { value: any.figures[key], run: any, otherMachine: !same });
  }
  return previous;
}

function report(result, previous) {
  console.log(`Portolan benchmark at ${result.commit} on ${result.machine.cpus}x ${result.machine.cpu} (${result.machine.node})`);
  console.log(`  ${'figure'.padEnd(34)} ${'now'.padStart(9)} ${'previous'.padStart(9)} ${'target'.padStart(9)}`);
  const sources = new Set();
  for (const [key, label, unit, cmp, target] of FIGURES) {
    const value = result.figures[key];
    if (value === undefined || value === null) continue;
    const prev = previous.get(key);
    if (prev) sources.add(prev.run);
    const prevText = prev === undefined ? '' : `${prev.value}${prev.otherMachine ? '*' : ''}`;
    const met = cmp === undefined ? '' : (cmp === '<' ? value < target : value >= target) ? '  ok' : '  MISSED';
    const name = label.replace('N ', `${STACKS} `).replace('SMALL', String(SMALL)).replace('FILES', String(FILES));
    console.log(
      `  ${name.padEnd(34)} ${`${value}`.padStart(7)} ${unit.padEnd(3)} ${prevText.padStart(9)} ${cmp ? `${cmp} ${target}`.padStart(9) : ''.padStart(9)}${met}`,
    );
  }
  for (const run of sources)
    console.log(
      `  (previous: ${run.commit}, ${run.date}${run.machine?.cpu === result.machine.cpu ? '' : `, * on another machine: ${run.machine?.cpu ?? 'unknown'}`})`,
    );
  if (result.figures['stacks.progress'] === false) console.log('  the server reported no work-done progress during the cold start');
}

async function main() {
  const figures = {};
  if (STACKS > 0) await stacksRun(figures);
  if (only !== 'cli' && FILES > 0) {
    if (SMALL > 0 && SMALL < FILES) await mixedRun(SMALL, 'small', figures, false);
    await mixedRun(FILES, 'mixed', figures, true);
  }
  let commit = '';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: ROOT, encoding: 'utf8' }).trim();
    if (execSync('git status --porcelain -- server', { cwd: ROOT, encoding: 'utf8' }).trim()) commit += '+changes';
  } catch {}
  const cpus = os.cpus();
  const result = {
    date: new Date().toISOString(),
    commit,
    machine: {
      cpus: cpus.length,
      cpu: cpus[0]?.model?.trim(),
      memGiB: Math.round(os.totalmem() / 1024 ** 3),
      node: process.version,
      os: `${os.type()} ${os.release()}`,
    },
    params: { stacks: STACKS, files: FILES, small: SMALL, edits: EDITS, hovers: HOVERS, seed: SEED, peer: !flag('no-peer'), only: only ?? 'all' },
    figures,
  };
  const history = path.join(ROOT, 'bench', 'results.jsonl');
  report(result, previousFigures(earlierRuns(history), result.machine));
  fs.mkdirSync(path.dirname(history), { recursive: true });
  fs.appendFileSync(history, JSON.stringify(result) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
