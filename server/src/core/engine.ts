/**
 * The analysis engine: the workspace's files in, facts and findings per file out. Pure (the text
 * of every file is handed in by the workspace layer). Parses are cached per (file, text, format,
 * context), so an edit re-parses one file; linking and host rules are recomputed from the cache.
 */
import * as path from 'path';
import { FileIndex, resolveInclude } from './includes';
import type { NamedRange } from './portRanges';
import { DEFAULT_EPHEMERAL_RANGES, parseEphemeralRanges } from './portRanges';
import type { PortRegistry } from './registry';
import type { FileParse, Finding, FirewallFacts, FormatId, FormatModule, IncludeRef, InstanceInput, InstanceOutput, PortFact, Severity } from './types';
import { buildHostModel, type HostInstance, type HostModel, type HostRule, type RuleContext } from './hostModel';
import { HostMap } from './hosts';
import { LineIndex } from './lineIndex';
import { ignoredByComment } from './ignore';

export interface EngineSettings {
  ephemeralRanges: NamedRange[];
  /** Diagnostic codes the user turned off (`portolan.ignore`). */
  ignoreCodes?: string[];
  /** Per-code severity overrides (`portolan.severity`): `{ "ephemeral-port": "information" }`. */
  severity?: Partial<Record<string, Severity>>;
}

export function defaultSettings(): EngineSettings {
  return { ephemeralRanges: parseEphemeralRanges(DEFAULT_EPHEMERAL_RANGES) };
}

interface FileEntry {
  text: string;
  /** Format forced by content detection (an open document whose path says nothing). */
  formatHint?: FormatId;
  /** The module claiming the file by path or hint, computed once per setFile. */
  module?: FormatModule | null;
}

interface CachedParse {
  text: string;
  parse: FileParse;
}

export interface AnalysisResult {
  findingsByFile: Map<string, Finding[]>;
  factsByFile: Map<string, PortFact[]>;
  /** Every fact with its host. */
  facts: { fact: PortFact; host: string }[];
  formatOf: Map<string, FormatId>;
  /** The firewall of every firewall instance (root file), with its host. */
  firewalls: { root: string; host: string; firewall: FirewallFacts }[];
}

export class Engine {
  private readonly files = new Map<string, FileEntry>();
  private readonly index = new FileIndex();
  private readonly parses = new Map<string, CachedParse>();
  /** Link results per instance root, reused while the instance is made of the very same parses. */
  private readonly links = new Map<string, { input: InstanceInput; out: InstanceOutput }>();
  /**
   * The include graph of the last analysis: program instances and which file belongs to which. An
   * edit that keeps a file's includes only re-assembles the instances holding that file.
   */
  private graph?: IncludeGraph;
  private readonly dirty = new Set<string>();
  /** Host models and their rule findings per host, valid while the host's instances keep their link outputs. */
  private hostCache = new Map<string, HostEntry>();
  /** Include resolutions; valid while the set of files is unchanged. */
  private readonly includeCache = new Map<string, string[]>();
  private settings: EngineSettings = defaultSettings();
  readonly hosts = new HostMap();
  private last?: AnalysisResult;
  private lastHostsVersion = -1;

  constructor(
    readonly modules: FormatModule[],
    readonly registry: PortRegistry,
    /** The rules run over every host model (`rules/index.ts: RULES`). */
    readonly rules: readonly HostRule[],
  ) {}

  setSettings(settings: EngineSettings): void {
    this.settings = settings;
    this.hostCache.clear();
    this.last = undefined;
  }

  /** link path -> the file it is a symbolic link to (both in the workspace, same text). */
  private readonly aliases = new Map<string, string>();

  /**
   * Declares `link` a symbolic link to `target` (nginx's sites-enabled/X -> ../sites-available/X).
   * The program reads the link's path, so includes resolve through it; what it finds is reported on
   * the target, the file users edit, and the target is not analysed a second time on its own.
   */
  setAlias(link: string, target: string | undefined): void {
    if (this.aliases.get(link) === target) return;
    if (target === undefined) this.aliases.delete(link);
    else this.aliases.set(link, target);
    this.graph = undefined;
    this.links.clear();
    this.last = undefined;
  }

  setFile(file: string, text: string, formatHint?: FormatId): void {
    // Editing a link's target edits what the link reads.
    for (const [link, target] of this.aliases) if (target === file) this.setFileText(link, text);
    this.setFileText(file, text, formatHint);
  }

