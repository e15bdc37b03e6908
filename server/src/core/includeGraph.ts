/**
 * The include graph: which files are program instances of their own (roots), what each instance
 * reads, and which instances hold which file. Built from every file's standalone parse, and updated
 * in place for an edit that keeps a file's includes (only the instances holding that file
 * re-assemble). Pure.
 */
import { assemble, type AssemblySource } from './instances';
import type { FileParse, FormatId, FormatModule, IncludeRef, InstanceInput } from './types';

export interface IncludeGraph {
  formatOf: Map<string, FormatId>;
  /** Each file that a format claims by path, parsed on its own. */
  standalone: Map<string, { module: FormatModule; parse: FileParse }>;
  /** One per standalone file (module id + path); only those in `roots` are programs of their own. */
  instances: Map<string, { module: FormatModule; input: InstanceInput }>;
  roots: Set<string>;
  /** file -> the instances whose files hold it */
  rootsOf: Map<string, string[]>;
}

/** What the graph is built from: the engine's files, their formats and parses, and symbolic links. */
export interface GraphSource extends AssemblySource {
  readonly modules: readonly FormatModule[];
  /** link path -> the file it is a symbolic link to. */
  readonly aliases: ReadonlyMap<string, string>;
  fileNames(): Iterable<string>;
  hasFile(file: string): boolean;
  moduleFor(file: string): FormatModule | undefined;
}

/**
 * The graph after the edits of `dirty`: `old` updated in place when the edits keep its shape, with
 * `touched`, the instances (keys of `instances`, all roots) the edits re-assembled; else a new graph
 * and no `touched` (every instance may have changed, and the keys and their order with them).
 */
export function updateGraph(src: GraphSource, old: IncludeGraph | undefined, dirty: readonly string[]): { graph: IncludeGraph; touched?: Set<string> } {
  if (old) {
    const touched = touchedInstances(src, old, dirty);
    if (touched) {
      // The included files of an edited one may have been parsed in a context: they re-parse through assemble.
      for (const key of touched) {
        const { module, input } = old.instances.get(key)!;
        const fresh = assemble(src, module, old.standalone.get(input.root.file)!.parse);
        old.instances.set(key, { module, input: fresh });
      }
      return { graph: old, touched };
    }
  }
  return { graph: buildGraph(src) };
}

/** The instances the edited files touch, or undefined when an edit changes the shape of the graph (includes, formats, roots). */
function touchedInstances(src: GraphSource, old: IncludeGraph, dirty: readonly string[]): Set<string> | undefined {
  const touched = new Set<string>();
  for (const file of dirty) {
    const module = src.moduleFor(file);
    const before = old.standalone.get(file);
    if (!module && !before && src.hasFile(file)) {
      // A file only reached through includes (an nginx snippet): its instances re-assemble,
      // unless its own includes changed, which may change what is a root.
      if (!includedKeepsIncludes(src, old, file)) return undefined;
      for (const root of old.rootsOf.get(file) ?? []) touched.add(root);
      continue;
    }
    if (!module || !before || before.module !== module) return undefined;
    const parse = src.parseAs(module, file)!;
    if (!sameIncludes(before.parse.includes, parse.includes)) return undefined;
    old.standalone.set(file, { module, parse });
    for (const root of old.rootsOf.get(file) ?? []) touched.add(root);
  }
  return touched;
}

function includedKeepsIncludes(src: GraphSource, graph: IncludeGraph, file: string): boolean {
  for (const key of graph.rootsOf.get(file) ?? []) {
    const { module, input } = graph.instances.get(key)!;
    for (const edge of input.edges) {
      if (edge.to.file !== file) continue;
      const fresh = src.parseAs(module, file, edge.ref.context);
      if (!fresh || !sameIncludes(edge.to.includes, fresh.includes)) return false;
    }
  }
  return true;
}

export function buildGraph(src: GraphSource): IncludeGraph {
  const formatOf = new Map<string, FormatId>();
  const standalone = new Map<string, { module: FormatModule; parse: FileParse }>();
  for (const file of src.fileNames()) {
    const module = src.moduleFor(file);
    if (!module) continue;
    const parse = src.parseAs(module, file);
    if (parse) standalone.set(file, { module, parse });
    formatOf.set(file, module.id);
  }
  const keyOf = (id: string, file: string) => `${id}\u0000${file}`;
  // Files an include of another file of the same program reaches are not roots of their own. Only
  // the files nothing includes directly are assembled first (an Include glob over 5,000 files that
  // each include it is not 5,000 instances of 5,000 files): what they reach through includes is covered.
  const included = directlyIncluded(src, standalone.values());
  const instances = new Map<string, { module: FormatModule; input: InstanceInput }>();
  const rootsOf = new Map<string, string[]>();
  const add = (module: FormatModule, parse: FileParse) => {
    const input = assemble(src, module, parse);
    const key = keyOf(module.id, parse.file);
    instances.set(key, { module, input });
    // A file read only through `shallow` includes is context (a Kubernetes manifest's siblings): it takes no format from them.
    for (const e of input.edges) if (!e.ref.shallow && e.to !== input.root) formatOf.set(e.to.file, formatOf.get(e.to.file) ?? module.id);
    return input;
  };
  for (const { module, parse } of standalone.values()) {
    if (included.has(keyOf(module.id, parse.file))) continue;
    const input = add(module, parse);
    for (const f of reachedAsPart(input)) included.add(keyOf(module.id, f));
  }
  const roots = chooseRoots(src, standalone, instances, included, add);
  for (const key of [...instances.keys()]) if (!roots.has(key)) instances.delete(key);
  for (const key of roots) {
    for (const f of instances.get(key)!.input.files) {
      const list = rootsOf.get(f.file);
      if (list) list.push(key);
      else rootsOf.set(f.file, [key]);
    }
  }
  return { formatOf, standalone, instances, roots, rootsOf };
}

