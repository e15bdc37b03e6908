#!/usr/bin/env node
/**
 * Command line on the same engine as the language server:
 *   portolan check [PATH...]   prints `file:line:col severity code message`, exits 1 on any error.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Engine } from './core/engine';
import { LineIndex } from './core/lineIndex';
import { createFormatModules, detectFormat } from './formats/index';
import { loadRegistry } from './workspace/data';
import { loadFirewalldServices } from './workspace/firewalldData';
import { readFolderHosts, readText, scanFolder, toPosix } from './workspace/files';
import type { FolderHosts } from './core/hosts';

function usage(): never {
  process.stderr.write('usage: portolan check [PATH...]\n  Checks the sshd, nginx, docker-compose and firewall configs under each PATH (default: .).\n');
  process.exit(2);
}

export function runCheck(paths: string[], out: (line: string) => void): { errors: number; warnings: number; infos: number; files: number } {
  const registry = loadRegistry();
  const modules = createFormatModules(registry, { firewalldServices: loadFirewalldServices() });
  const engine = new Engine(modules, registry);
  const folderHosts: FolderHosts[] = [];
  const roots: string[] = [];
  for (const p of paths.length ? paths : ['.']) {
    const abs = toPosix(path.resolve(p));
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      throw new Error(`${p}: no such file or directory`);
    }
    if (st.isDirectory()) {
      roots.push(abs);
      folderHosts.push(readFolderHosts(abs) ?? { folder: abs, hosts: {} });
      for (const f of scanFolder(abs, modules)) {
        if (f.aliasOf) engine.setAlias(f.path, f.aliasOf);
        engine.setFile(f.path, f.text);
      }
    } else {
      const text = readText(abs);
      if (text === undefined) throw new Error(`${p}: not a readable text file`);
      const hint = modules.some((m) => m.matchesPath(abs)) ? undefined : detectFormat(modules, abs, text)?.id;
      engine.setFile(abs, text, hint);
    }
  }
  engine.hosts.setFolders(folderHosts);
  const result = engine.analyze();
  const counts = { errors: 0, warnings: 0, infos: 0, files: result.formatOf.size };
  const cwd = toPosix(process.cwd());
  for (const file of [...result.findingsByFile.keys()].sort()) {
    const index = new LineIndex(engine.text(file) ?? '');
    const shown = path.posix.relative(cwd, file) || file;
    for (const f of result.findingsByFile.get(file)!) {
      const pos = index.position(f.span.start);
      out(`${shown}:${pos.line + 1}:${pos.character + 1} ${f.severity} ${f.code} ${f.message}`);
      if (f.severity === 'error') counts.errors++;
      else if (f.severity === 'warning') counts.warnings++;
      else counts.infos++;
    }
  }
  return counts;
}

function main(argv: string[]): void {
  const [command, ...rest] = argv;
  if (command !== 'check' || rest.some((a) => a === '-h' || a === '--help')) usage();
  try {
    const counts = runCheck(rest, (line) => process.stdout.write(line + '\n'));
    process.stdout.write(`${counts.files} files checked: ${counts.errors} errors, ${counts.warnings} warnings, ${counts.infos} notes\n`);
    process.exitCode = counts.errors > 0 ? 1 : 0;
  } catch (e) {
    process.stderr.write(`portolan: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}

if (require.main === module) main(process.argv.slice(2));
