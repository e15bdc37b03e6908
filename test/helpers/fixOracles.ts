/** What the fix oracles (test/oracle/*Fixes.test.ts) share: the programs' views of a fixed file, and "nothing new". */
import * as fs from 'fs';
import * as path from 'path';
import { load } from '../../server/src/cli/collect';
import type { Finding } from '../../server/src/core/types';
import { stockUfwRoot } from './firewall';
import { isRoot, requireProgram, run } from './programs';
import { SshdOracle } from './sshd';

/**
 * A folder read as the command line reads it, for judging fixes: its findings, a file's text, and the findings
 * after one file is given a fixed text (set in the engine, analysed, then set back).
 */
export function folderFixView(dir: string): {
  findings: () => Finding[];
  textOf: (file: string) => string;
  reanalyse: (file: string, fixed: string) => Finding[];
} {
  const { engine } = load([dir], dir);
  const findings = () => [...engine.analyze().findingsByFile.values()].flat();
  return {
    findings,
    textOf: (file) => engine.text(file)!,
    reanalyse: (file, fixed) => {
      const original = engine.text(file)!;
      engine.setFile(file, fixed);
      try {
        return findings();
      } finally {
        engine.setFile(file, original);
      }
    },
  };
}

/** Errors and warnings. */
export const serious = (l: Finding[]) => l.filter((f) => f.severity === 'error' || f.severity === 'warning');

/** The errors and warnings of `after` that `before` did not have (by `key`), as "code: message". */
export function newSerious(before: Finding[], after: Finding[], key = (f: Finding) => `${f.code}|${f.file}|${f.message}`): string[] {
  const had = new Set(serious(before).map(key));
  return serious(after)
    .filter((f) => !had.has(key(f)))
    .map((f) => `${f.code}: ${f.message}`);
}

/**
 * ufw over copies of its stock files under a root of its own in `dir`, with these user rules (paths
 * relative to the workspace, etc/ufw/user.rules and user6.rules): what `ufw show added` lists.
 */
export function ufwShowAdded(ufw: string, root: string, files: Record<string, string>): { status: number; out: string } {
  stockUfwRoot(root);
  for (const rel of ['etc/ufw/user.rules', 'etc/ufw/user6.rules']) if (files[rel] !== undefined) fs.writeFileSync(path.join(root, rel), files[rel]);
  const r = run(ufw, [`--rootdir=${root}`, `--datadir=${root}`, 'show', 'added']);
  return { status: r.status, out: r.stdout + r.stderr };
}

/**
 * A firewalld system-config directory `conf` holding the workspace's zones and services (etc/firewalld/...)
 * and a firewalld.conf (the workspace's, or one naming `defaultZone`), as firewall-offline-cmd --system-config reads it.
 */
export function firewalldConfig(conf: string, files: Record<string, string>, defaultZone: string): string {
  fs.mkdirSync(path.join(conf, 'zones'), { recursive: true });
  fs.writeFileSync(path.join(conf, 'firewalld.conf'), files['etc/firewalld/firewalld.conf'] ?? `DefaultZone=${defaultZone}\n`);
  for (const [r, t] of Object.entries(files))
    if (/^etc\/firewalld\/(zones|services)\//.test(r)) {
      fs.mkdirSync(path.dirname(path.join(conf, r.slice('etc/firewalld/'.length))), { recursive: true });
      fs.writeFileSync(path.join(conf, r.slice('etc/firewalld/'.length)), t);
    }
  return conf;
}

/**
 * In a mocha `before`: the firewall programs (ipt, ip6t, nft, ufw, fwd, unshare; `compose` too when
 * asked) and an SshdOracle, or a skip (a failure under CI) without them or without root.
 */
export function requireFirewallPrograms(ctx: Mocha.Context, withCompose = false): { tools: Record<string, string>; sshd: SshdOracle } {
  const tools: Record<string, string> = {};
  for (const [key, names, pkg] of [
    ['ipt', ['iptables-restore'], 'iptables'],
    ['ip6t', ['ip6tables-restore'], 'iptables'],
    ['nft', ['nft', '/usr/sbin/nft'], 'nftables'],
    ['ufw', ['ufw', '/usr/sbin/ufw'], 'ufw'],
    ['fwd', ['firewall-offline-cmd'], 'firewalld'],
    ...(withCompose ? ([['compose', ['docker-compose'], 'docker-compose']] as const) : []),
    ['unshare', ['unshare'], 'util-linux'],
  ] as const)
    tools[key] = requireProgram(ctx, [...names], pkg);
  if (!isRoot()) {
    if (process.env.CI === 'true') throw new Error('the firewall programs need root; CI runs as root');
    console.log('      skipped: the firewall programs need root');
    ctx.skip();
  }
  const sshd = new SshdOracle(
    requireProgram(ctx, ['/usr/sbin/sshd', 'sshd'], 'openssh-server'),
    requireProgram(ctx, ['ssh-keygen'], 'openssh-client'),
    tools.unshare,
  );
  return { tools, sshd };
}
