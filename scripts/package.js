#!/usr/bin/env node
/**
 * `npm run package`: builds the installable extension, portolan-<version>.vsix, with @vscode/vsce,
 * offline and without a prompt or a warning.
 *
 * vsce packages a folder as it is, so the package is laid out in a staging folder (.package/, or
 * --stage DIR) holding exactly what the extension needs: the esbuild bundles (scripts/bundle.js: the
 * client, the server and the CLI, one file each with its sourcemap, at the same paths as tsc's output,
 * so `node server/out/server.js --stdio` works inside the package as in the repository), the grammars,
 * data/*.json the server reads at run time, the icons, README (its images travel in the package, so
 * links stay relative: --no-rewrite-relative-links), LICENSE and CHANGELOG. .vscodeignore lists the same
 * and nothing else. Any warning vsce prints fails this script.
 *
 * Usage: node scripts/package.js [--out FILE.vsix] [--stage DIR]
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { bundle } = require('./bundle');

const ROOT = path.resolve(__dirname, '..');

/** What goes into the package besides the bundles: paths relative to the repository. */
function staticFiles() {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  // The images README shows (relative links); each must exist.
  const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/i.test(l));
  const listDir = (dir, filter) =>
    fs
      .readdirSync(path.join(ROOT, dir))
      .filter(filter)
      .map((f) => `${dir}/${f}`);
  return [
    'README.md',
    'LICENSE',
    'CHANGELOG.md',
    ...images,
    ...fs
      .readdirSync(path.join(ROOT, 'media'), { recursive: true })
      .filter((f) => /\.(png|svg|md)$/.test(f))
      .map((f) => `media/${f.split(path.sep).join('/')}`),
    ...listDir('syntaxes', (f) => f.endsWith('.json')),
    ...listDir('data', (f) => f.endsWith('.json')),
    ...listDir('schemas', (f) => f.endsWith('.json')),
  ];
}

/** package.json as the package needs it: no scripts (vsce would run vscode:prepublish), no dependencies (bundled). */
function packageManifest() {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  delete manifest.scripts;
  delete manifest.devDependencies;
  delete manifest.dependencies;
  delete manifest.private;
  return manifest;
}

function parseArgs(argv) {
  const args = { out: undefined, stage: path.join(ROOT, '.package') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') args.out = path.resolve(argv[++i]);
    else if (argv[i] === '--stage') args.stage = path.resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (usage: node scripts/package.js [--out FILE.vsix] [--stage DIR])`);
  }
  return args;
}

async function packageExtension({ out, stage } = {}) {
  stage = stage || path.join(ROOT, '.package');
  const manifest = packageManifest();
  out = out || path.join(ROOT, `${manifest.name}-${manifest.version}.vsix`);
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  await bundle(stage);
  for (const rel of staticFiles()) {
    const from = path.join(ROOT, rel);
    if (!fs.existsSync(from)) throw new Error(`${rel} is missing (README or the package needs it)`);
    fs.mkdirSync(path.dirname(path.join(stage, rel)), { recursive: true });
    fs.copyFileSync(from, path.join(stage, rel));
  }
  fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  fs.copyFileSync(path.join(ROOT, '.vscodeignore'), path.join(stage, '.vscodeignore'));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const vsce = require.resolve('@vscode/vsce/vsce');
  const run = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', out], {
    cwd: stage,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VSCE_TELEMETRY: 'false' },
  });
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) throw new Error(`vsce package failed (exit ${run.status}):\n${output}`);
  // vsce asks nothing with stdin closed, but it still prints warnings (a missing field, a large file): none is accepted.
  const warnings = output.split('\n').filter((l) => /WARNING|warn/i.test(l));
  if (warnings.length > 0) throw new Error(`vsce package warned:\n${warnings.join('\n')}`);
  return { out, output: output.trim() };
}

module.exports = { packageExtension, staticFiles };

if (require.main === module) {
  packageExtension(parseArgs(process.argv.slice(2))).then(
    ({ out, output }) => {
      console.log(output);
      console.log(`package: ${path.relative(process.cwd(), out)} (${Math.round(fs.statSync(out).size / 1024)} KiB)`);
    },
    (err) => {
      console.error(`package: ${err.message}`);
      process.exit(1);
    },
  );
}
