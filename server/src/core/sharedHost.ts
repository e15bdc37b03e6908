/**
 * Certain evidence that two binds run on one machine. A workspace folder is one host by default, but
 * a repository that keeps many compose projects (or programs) side by side may never run them
 * together. Two binds of a folder's host certainly share a machine when they are one program
 * instance (one sshd, one nginx, one compose project), sit under one mirrored root filesystem (the
 * directory that holds `etc/`, with its `srv/`, `opt/`, `home/`...), or the folder's `.portolan.json`
 * says so (`oneHost`). Every other host (a named host of `portolan.hosts`, a container, a `rootfs/`
 * tree, the directory of a file opened alone) is one machine by definition. Pure.
 */
import * as path from 'path';
import { globSet } from './globSet';
import type { Finding, FindingData, PortFact } from './types';

/** What a workspace folder says about which of its files run together (`.portolan.json`). */
export interface HostSharing {
  /** The workspace folder the host is (absolute POSIX path). */
  folder: string;
  /** `oneHost: true`: everything of the folder runs on one machine. */
  oneHost: boolean;
  /** `oneHost: [[globs], ...]`: the files of each group run on one machine (globs relative to the folder). */
  groups: readonly (readonly string[])[];
  /** `hostPerProject: true`: every project (program instance) runs on a machine of its own. */
  hostPerProject: boolean;
}

/** Directories of a mirrored root filesystem that hold what runs on it, beside `etc/`. */
const ROOT_DIRS = new Set(['etc', 'srv', 'opt', 'home', 'root', 'var', 'usr', 'mnt', 'data']);

/** The judgement over one host's binds. */
export interface SharedHostJudge {
  /** The binds certainly run on one machine. */
  certain(a: PortFact, b: PortFact): boolean;
  /** A conflict without certain evidence is not reported (`hostPerProject`). */
  readonly silent: boolean;
  /** The glob (relative to the folder) that names the project of a bind: its instance's directory, or its root file at the folder's top. */
  unitGlob(f: PortFact): string;
}

const EVERYTHING_SHARED: SharedHostJudge = { certain: () => true, silent: false, unitGlob: (f) => f.file };

/**
 * The judge of a host whose instances read `files`. Without `sharing` (a host that is not a whole
 * workspace folder, or a folder that says `oneHost: true`) everything is shared.
 */
export function sharedHostJudge(sharing: HostSharing | undefined, files: Iterable<string>): SharedHostJudge {
  if (!sharing || sharing.oneHost) return EVERYTHING_SHARED;
  const rel = (file: string) => path.posix.relative(sharing.folder, file);
  const roots = mirroredRoots([...files].map(rel));
  const groups = sharing.groups.map((globs) => globSet(globs).isMatch);
  const unitCache = new Map<string, string>();
  const unitOf = (f: PortFact): string => {
    const root = f.instance ?? f.file;
    const key = `${root}\u0000${f.file}`;
    let unit = unitCache.get(key);
    if (unit === undefined) {
      const mirrored = rootOf(rel(root), roots) ?? rootOf(rel(f.file), roots);
      unit = mirrored !== undefined ? `root\u0000${mirrored}` : `instance\u0000${root}`;
      unitCache.set(key, unit);
    }
    return unit;
  };
  const inGroup = (f: PortFact, isMatch: (p: string) => boolean) => isMatch(rel(f.file)) || (f.instance !== undefined && isMatch(rel(f.instance)));
  return {
    certain: (a, b) => unitOf(a) === unitOf(b) || groups.some((isMatch) => inGroup(a, isMatch) && inGroup(b, isMatch)),
    silent: sharing.hostPerProject,
    unitGlob: (f) => {
      const root = rel(f.instance ?? f.file);
      const dir = path.posix.dirname(root);
      return dir === '.' ? root : `${dir}/**`;
    },
  };
}

/** The directories (relative to the folder, '' for the folder itself) that hold an `etc/` some file is in. */
function mirroredRoots(rels: readonly string[]): Set<string> {
  const roots = new Set<string>();
  for (const r of rels) {
    if (r.startsWith('..')) continue;
    const parts = r.split('/');
    for (let i = 0; i < parts.length - 1; i++) if (parts[i] === 'etc') roots.add(parts.slice(0, i).join('/'));
  }
  return roots;
}

