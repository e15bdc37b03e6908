/**
 * Outside programs the oracle tests run (nginx, sshd, iptables-restore, ...). Under CI (CI=true),
 * where .ci/run has installed them, a missing program fails the test; elsewhere the test skips and
 * says what to install.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';

export function findProgram(candidates: string[]): string | undefined {
  for (const c of candidates) {
    if (c.startsWith('/')) {
      if (fs.existsSync(c)) return c;
      continue;
    }
    const r = spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

/**
 * Call inside a mocha `before` or test: returns the program's path, or skips (fails under CI)
 * with a message naming the Debian package to install.
 */
export function requireProgram(ctx: Mocha.Context, candidates: string[], debianPackage: string): string {
  const found = findProgram(candidates);
  if (found) return found;
  const msg = `${candidates[0]} not found: install it with 'apt-get install ${debianPackage}' (as root)`;
  if (process.env.CI === 'true') throw new Error(`${msg}; CI must have it (.ci/run installs it)`);
  console.log(`      skipped: ${msg}`);
  ctx.skip();
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Runs a command, returning status and output (never throws). */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; cwd?: string; timeout?: number } = {},
): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, cwd: opts.cwd, timeout: opts.timeout ?? 30000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

export { execFileSync };