  private setFileText(file: string, text: string, formatHint?: FormatId): void {
    const known = this.files.get(file);
    if (known && known.text === text && known.formatHint === formatHint) return;
    if (!known) {
      this.index.add(file);
      this.includeCache.clear();
      this.graph = undefined;
    } else if (known.formatHint !== formatHint) {
      this.graph = undefined;
    }
    this.files.set(file, { text, formatHint });
    this.dirty.add(file);
    this.last = undefined;
  }

  deleteFile(file: string): void {
    if (!this.files.delete(file)) return;
    this.index.remove(file);
    this.includeCache.clear();
    this.lineIndexes.delete(file);
    for (const key of this.parses.keys()) if (key.endsWith(`\u0000${file}`)) this.parses.delete(key);
    for (const key of this.links.keys()) if (key.endsWith(`\u0000${file}`)) this.links.delete(key);
    this.graph = undefined;
    this.last = undefined;
  }

  hasFile(file: string): boolean {
    return this.files.has(file);
  }

  text(file: string): string | undefined {
    return this.files.get(file)?.text;
  }

  fileNames(): string[] {
    return [...this.files.keys()];
  }

  moduleFor(file: string): FormatModule | undefined {
    const entry = this.files.get(file);
    if (!entry) return undefined;
    if (entry.module === undefined) {
      entry.module = (entry.formatHint ? this.modules.find((m) => m.id === entry.formatHint) : this.modules.find((m) => m.matchesPath(file))) ?? null;
    }
    return entry.module ?? undefined;
  }

  private parseAs(module: FormatModule, file: string, context?: string): FileParse | undefined {
    const entry = this.files.get(file);
    if (!entry) return undefined;
    const key = `${module.id}\u0000${context ?? ''}\u0000${file}`;
    const cached = this.parses.get(key);
    if (cached && cached.text === entry.text) return cached.parse;
    const parse = safeParse(module, entry.text, file, context);
    this.parses.set(key, { text: entry.text, parse });
    return parse;
  }