/** The nearest mirrored root a path sits under (in its etc/, srv/, opt/, home/...). */
function rootOf(rel: string, roots: ReadonlySet<string>): string | undefined {
  if (roots.size === 0 || rel.startsWith('..')) return undefined;
  const parts = rel.split('/');
  for (let i = parts.length - 2; i >= 0; i--) {
    if (!ROOT_DIRS.has(parts[i])) continue;
    const root = parts.slice(0, i).join('/');
    if (roots.has(root)) return root;
  }
  return undefined;
}

/** The port-conflict message of a collision without certain evidence that its sides share a machine. */
export const IF_ONE_HOST = 'if-one-host';

type Where = (f: { file: string; span: { start: number } }) => string;

/**
 * The conflicts of a host as certain evidence leaves them: a conflict whose other sides all certainly
 * share the machine stays as it is; against the sides that do, it is judged again without the rest;
 * what is left without evidence becomes one Information per side (none under `hostPerProject`).
 */
export function settleConflicts(
  findings: readonly Finding[],
  binds: readonly PortFact[],
  judge: SharedHostJudge,
  where: Where,
  rejudge: (facts: PortFact[]) => Finding[],
): Finding[] {
  if (judge === EVERYTHING_SHARED) return [...findings];
  const at = new Map<string, PortFact[]>();
  for (const b of binds) {
    const key = `${b.file}\u0000${b.span.start}\u0000${b.span.end}`;
    const list = at.get(key);
    if (list) list.push(b);
    else at.set(key, [b]);
  }
  const factsAt = (s: { file: string; span: { start: number; end: number } }) => at.get(`${s.file}\u0000${s.span.start}\u0000${s.span.end}`) ?? [];
  const out: Finding[] = [];
  for (const finding of findings) {
    const mine = factsAt(finding);
    const others = finding.data?.other ?? [];
    if (mine.length === 0 || others.length === 0) {
      out.push(finding);
      continue;
    }
    const shared = others.filter((o) => factsAt(o).some((f) => judge.certain(mine[0], f)));
    if (shared.length === others.length) {
      out.push(finding);
      continue;
    }
    if (shared.length > 0) {
      const again = rejudge([...mine, ...shared.flatMap(factsAt)]).find(
        (f) => f.file === finding.file && f.span.start === finding.span.start && f.span.end === finding.span.end,
      );
      if (again) {
        out.push(again);
        continue;
      }
    }
    if (judge.silent) continue;
    const apart = others.filter((o) => !shared.includes(o));
    out.push(ifOneHost(finding, mine[0], apart, judge, where, factsAt));
  }
  return out;
}

function ifOneHost(
  finding: Finding,
  fact: PortFact,
  apart: NonNullable<FindingData['other']>,
  judge: SharedHostJudge,
  where: Where,
  factsAt: (s: { file: string; span: { start: number; end: number } }) => PortFact[],
): Finding {
  const port = fact.portEnd !== fact.port ? `${fact.port}-${fact.portEnd}` : String(fact.port);
  const more = apart.length > 1 ? ` and ${apart.length - 1} more` : '';
  const units = [judge.unitGlob(fact)];
  for (const o of apart) for (const f of factsAt(o).slice(0, 1)) if (!units.includes(judge.unitGlob(f))) units.push(judge.unitGlob(f));
  const related = (finding.related ?? []).filter((r) => apart.some((o) => o.file === r.file && o.span.start === r.span.start && o.span.end === r.span.end));
  return {
    file: finding.file,
    span: finding.span,
    severity: 'information',
    code: 'port-conflict',
    messageId: IF_ONE_HOST,
    data: { port: fact.port, portEnd: fact.portEnd, protocol: fact.protocol, program: fact.program, other: apart, units },
    message: `If one host runs both, ${apart[0].program ?? 'a program'} at ${where(apart[0])}${more} also bind${more ? '' : 's'} ${port}/${fact.protocol} (say so in .portolan.json)`,
    related,
  };
}
