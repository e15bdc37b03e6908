/**
 * Instance assembly and linking: a root file and everything it includes, in the order the program
 * reads them (`assemble`), and the format's linker over that (`InstanceLinker`, cached per root while
 * the instance is made of the very same parses). Pure.
 */
import type { FileParse, Finding, FormatModule, IncludeRef, InstanceInput, InstanceOutput } from './types';

/** What assembling an instance reads: parses (cached by the engine) and include resolutions. */
export interface AssemblySource {
  parseAs(module: FormatModule, file: string, context?: string): FileParse | undefined;
  resolve(ref: IncludeRef, includingFile: string, rootFile: string): string[];
}

/** Include depth past which assembly stops (an include chain this deep is a loop through links or globs). */
export const MAX_INCLUDE_DEPTH = 32;
/** Files one instance may read; past it the include that would add more is not followed (an Include glob storm). */
export const MAX_INSTANCE_FILES = 2_000;

/**
 * A root file and everything it includes, depth first in the order the program reads them; cycles stop.
 * Bounded: at most MAX_INSTANCE_FILES files and MAX_INCLUDE_DEPTH levels; where a bound stops it, `cut`
 * says so (one entry per bound), and each include that leads back is recorded once.
 */
export function assemble(src: AssemblySource, module: FormatModule, root: FileParse): InstanceInput {
  const files: FileParse[] = [root];
  const edges: InstanceInput['edges'] = [];
  const cycles: InstanceInput['cycles'] = [];
  const cut: NonNullable<InstanceInput['cut']> = [];
  const visited = new Set<string>([root.file]);
  // Files on the current include path: reaching one again is a cycle, reaching another visited file is not.
  const reading = new Set<string>([root.file]);
  const cycled = new Set<IncludeRef>();
  let full = false;
  const walk = (from: FileParse, depth: number) => {
    if (depth > MAX_INCLUDE_DEPTH) {
      if (from.includes.length > 0 && !cut.some((c) => c.bound === 'depth')) cut.push({ from, ref: from.includes[0], bound: 'depth' });
      return;
    }
    for (const ref of from.includes) {
      for (const target of src.resolve(ref, from.file, root.file)) {
        if (full) return;
        if (reading.has(target)) {
          if (!cycled.has(ref)) cycles.push({ from, ref, target });
          cycled.add(ref);
          continue;
        }
        if (visited.has(target)) continue;
        if (files.length >= MAX_INSTANCE_FILES) {
          cut.push({ from, ref, bound: 'files' });
          full = true;
          return;
        }
        visited.add(target);
        const parsed = src.parseAs(module, target, ref.context);
        if (!parsed) continue;
        files.push(parsed);
        edges.push({ from, ref, to: parsed });
        if (ref.shallow) continue;
        reading.add(target);
        walk(parsed, depth + 1);
        reading.delete(target);
      }
    }
  };
  walk(root, 0);
  return cut.length > 0 ? { root, files, edges, cycles, cut } : { root, files, edges, cycles };
}

/** The Information finding on an include a bound stopped (what it reaches is not checked with this instance). */
export function cutFinding(c: NonNullable<InstanceInput['cut']>[number]): Finding {
  const why =
    c.bound === 'files'
      ? `this configuration already reads ${MAX_INSTANCE_FILES.toLocaleString('en')} files`
      : `includes nest more than ${MAX_INCLUDE_DEPTH} deep here`;
  return {
    file: c.from.file,
    span: c.ref.span,
    severity: 'information',
    code: 'syntax',
    message: `Portolan stopped following includes: ${why}, so what this include reaches is not checked as part of it.`,
  };
}

/** Link results per instance root, reused while the instance is made of the very same parses. */
export class InstanceLinker {
  private readonly links = new Map<string, { input: InstanceInput; out: InstanceOutput }>();

  /** `aliases`: link path -> the file it is a symbolic link to; what is read through a link is reported on the target. */
  constructor(private readonly aliases: ReadonlyMap<string, string>) {}

  /** `key`: the instance's `format + \u0000 + root` when the caller has it already. */
  link(module: FormatModule, input: InstanceInput, key = `${module.id}\u0000${input.root.file}`): InstanceOutput {
    const cached = this.links.get(key);
    if (cached && (cached.input === input || sameInstance(cached.input, input))) return cached.out;
    const plain = module.link ? safeLink(module, input) : { facts: input.files.flatMap((f) => f.facts), findings: input.files.flatMap((f) => f.findings) };
    const linked = input.cut ? { ...plain, findings: plain.findings.concat(input.cut.map(cutFinding)) } : plain;
    const out = this.aliases.size > 0 ? this.onTargets(linked) : linked;
    this.links.set(key, { input, out });
    return out;
  }

  /** Drops the link result of instances rooted at `file`. */
  forget(file: string): void {
    for (const key of this.links.keys()) if (key.endsWith(`\u0000${file}`)) this.links.delete(key);
  }

  clear(): void {
    this.links.clear();
  }

  /** Facts and findings read through a link, moved onto the link's target (same text, same offsets). */
  private onTargets(out: InstanceOutput): InstanceOutput {
    const to = (file: string) => this.aliases.get(file) ?? file;
    return {
      ...out,
      facts: out.facts.map((f) => (this.aliases.has(f.file) ? { ...f, file: to(f.file) } : f)),
      findings: out.findings.map((f) =>
        this.aliases.has(f.file) || f.related?.some((r) => this.aliases.has(r.file))
          ? { ...f, file: to(f.file), related: f.related?.map((r) => ({ ...r, file: to(r.file) })) }
          : f,
      ),
    };
  }
}

/** The same files (as the same cached parse objects), reached through the same includes. */
function sameInstance(a: InstanceInput, b: InstanceInput): boolean {
  if (a.files.length !== b.files.length || a.edges.length !== b.edges.length || (a.cycles?.length ?? 0) !== (b.cycles?.length ?? 0)) return false;
  for (let i = 0; i < a.files.length; i++) if (a.files[i] !== b.files[i]) return false;
  for (let i = 0; i < a.edges.length; i++)
    if (a.edges[i].from !== b.edges[i].from || a.edges[i].to !== b.edges[i].to || a.edges[i].ref !== b.edges[i].ref) return false;
  for (let i = 0; i < (a.cycles?.length ?? 0); i++) if (a.cycles![i].target !== b.cycles![i].target || a.cycles![i].ref !== b.cycles![i].ref) return false;
  return true;
}

function safeLink(module: FormatModule, input: InstanceInput): InstanceOutput {
  try {
    return module.link!(input);
  } catch (e) {
    return {
      facts: input.files.flatMap((f) => f.facts),
      findings: [
        ...input.files.flatMap((f) => f.findings),
        {
          file: input.root.file,
          span: { start: 0, end: 0 },
          severity: 'error' as const,
          code: 'syntax' as const,
          message: `Portolan could not combine this ${module.id} configuration (${(e as Error).message}).`,
        },
      ],
    };
  }
}