/** The files an instance reads as parts of it: not its root, nor a file it reaches only through a `keepsRoot` include. */
function reachedAsPart(input: InstanceInput): string[] {
  const part = new Set<string>();
  for (const e of input.edges) if (!e.ref.keepsRoot && e.to !== input.root) part.add(e.to.file);
  return [...part];
}

/** `format + file` of every file a standalone file's own includes reach (each shared resolution read once). */
function directlyIncluded(src: GraphSource, standalone: Iterable<{ module: FormatModule; parse: FileParse }>): Set<string> {
  const included = new Set<string>();
  // Per format, each resolution (the engine shares one per pattern and directory) with the first file that made it.
  const seen = new Map<string, Map<readonly string[], { first: string; targets: Set<string> }>>();
  for (const { module, parse } of standalone) {
    let done = seen.get(module.id);
    if (!done) seen.set(module.id, (done = new Map()));
    const mark = (file: string) => included.add(`${module.id}\u0000${file}`);
    for (const ref of parse.includes) {
      if (ref.keepsRoot) continue;
      const targets = src.resolve(ref, parse.file, parse.file);
      const before = done.get(targets);
      if (before) {
        // Every target but the first file is marked already; this file reaches the first, and the first this one.
        if (before.first !== parse.file && before.targets.has(before.first)) mark(before.first);
        if (before.first !== parse.file && before.targets.has(parse.file)) mark(parse.file);
        continue;
      }
      done.set(targets, { first: parse.file, targets: new Set(targets) });
      for (const t of targets) if (t !== parse.file) mark(t);
    }
  }
  return included;
}

/**
 * Roots: files nothing includes. Files that only include each other (a cycle with no way in)
 * still count once: one of them becomes the root of the rest (assembled only then).
 */
function chooseRoots(
  src: GraphSource,
  standalone: IncludeGraph['standalone'],
  instances: IncludeGraph['instances'],
  included: Set<string>,
  add: (module: FormatModule, parse: FileParse) => InstanceInput,
): Set<string> {
  const roots = new Set<string>();
  const covered = new Set<string>();
  const accept = (key: string) => {
    roots.add(key);
    const { module, input } = instances.get(key)!;
    for (const f of input.files) covered.add(`${module.id}\u0000${f.file}`);
  };
  const standaloneKeys = [...standalone.values()].map(({ module, parse }) => `${module.id}\u0000${parse.file}`);
  // A link's target is read through the link: when a root includes the link, the target is covered.
  for (const [link, target] of src.aliases) {
    for (const key of standaloneKeys) {
      const id = key.slice(0, key.indexOf('\u0000'));
      if (!key.endsWith(`\u0000${target}`)) continue;
      // Read through a root's include: the target is covered. Read by nothing: the target alone stands for both.
      if (included.has(`${id}\u0000${link}`)) included.add(key);
      else included.add(`${id}\u0000${link}`);
    }
  }
  for (const key of instances.keys()) if (!included.has(key)) accept(key);
  // A target read through a link that an accepted root includes is covered by that root too.
  const ids = new Set(src.modules.map((m) => m.id));
  const coverLinks = () => {
    for (const [link, target] of src.aliases) for (const id of ids) if (covered.has(`${id}\u0000${link}`)) covered.add(`${id}\u0000${target}`);
  };
  coverLinks();
  // Prefer the shallowest file (a main config sits above its conf.d), then the name. Only the included files no
  // root covers yet can be left (covered only grows): usually none of thousands.
  const cyclic = standaloneKeys
    .filter((k) => included.has(k) && !covered.has(k))
    .map((key) => ({ key, depth: key.split('/').length }))
    .sort((a, b) => a.depth - b.depth || a.key.localeCompare(b.key))
    .map((k) => k.key);
  // Once a bound stopped an instance, the files it did not reach are read alone: each new root would
  // otherwise read the same first files again (an Include glob storm: thousands of roots of 2,000 files).
  let bounded = [...roots].some((key) => instances.get(key)!.input.cut?.some((c) => c.bound === 'files'));
  for (const key of cyclic) {
    if (covered.has(key)) continue;
    const { module, parse } = standalone.get(key.slice(key.indexOf('\u0000') + 1))!;
    if (bounded) instances.set(key, { module, input: { root: parse, files: [parse], edges: [], cycles: [] } });
    else if (!instances.has(key)) add(module, parse);
    bounded ||= instances.get(key)!.input.cut?.some((c) => c.bound === 'files') ?? false;
    accept(key);
    coverLinks();
  }
  return roots;
}

export function sameIncludes(a: readonly IncludeRef[], b: readonly IncludeRef[]): boolean {
  return a.length === b.length && a.every((r, i) => r.pattern === b[i].pattern && r.relativeTo === b[i].relativeTo && r.context === b[i].context);
}
