/**
 * The layers of server/src, read from the imports of every file: a layer never imports one above it.
 *
 *   core/       the engine and its vocabulary: imports core only (and node's path); no file system, no LSP
 *   formats/    one folder per format: core, its own folder, formats/systemd/ (systemd's file syntax), formats/netfilter/ (shared by iptables
 *               and ufw) and formats/yaml/ (compose and Kubernetes); formats/index.ts lists them all
 *   rules/      one rule per file: core and rules/ only
 *   workspace/  the file system: core and formats (the data shapes it loads)
 *   features/, cli/, server.ts, cli.ts   the edge: anything
 *   protocol.ts plain message shapes both client and server import: nothing
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const SRC = path.resolve(__dirname, '..', '..', 'server', 'src');

/** Every .ts file under server/src (relative POSIX path) -> the modules it imports (relative imports resolved to paths under src, packages by name). */
function readImports(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts')) {
        const rel = path.relative(SRC, full).split(path.sep).join('/');
        const info = ts.preProcessFile(fs.readFileSync(full, 'utf8'), true, true);
        out.set(
          rel,
          info.importedFiles.map((f) =>
            f.fileName.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(rel), f.fileName)) : `pkg:${f.fileName}`,
          ),
        );
      }
    }
  };
  walk(SRC);
  return out;
}

const LSP = /^pkg:vscode-languageserver/;
const IO = /^pkg:(fs|child_process|net|http|https|os|worker_threads)(\/|$)/;

/** Why `from` may not import `to`, or undefined when it may. */
function forbidden(from: string, to: string): string | undefined {
  const top = (p: string) => p.split('/')[0];
  const formatOf = (p: string) => (p.startsWith('formats/') && p.split('/').length > 2 ? p.split('/')[1] : undefined);
  const isPkg = to.startsWith('pkg:');
  if (from === 'protocol.ts') return isPkg || to !== 'protocol' ? 'protocol.ts imports nothing (the client imports it too)' : undefined;
  if (top(from) === 'core') {
    if (LSP.test(to) || IO.test(to)) return 'core is pure: no LSP, no I/O';
    if (!isPkg && top(to) !== 'core') return 'core imports core only';
  }
  if (top(from) === 'formats') {
    if (LSP.test(to) || IO.test(to)) return 'formats are pure: no LSP, no I/O';
    if (isPkg) return undefined;
    if (top(to) !== 'core' && top(to) !== 'formats') return 'formats import core, formats/netfilter/, formats/systemd/ and formats/yaml/ only';
    const mine = formatOf(from);
    const theirs = formatOf(to);
    if (top(to) === 'formats' && mine !== undefined && theirs !== mine && theirs !== 'netfilter' && theirs !== 'systemd' && theirs !== 'yaml')
      return theirs === undefined ? 'a format does not import formats/index.ts' : `formats/${mine} imports formats/${theirs}`;
  }
  if (top(from) === 'rules') {
    if (isPkg) return 'rules import core only';
    if (top(to) !== 'core' && top(to) !== 'rules') return 'rules import core only';
  }
  if (top(from) === 'workspace') {
    if (LSP.test(to)) return 'workspace has no LSP';
    if (!isPkg && !['core', 'formats', 'workspace'].includes(top(to))) return 'workspace imports core and formats only';
  }
  return undefined;
}

function violations(imports: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [from, list] of imports)
    for (const to of list) {
      const why = forbidden(from, to);
      if (why) out.push(`${from} -> ${to}: ${why}`);
    }
  return out;
}

describe('architecture: no layer imports upward', () => {
  const imports = readImports();

  it('reads the imports of every file (multi-line and type-only imports too)', () => {
    assert.ok(imports.size > 50, `${imports.size}`);
    assert.ok(imports.get('core/engine.ts')!.includes('core/types'));
    assert.ok(imports.get('server.ts')!.includes('pkg:vscode-languageserver/node'));
    assert.ok(imports.get('formats/ufw/index.ts')!.includes('formats/netfilter/restore'));
    assert.ok(imports.get('rules/port-conflict.ts')!.includes('core/conflicts'));
  });

  it('server/src keeps its layers', () => {
    assert.deepStrictEqual(violations(imports), []);
  });

  it('the check finds each kind of upward import', () => {
    const fake = new Map<string, string[]>([
      [
        'core/engine.ts',
        ['formats/index', 'rules/index', 'features/hover', 'workspace/files', 'pkg:vscode-languageserver/node', 'pkg:fs', 'core/types', 'pkg:path'],
      ],
      ['formats/ufw/index.ts', ['formats/iptables/index', 'formats/netfilter/restore', 'formats/ufw/writer', 'core/types', 'rules/index', 'formats/index']],
      ['rules/x.ts', ['core/types', 'formats/nginx/index', 'features/hover', 'rules/rule']],
      ['workspace/files.ts', ['features/hover', 'formats/firewalld/services', 'pkg:fs']],
      ['formats/index.ts', ['formats/sshd/index', 'formats/ufw/index']],
      ['features/hover.ts', ['core/engine', 'rules/index', 'pkg:vscode-languageserver/node']],
      ['protocol.ts', ['core/types']],
    ]);
    assert.deepStrictEqual(
      violations(fake).map((v) => v.split(':')[0]),
      [
        'core/engine.ts -> formats/index',
        'core/engine.ts -> rules/index',
        'core/engine.ts -> features/hover',
        'core/engine.ts -> workspace/files',
        'core/engine.ts -> pkg',
        'core/engine.ts -> pkg',
        'formats/ufw/index.ts -> formats/iptables/index',
        'formats/ufw/index.ts -> rules/index',
        'formats/ufw/index.ts -> formats/index',
        'rules/x.ts -> formats/nginx/index',
        'rules/x.ts -> features/hover',
        'workspace/files.ts -> features/hover',
        'protocol.ts -> core/types',
      ],
    );
  });
});