  analyze(): AnalysisResult {
    if (this.last && this.lastHostsVersion === this.hosts.version) return this.last;
    if (this.lastHostsVersion !== this.hosts.version) this.hostCache.clear();
    this.lastHostsVersion = this.hosts.version;
    const graph = this.updateGraph();
    const { formatOf, roots } = graph;
    const instances = [...graph.instances.values()];
    const allFacts: PortFact[] = [];
    const findings: Finding[] = [];
    const firewalls: AnalysisResult['firewalls'] = [];
    // Rules look at one host at a time: a host whose instances all kept their link output keeps its model and findings.
    // An instance joins the host of every fact it gives and the host of its root file (a firewall with no port facts too).
    const instancesByHost = new Map<string, HostInstance[]>();
    for (const { module, input } of instances) {
      // A file included by another root is covered by that root's instance.
      if (!roots.has(`${module.id}\u0000${input.root.file}`)) continue;
      const out = this.linkCached(module, input);
      allFacts.push(...out.facts);
      findings.push(...out.findings);
      const firewall = out.firewall ?? input.root.firewall;
      if (firewall) firewalls.push({ root: input.root.file, host: this.hosts.hostOf(input.root.file), firewall });
      const instance: HostInstance = { format: module.id, root: input.root.file, files: input.files.map((f) => f.file), output: out, firewall };
      const hosts = new Set(out.facts.map((f) => this.hosts.hostOf(f.file)));
      hosts.add(this.hosts.hostOf(input.root.file));
      for (const host of hosts) {
        const list = instancesByHost.get(host);
        if (list) list.push(instance);
        else instancesByHost.set(host, [instance]);
      }
    }
    const facts: { fact: PortFact; host: string }[] = [];
    let checks: ((host: HostModel) => Finding[])[] | undefined;
    const hostCache = new Map<string, HostEntry>();
    for (const [host, list] of instancesByHost) {
      let entry = this.hostCache.get(host);
      if (!entry || entry.model.instances.length !== list.length || entry.model.instances.some((o, i) => o.output !== list[i].output)) {
        checks ??= this.rules.map((rule) => rule.create(this.ruleContext()));
        const model = buildHostModel(host, list, (f) => this.hosts.hostOf(f));
        entry = { model, facts: model.facts.map((fact) => ({ fact, host })), findings: checks.flatMap((check) => check(model)) };
      }
      hostCache.set(host, entry);
      facts.push(...entry.facts);
      findings.push(...entry.findings);
    }
    this.hostCache = hostCache;

    const findingsByFile = new Map<string, Finding[]>();
    const seen = new Set<string>();
    const ignored = new Set(this.settings.ignoreCodes ?? []);
    const hasIgnoreComment = new Map<string, boolean>();
    for (const f of findings) {
      if (ignored.has(f.code)) continue;
      const text = this.files.get(f.file)?.text;
      let marked = hasIgnoreComment.get(f.file);
      if (marked === undefined) hasIgnoreComment.set(f.file, (marked = text?.includes('portolan-ignore') ?? false));
      if (marked && ignoredByComment(text!, this.lineIndex(f.file), f)) continue;
      const key = `${f.file}|${f.span.start}|${f.span.end}|${f.code}|${f.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const list = findingsByFile.get(f.file) ?? [];
      list.push(withSeverity(f, this.settings.severity));
      findingsByFile.set(f.file, list);
    }
    for (const list of findingsByFile.values()) list.sort((a, b) => a.span.start - b.span.start || a.code.localeCompare(b.code));
    const factsByFile = new Map<string, PortFact[]>();
    for (const fact of allFacts) {
      const list = factsByFile.get(fact.file) ?? [];
      list.push(fact);
      factsByFile.set(fact.file, list);
    }
    this.last = { findingsByFile, factsByFile, facts, formatOf, firewalls };
    return this.last;
  }

  private ruleContext(): RuleContext {
    return {
      settings: this.settings,
      registry: this.registry,
      lineOf: (f: string, o: number) => this.lineIndex(f).position(o).line + 1,
      shownPath: (f: string) => this.hosts.shownPath(f),
    };
  }

  /** The model of every host after the last analysis, by host name. Read-only. */
  hostModels(): ReadonlyMap<string, HostModel> {
    this.analyze();
    return new Map([...this.hostCache].map(([host, entry]) => [host, entry.model]));
  }

  /** The model of the host `file` belongs to (undefined when nothing of the workspace runs there). Read-only. */
  hostModelOf(file: string): HostModel | undefined {
    this.analyze();
    return this.hostCache.get(this.hosts.hostOf(file))?.model;
  }

  /** The include graph, updated for the files edited since the last analysis (rebuilt when that is not enough). */
  private updateGraph(): IncludeGraph {
    const dirty = [...this.dirty];
    this.dirty.clear();
    const old = this.graph;
    if (old) {
      const touched = new Set<string>();
      let sameShape = true;
      for (const file of dirty) {
        const module = this.moduleFor(file);
        const before = old.standalone.get(file);
        if (!module && !before && this.files.has(file)) {
          // A file only reached through includes (an nginx snippet): its instances re-assemble,
          // unless its own includes changed, which may change what is a root.
          if (!this.includedKeepsIncludes(old, file)) {
            sameShape = false;
            break;
          }
          for (const root of old.rootsOf.get(file) ?? []) touched.add(root);
          continue;
        }
        if (!module || !before || before.module !== module) {
          sameShape = false;
          break;
        }
        const parse = this.parseAs(module, file)!;
        if (!sameIncludes(before.parse.includes, parse.includes)) {
          sameShape = false;
          break;
        }
        old.standalone.set(file, { module, parse });
        for (const root of old.rootsOf.get(file) ?? []) touched.add(root);
      }
      // The included files of an edited one may have been parsed in a context: they re-parse through assemble.
      if (sameShape) {
        for (const key of touched) {
          const { module, input } = old.instances.get(key)!;
          const fresh = this.assemble(module, old.standalone.get(input.root.file)!.parse);
          old.instances.set(key, { module, input: fresh });
        }
        return old;
      }
    }
    return (this.graph = this.buildGraph());
  }

  private includedKeepsIncludes(graph: IncludeGraph, file: string): boolean {
    for (const key of graph.rootsOf.get(file) ?? []) {
      const { module, input } = graph.instances.get(key)!;
      for (const edge of input.edges) {
        if (edge.to.file !== file) continue;
        const fresh = this.parseAs(module, file, edge.ref.context);
        if (!fresh || !sameIncludes(edge.to.includes, fresh.includes)) return false;
      }
    }
    return true;
  }

  private buildGraph(): IncludeGraph {
    const formatOf = new Map<string, FormatId>();
    const standalone = new Map<string, { module: FormatModule; parse: FileParse }>();
    for (const file of this.files.keys()) {
      const module = this.moduleFor(file);
      if (!module) continue;
      const parse = this.parseAs(module, file);
      if (parse) standalone.set(file, { module, parse });
      formatOf.set(file, module.id);
    }
    // Files reached by an include of the same program are not roots of their own.
    const included = new Set<string>();
    const instances = new Map<string, { module: FormatModule; input: InstanceInput }>();
    const rootsOf = new Map<string, string[]>();
    for (const { module, parse } of standalone.values()) {
      const input = this.assemble(module, parse);
      const key = `${module.id}\u0000${parse.file}`;
      instances.set(key, { module, input });
      for (const f of input.files) {
        if (f !== input.root) {
          included.add(`${module.id}\u0000${f.file}`);
          formatOf.set(f.file, formatOf.get(f.file) ?? module.id);
        }
        const roots = rootsOf.get(f.file);
        if (roots) roots.push(key);
        else rootsOf.set(f.file, [key]);
      }
    }
    // Roots: files nothing includes. Files that only include each other (a cycle with no way in)
    // still count once: one of them becomes the root of the rest.
    const roots = new Set<string>();
    const covered = new Set<string>();
    const accept = (key: string) => {
      roots.add(key);
      const { module, input } = instances.get(key)!;
      for (const f of input.files) covered.add(`${module.id}\u0000${f.file}`);
    };
    // A link's target is read through the link: when a root includes the link, the target is covered.
    for (const [link, target] of this.aliases) {
      for (const key of instances.keys()) {
        const id = key.slice(0, key.indexOf('\u0000'));
        if (!key.endsWith(`\u0000${target}`)) continue;
        // Read through a root's include: the target is covered. Read by nothing: the target alone stands for both.
        if (included.has(`${id}\u0000${link}`)) included.add(key);
        else included.add(`${id}\u0000${link}`);
      }
    }
    for (const key of instances.keys()) if (!included.has(key)) accept(key);
    // A target read through a link that an accepted root includes is covered by that root too.
    for (const [link, target] of this.aliases)
      for (const id of new Set(this.modules.map((m) => m.id))) if (covered.has(`${id}\u0000${link}`)) covered.add(`${id}\u0000${target}`);
    // Prefer the shallowest file (a main config sits above its conf.d), then the name.
    const depth = (key: string) => key.split('/').length;
    const cyclic = [...instances.keys()].filter((k) => included.has(k)).sort((a, b) => depth(a) - depth(b) || a.localeCompare(b));
    for (const key of cyclic) if (!covered.has(key)) accept(key);
    return { formatOf, standalone, instances, roots, rootsOf };
  }

  /** A root file and everything it includes, depth first in the order the program reads them; cycles stop. */
  private assemble(module: FormatModule, root: FileParse): InstanceInput {
    const files: FileParse[] = [root];
    const edges: InstanceInput['edges'] = [];
    const cycles: InstanceInput['cycles'] = [];
    const visited = new Set<string>([root.file]);
    // Files on the current include path: reaching one again is a cycle, reaching another visited file is not.
    const reading = new Set<string>([root.file]);
    const walk = (from: FileParse, depth: number) => {
      if (depth > 32) return;
      for (const ref of from.includes) {
        for (const target of this.resolve(ref, from.file, root.file)) {
          if (reading.has(target)) {
            cycles.push({ from, ref, target });
            continue;
          }
          if (visited.has(target)) continue;
          visited.add(target);
          const parsed = this.parseAs(module, target, ref.context);
          if (!parsed) continue;
          files.push(parsed);
          edges.push({ from, ref, to: parsed });
          reading.add(target);
          walk(parsed, depth + 1);
          reading.delete(target);
        }
      }
    };
    walk(root, 0);
    return { root, files, edges, cycles };
  }

  private readonly lineIndexes = new Map<string, { text: string; index: LineIndex }>();

  /** Line index of a file's current text (cached until the text changes). */
  lineIndex(file: string): LineIndex {
    const text = this.files.get(file)?.text ?? '';
    const cached = this.lineIndexes.get(file);
    if (cached && cached.text === text) return cached.index;
    const index = new LineIndex(text);
    this.lineIndexes.set(file, { text, index });
    return index;
  }

  private linkCached(module: FormatModule, input: InstanceInput): InstanceOutput {
    const key = `${module.id}\u0000${input.root.file}`;
    const cached = this.links.get(key);
    if (cached && sameInstance(cached.input, input)) return cached.out;
    const linked = module.link ? safeLink(module, input) : { facts: input.files.flatMap((f) => f.facts), findings: input.files.flatMap((f) => f.findings) };
    const out = this.aliases.size > 0 ? this.onTargets(linked) : linked;
    this.links.set(key, { input, out });
    return out;
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

  private resolve(ref: IncludeRef, includingFile: string, rootFile: string): string[] {
    const key = `${ref.pattern}\u0000${ref.relativeTo}\u0000${includingFile}\u0000${rootFile}`;
    let targets = this.includeCache.get(key);
    if (!targets) {
      targets = resolveInclude(this.index, ref, { includingFile, rootFile });
      this.includeCache.set(key, targets);
    }
    return targets;
  }

  /**
   * The program instances holding `file` after the last analysis: the root file of each (one sshd,
   * one nginx, one compose project) that reads it, itself included when it is a root. Read-only.
   */
  instancesOf(file: string): string[] {
    this.analyze();
    const graph = this.graph;
    if (!graph) return [];
    const keys = (graph.rootsOf.get(file) ?? []).filter((key) => graph.roots.has(key));
    return [...new Set(keys.map((key) => key.slice(key.indexOf('\u0000') + 1)))].sort();
  }

  /** Facts whose span covers `offset` in `file`. */
  factsAt(file: string, offset: number): PortFact[] {
    const facts = this.analyze().factsByFile.get(file) ?? [];
    return facts.filter((f) => offset >= f.span.start && offset <= f.span.end && f.span.end > f.span.start);
  }

  /**
   * Other uses of the same port and protocol on the host of `fact`: binds, firewall rules and
   * forwards, and upstreams that point at this host (loopback). Container-side ports are not host ports.
   */
  sameHostUses(fact: PortFact): PortFact[] {
    const host = this.hosts.hostOf(fact.file);
    return this.analyze()
      .facts.filter(
        ({ fact: other, host: h }) =>
          h === host && other !== fact && other.protocol === fact.protocol && other.port <= fact.portEnd && other.portEnd >= fact.port,
      )
      .map(({ fact: other }) => other)
      .filter((other) => other.role !== 'container' && (other.role !== 'upstream' || pointsAtThisHost(other.address)))
      .filter((other) => !(other.file === fact.file && other.span.start === fact.span.start && other.span.end === fact.span.end));
  }
}

interface HostEntry {
  model: HostModel;
  facts: { fact: PortFact; host: string }[];
  findings: Finding[];
}

interface IncludeGraph {
  formatOf: Map<string, FormatId>;
  /** Each file that a format claims by path, parsed on its own. */
  standalone: Map<string, { module: FormatModule; parse: FileParse }>;
  /** One per standalone file (module id + path); only those in `roots` are programs of their own. */
  instances: Map<string, { module: FormatModule; input: InstanceInput }>;
  roots: Set<string>;
  /** file -> the instances whose files hold it */
  rootsOf: Map<string, string[]>;
}

function sameIncludes(a: IncludeRef[], b: IncludeRef[]): boolean {
  return a.length === b.length && a.every((r, i) => r.pattern === b[i].pattern && r.relativeTo === b[i].relativeTo && r.context === b[i].context);
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

function pointsAtThisHost(address: string | undefined): boolean {
  if (address === undefined) return true;
  const a = address.toLowerCase();
  return a === 'localhost' || a === '::1' || a.startsWith('127.') || a === '0.0.0.0' || a === '::';
}

function safeParse(module: FormatModule, text: string, file: string, context?: string): FileParse {
  try {
    return module.parse(text, file, context);
  } catch (e) {
    // A parser bug must never take the server down: report it on the file and keep going.
    return {
      format: module.id,
      file,
      facts: [],
      includes: [],
      findings: [
        {
          file,
          span: { start: 0, end: 0 },
          severity: 'error',
          code: 'syntax',
          message: `Portolan could not analyse this file (${module.id} parser failed: ${(e as Error).message}).`,
        },
      ],
    };
  }
}

function safeLink(module: FormatModule, input: InstanceInput) {
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

const SEVERITIES: readonly Severity[] = ['error', 'warning', 'information', 'hint'];

/** The `portolan.severity` setting as written by the user: entries with an unknown severity are dropped. */
export function parseSeverityOverrides(value: unknown): Record<string, Severity> {
  const out: Record<string, Severity> = {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) return out;
  for (const [code, severity] of Object.entries(value)) if (SEVERITIES.includes(severity as Severity)) out[code] = severity as Severity;
  return out;
}

/** A finding with the user's severity for its code (`portolan.severity`), the same object when none applies. */
export function withSeverity(f: Finding, overrides: EngineSettings['severity']): Finding {
  const severity = overrides?.[f.code];
  return severity && severity !== f.severity ? { ...f, severity } : f;
}

export function isUnder(file: string, dir: string): boolean {
  const rel = path.posix.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.posix.isAbsolute(rel);
}

export type { IncludeRef };
