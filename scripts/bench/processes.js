/**
 * Whole-process measurements for the benchmark: the CLI on a folder, the YAML-only baseline, and the
 * peer linter (dclint, installed on demand into a cache folder, never a dependency of the project).
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const MAXRSS = path.join(__dirname, 'maxrss.js');
const DCLINT_VERSION = '3.1.0';

/** Runs `node -r maxrss.js ...args` to the end: wall time (ms) and peak RSS (MiB). Output is discarded. */
function timedNode(args, cwd) {
  const t0 = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ['-r', MAXRSS, ...args], { cwd, encoding: 'utf8', maxBuffer: 1024 ** 3 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (run.error) throw run.error;
  const m = /portolan-bench-maxrss-kb (\d+)/.exec(run.stderr);
  return { ms: Math.round(ms), rssMiB: m ? Math.round(Number(m[1]) / 1024) : null, status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** `portolan check DIR`: exit 0 or 1 (findings) is a run; anything else is a failure. */
function cliCheck(dir) {
  const run = timedNode([path.join(ROOT, 'server/out/cli.js'), 'check', '.'], dir);
  if (run.status !== 0 && run.status !== 1) throw new Error(`portolan check failed (${run.status}): ${run.stderr.slice(0, 2000)}`);
  const summary = /(\d+) files checked: (\d+) errors, (\d+) warnings, (\d+) notes/.exec(run.stdout);
  return { ms: run.ms, rssMiB: run.rssMiB, summary: summary ? summary[0] : run.stdout.trim().split('\n').pop() };
}

/** What reading and `yaml`-parsing the compose files alone costs (a floor for the CLI). */
function yamlFloor(files) {
  const list = path.join(os.tmpdir(), `portolan-bench-yaml-${process.pid}.json`);
  fs.writeFileSync(list, JSON.stringify(files));
  const script = `const fs=require('fs');const Y=require(${JSON.stringify(require.resolve('yaml', { paths: [ROOT] }))});for(const f of JSON.parse(fs.readFileSync(${JSON.stringify(list)},'utf8')))Y.parseDocument(fs.readFileSync(f,'utf8'));`;
  try {
    return timedNode(['-e', script], ROOT);
  } finally {
    fs.rmSync(list, { force: true });
  }
}

/** dclint's entry point, installed with npm into a cache folder on first use; undefined when that fails. */
function dclintBin(log) {
  const cache = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'portolan-bench', `dclint-${DCLINT_VERSION}`);
  const bin = path.join(cache, 'node_modules', 'dclint', 'bin', 'dclint.cjs');
  if (fs.existsSync(bin)) return bin;
  log(`installing dclint ${DCLINT_VERSION} into ${cache} ...`);
  fs.mkdirSync(cache, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const run = spawnSync(npm, ['install', '--prefix', cache, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `dclint@${DCLINT_VERSION}`], {
    encoding: 'utf8',
  });
  if (run.status !== 0 || !fs.existsSync(bin)) {
    log(`dclint could not be installed (${(run.stderr || String(run.error)).trim().split('\n').pop()}): the peer is skipped`);
    return undefined;
  }
  return bin;
}

/** dclint over the folder (it finds the compose files itself, one at a time). */
function dclint(dir, log) {
  const bin = dclintBin(log);
  if (!bin) return undefined;
  // Its report goes to a file: it exits before a large report through a pipe is written out.
  const report = path.join(os.tmpdir(), `portolan-bench-dclint-${process.pid}.json`);
  const run = timedNode([bin, '-r', '.', '-f', 'json', '-o', report], dir);
  let files = null;
  try {
    files = JSON.parse(fs.readFileSync(report, 'utf8')).length;
  } catch {}
  fs.rmSync(report, { force: true });
  return { ms: run.ms, rssMiB: run.rssMiB, files, version: DCLINT_VERSION };
}

/** The same, read as Portolan reads them: its YAML subset reader (server/out/formats/yaml/subset.js), the package for the rest. */
function subsetFloor(files) {
  const list = path.join(os.tmpdir(), `portolan-bench-subset-${process.pid}.json`);
  fs.writeFileSync(list, JSON.stringify(files));
  const subset = path.join(ROOT, 'server', 'out', 'formats', 'yaml', 'subset.js');
  const yaml = require.resolve('yaml', { paths: [ROOT] });
  const script = `const fs=require('fs');const Y=require(${JSON.stringify(yaml)});const {readYamlSubset}=require(${JSON.stringify(subset)});const o={prettyErrors:false,uniqueKeys:false};for(const f of JSON.parse(fs.readFileSync(${JSON.stringify(list)},'utf8'))){const t=fs.readFileSync(f,'utf8');readYamlSubset(t,o)??Y.parseAllDocuments(t,o);}`;
  try {
    return timedNode(['-e', script], ROOT);
  } finally {
    fs.rmSync(list, { force: true });
  }
}

module.exports = { cliCheck, yamlFloor, subsetFloor, dclint };
