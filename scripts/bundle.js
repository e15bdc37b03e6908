#!/usr/bin/env node
/**
 * Bundles the extension with esbuild, one file each with its sourcemap, into OUT_DIR (default .package/):
 *   client/out/extension.js  the VS Code client (vscode stays external: the editor provides it)
 *   server/out/server.js     the language server (`node server/out/server.js --stdio`, as in the repository)
 *   server/out/cli.js        `portolan check` on the same engine
 *   server/out/parseWorker.js  the server's parse worker (big opened documents, server/src/offThread.ts)
 * The same paths as tsc's output in the repository, so package.json's `main` and the client's way of
 * finding the server work unchanged in both. Used by scripts/package.js; `node scripts/bundle.js DIR` alone.
 */
'use strict';
const path = require('path');
const esbuild = require('esbuild');

const ROOT = path.resolve(__dirname, '..');

const ENTRIES = [
  { in: 'client/src/extension.ts', out: 'client/out/extension.js' },
  { in: 'server/src/server.ts', out: 'server/out/server.js' },
  { in: 'server/src/cli.ts', out: 'server/out/cli.js' },
  { in: 'server/src/parseWorker.ts', out: 'server/out/parseWorker.js' },
];

async function bundle(outDir) {
  const results = [];
  for (const entry of ENTRIES) {
    const outfile = path.join(outDir, entry.out);
    const result = await esbuild.build({
      entryPoints: [path.join(ROOT, entry.in)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node18', // VS Code 1.91 (our oldest) runs extensions on Node 18 and later
      external: ['vscode'],
      sourcemap: true,
      sourcesContent: false, // the map points at the sources; keeps the package small
      minify: false,
      logLevel: 'warning',
      metafile: true,
      absWorkingDir: ROOT,
    });
    if (result.errors.length > 0 || result.warnings.length > 0) throw new Error(`esbuild reported problems for ${entry.in}`);
    const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
    results.push({ file: entry.out, bytes });
  }
  return results;
}

module.exports = { bundle, ENTRIES };

if (require.main === module) {
  const outDir = path.resolve(process.argv[2] || path.join(ROOT, '.package'));
  bundle(outDir).then(
    (files) => files.forEach((f) => console.log(`${path.relative(process.cwd(), path.join(outDir, f.file))} (${Math.round(f.bytes / 1024)} KiB with map)`)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
