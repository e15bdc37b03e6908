/**
 * The analysis engine: the workspace's files in, facts and findings per file out. Pure (the text
 * of every file is handed in by the workspace layer). Parses are cached per (file, text, format,
 * context), so an edit re-parses one file; linking and host rules are recomputed from the cache.
 */
import * as path from 'path';
import { FindingCollector } from './findings';
import { HostAnalysis } from './hostAnalysis';
import type { HostInstance, HostModel, HostRule, RuleContext } from './hostModel';
import { HostMap, type ContainerMount } from './hosts';
import { sameIncludes, updateGraph, type GraphSource, type IncludeGraph } from './includeGraph';
import { FileIndex, resolveInclude } from './includes';
import { assemble, InstanceLinker } from './instances';
import { Placement, type MainsSource } from './mainConfigs';
import { LineIndex } from './lineIndex';
import { templateMarkup, templateParse } from './templates';
import { PORTOLAN_JSON, portolanJsonFindings, readPortolanJson } from './portolanJson';
import { encodingFinding, textForReader, type FileEncoding } from './encoding';
import { noteParse, tooLarge, unreadParse, type UnreadReason } from './unread';
import { drain } from './steps';
import type { NamedRange } from './portRanges';
import { DEFAULT_EPHEMERAL_RANGES, parseEphemeralRanges } from './portRanges';
import type { PortRegistry } from './registry';
import type {
  FileParse,
  Finding,
  FirewallFacts,
  FormatId,
  FormatModule,
  IncludeRef,
  InstanceInput,
  InstanceOutput,
  ParseSteps,
  PortFact,
  Severity,
} from './types';

export { parseSeverityOverrides, withSeverity } from './findings';

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
  /** Why a format claimed (or did not claim) the file by its content (`FormatModule.claimByContent`). */
  why?: string;
  /** The version of the file's directory (`Engine.dirVersions`) `module` was chosen at, when its siblings mattered. */
  dirVersion?: number;
  /** The workspace did not read the file (too large, not text): one note, no parse. */
  unread?: UnreadReason;
}

interface CachedParse {
  text: string;
  unread?: UnreadReason;
  encoding?: FileEncoding;
  parse: FileParse;
}

export interface AnalysisResult {
  /** The findings of each file; a file whose findings did not change since the last analysis keeps the same array. Read-only. */
  findingsByFile: ReadonlyMap<string, readonly Finding[]>;
  /** The facts of each file, as its host's model holds them (a file's list is made on first use). */
  factsByFile: ReadonlyMap<string, PortFact[]>;
  /** Every fact with its host (made on first use). */
  readonly facts: { fact: PortFact; host: string }[];
  formatOf: Map<string, FormatId>;
  /** The firewall of every firewall instance (root file), with its host. */
  firewalls: { root: string; host: string; firewall: FirewallFacts }[];
  /** This analysis among the engine's analyses (counted from 1). */
  readonly generation: number;
  /**
   * After an analysis that redid only what an edit touched: the files whose findings or text may differ
   * from those of analysis `since` (the one before); every other file's findings array is the same.
   * Undefined after an analysis from scratch.
   */
  changes?: { since: number; files: ReadonlySet<string> };
}

export class Engine {
  private readonly files = new Map<string, FileEntry>();
  /** How the workspace found each file encoded on disk, when not plain UTF-8 (core/encoding.ts). */
  private readonly encodings = new Map<string, FileEncoding>();
  private readonly index = new FileIndex();
  /** Per directory, how many times a file was added to it or deleted from it: a choice of format by siblings is redone after one. */
  private readonly dirVersions = new Map<string, number>();
  private parses = new Map<string, CachedParse>();
  /** link path -> the file it is a symbolic link to (both in the workspace, same text). */
  private readonly aliases = new Map<string, string>();
  private readonly linker = new InstanceLinker(this.aliases);
  /** The HostInstance of each link output, and the files its compose services mount. */
  private readonly hostInstances = new WeakMap<InstanceOutput, HostInstance>();
  private readonly mountsOf = new WeakMap<HostInstance, ContainerMount[]>();
  /**
   * The include graph of the last analysis: program instances and which file belongs to which. An
   * edit that keeps a file's includes only re-assembles the instances holding that file.
   */
  private graph?: IncludeGraph;
  private readonly dirty = new Set<string>();
  /** Host models and their rule findings per host, valid while the host's instances keep their link outputs. */
  private readonly hostAnalysis: HostAnalysis;
  /** Findings collected per file, kept for the files whose findings an edit did not change. */
  private readonly collector = new FindingCollector();
  /** Where the instances run (stock main configs, inactive roots), kept between analyses. */
  private readonly placement = new Placement();
  /** The linked root instances of the last analysis, by position (the graph's order of roots). */
  private readonly ran: LinkedRoots = { positions: new Map(), linked: [], mountsAt: [], firewalls: [] };
  /** The next analysis is made from scratch (the settings changed). */
  private stale = true;
  /** Include resolutions; valid while the set of files is unchanged. */
  private readonly includeCache = new Map<string, string[]>();
  private settings: EngineSettings = defaultSettings();
  readonly hosts = new HostMap();
  private last?: AnalysisResult;
  /** The last analysis made, kept while the next is made in steps (`analyzeSteps`). */
  private previous?: AnalysisResult;
  /** An analysis in steps is paused (`analyzeSteps`). */
  private running = false;
  /** Changes of files, settings and links made while an analysis in steps is paused: made after it. */
  private waiting: (() => void)[] = [];
  /** How many analyses were made (`AnalysisResult.generation` of the last one). */
  private generation = 0;
  private lastHostsVersion = -1;
  /** What the include graph reads: this engine's files, parses and links. */
  private readonly graphSource: GraphSource;
  /** Root of a fragment instance -> the stock main config that loads it (core/mainConfigs.ts), after the last analysis. */
  private implicitOf = new Map<string, string>();
  /** The stock main configs' root parses, kept while they include the same files. */
  private readonly stockRoots = new Map<string, FileParse>();
  /** Bumped when a file is added or removed (what `.portolan.json` findings read besides its text). */
  private filesVersion = 0;
  /** Each folder's `.portolan.json` findings, kept while its text and the set of files are the same. */
  private readonly configCache = new Map<string, { text: string; filesVersion: number; findings: Finding[] }>();

  constructor(
    readonly modules: FormatModule[],
    readonly registry: PortRegistry,
    /** The rules run over every host model (`rules/index.ts: RULES`). */
    readonly rules: readonly HostRule[],
  ) {
    this.hostAnalysis = new HostAnalysis(rules);
    this.graphSource = {
      modules,
      aliases: this.aliases,
      fileNames: () => this.files.keys(),
      hasFile: (file) => this.files.has(file),
      moduleFor: (file) => this.moduleFor(file),
      parseAs: (module, file, context) => this.parseAs(module, file, context),
      resolve: (ref, includingFile, rootFile) => this.resolve(ref, includingFile, rootFile),
    };
  }

  setSettings(settings: EngineSettings): void {
    if (this.running) return this.whenIdle(() => this.setSettings(settings));
    this.settings = settings;
    this.hostAnalysis.clear();
    this.collector.clear();
    this.stale = true;
    this.last = undefined;
  }

  /**
   * A new engine over some of this one's files (the same settings, folders, links and parse cache):
   * the server analyses the open documents' hosts on their own first on a cold start.
   */
  scoped(files: Iterable<string>): Engine {
    const scoped = new Engine(this.modules, this.registry, this.rules);
    scoped.setSettings(this.settings);
    scoped.hosts.copyFolders(this.hosts);
    for (const [link, target] of this.aliases) scoped.aliases.set(link, target);
    scoped.parses = this.parses;
    for (const file of files) {
      const entry = this.files.get(file);
      if (entry) scoped.setFileText(file, entry.text, entry.formatHint);
    }
    return scoped;
  }

  /**
   * Declares `link` a symbolic link to `target` (nginx's sites-enabled/X -> ../sites-available/X).
   * The program reads the link's path, so includes resolve through it; what it finds is reported on
   * the target, the file users edit, and the target is not analysed a second time on its own.
   */
  setAlias(link: string, target: string | undefined): void {
    if (this.running) return this.whenIdle(() => this.setAlias(link, target));
    if (this.aliases.get(link) === target) return;
    if (target === undefined) this.aliases.delete(link);
    else this.aliases.set(link, target);
    this.graph = undefined;
    this.linker.clear();
    this.last = undefined;
  }

  setFile(file: string, text: string, formatHint?: FormatId): void {
    if (this.running) return this.whenIdle(() => this.setFile(file, text, formatHint));
    // Editing a link's target edits what the link reads.
    for (const [link, target] of this.aliases) if (target === file) this.setFileText(link, text);
    this.setFileText(file, text, formatHint);
  }

  /**
   * A file of the workspace that was not read (over the size limit, not a text file): it takes part
   * as a file without text, and a format that claims or includes it reports one note on it.
   */
  setUnread(file: string, reason: UnreadReason): void {
    if (this.running) return this.whenIdle(() => this.setUnread(file, reason));
    const known = this.files.get(file);
    if (known?.unread && JSON.stringify(known.unread) === JSON.stringify(reason)) return;
    this.setFileText(file, '', undefined, reason);
  }

  /**
   * How the file is encoded on disk when not plain UTF-8 (a byte-order mark, UTF-16), from the
   * workspace layer: an editor hands over the text without its mark. Kept across edits of the text.
   */
  setEncoding(file: string, encoding: FileEncoding | undefined): void {
    if (this.running) return this.whenIdle(() => this.setEncoding(file, encoding));
    if (this.encodings.get(file) === encoding) return;
    if (encoding) this.encodings.set(file, encoding);
    else this.encodings.delete(file);
    if (!this.files.has(file)) return;
    this.dirty.add(file);
    this.last = undefined;
  }

  private setFileText(file: string, text: string, formatHint?: FormatId, unread?: UnreadReason): void {
    const known = this.files.get(file);
    if (known && known.text === text && known.formatHint === formatHint && !known.unread && !unread) return;
    if (!known) {
      this.bumpDir(file);
      this.filesVersion++;
      this.index.add(file);
      this.includeCache.clear();
      this.graph = undefined;
    } else if (known.formatHint !== formatHint) {
      this.graph = undefined;
    }
    this.files.set(file, { text, formatHint, unread });
    this.dirty.add(file);
    this.last = undefined;
  }

  deleteFile(file: string): void {
    if (this.running) return this.whenIdle(() => this.deleteFile(file));
    this.encodings.delete(file);
    if (!this.files.delete(file)) return;
    this.bumpDir(file);
    this.filesVersion++;
    this.index.remove(file);
    this.includeCache.clear();
    this.lineIndexes.delete(file);
    for (const key of this.parses.keys()) if (key.endsWith(`\u0000${file}`)) this.parses.delete(key);
    this.linker.forget(file);
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

  /** How many files the engine holds (without listing them). */
  fileCount(): number {
    return this.files.size;
  }

  private bumpDir(file: string): void {
    const dir = path.posix.dirname(file);
    this.dirVersions.set(dir, (this.dirVersions.get(dir) ?? 0) + 1);
  }

  moduleFor(file: string): FormatModule | undefined {
    const entry = this.files.get(file);
    if (!entry) return undefined;
    const dir = path.posix.dirname(file);
    if (entry.dirVersion !== undefined && entry.dirVersion !== (this.dirVersions.get(dir) ?? 0)) entry.module = undefined;
    if (entry.module === undefined) {
      // By the path inside the workspace folder: a folder above it named "nginx" says nothing about the file.
      const inFolder = this.hosts.shownPath(file);
      entry.why = undefined;
      entry.dirVersion = undefined;
      if (entry.formatHint) entry.module = this.modules.find((m) => m.id === entry.formatHint) ?? null;
      else entry.module = this.modules.find((m) => m.matchesPath(inFolder)) ?? byContent(this.modules, inFolder, entry.text) ?? null;
      if (!entry.module && !entry.formatHint) {
        const beside = (name: string) => this.files.has(`${dir}/${name}`);
        // The answer may depend on the directory's other files: asked again once one is added or deleted.
        entry.dirVersion = this.dirVersions.get(dir) ?? 0;
        for (const m of this.modules) {
          const claim = m.claimByContent?.(inFolder, entry.text, beside);
          if (!claim) continue;
          entry.why = claim.why;
          if (claim.claim) {
            entry.module = m;
            break;
          }
        }
      }
    }
    return entry.module ?? undefined;
  }

  private parseAs(module: FormatModule, file: string, context?: string): FileParse | undefined {
    const entry = this.files.get(file);
    if (!entry) return undefined;
    const key = `${module.id}\u0000${context ?? ''}\u0000${file}`;
    const cached = this.parses.get(key);
    const encoding = this.encodings.get(file);
    if (cached && cached.text === entry.text && cached.unread === entry.unread && cached.encoding === encoding) return cached.parse;
    const parse = fileParse(module, entry.text, file, context, encoding, entry.unread);
    this.parses.set(key, { text: entry.text, unread: entry.unread, encoding, parse });
    return parse;
  }

  // Parses made elsewhere: the server parses a big opened document off the main thread (server/src/offThread.ts).

  /**
   * The parses `file` needs with `text`, which `fileParse` makes from the text alone: its format by path or
   * hint, in each include context it is parsed in now (none yet: as a root). Empty when its format is found
   * by content, or the text is over the size limit (a note costs nothing).
   */
  parsesWanted(file: string, text: string, formatHint?: FormatId): { format: FormatId; context?: string; encoding?: FileEncoding }[] {
    if (tooLarge(text)) return [];
    const inFolder = this.hosts.shownPath(file);
    const module = formatHint ? this.modules.find((m) => m.id === formatHint) : this.modules.find((m) => m.matchesPath(inFolder));
    if (!module) return [];
    const contexts = new Set<string | undefined>();
    const prefix = `${module.id}\u0000`;
    for (const key of this.parses.keys())
      if (key.startsWith(prefix) && key.endsWith(`\u0000${file}`)) contexts.add(key.slice(prefix.length, -file.length - 1) || undefined);
    if (contexts.size === 0) contexts.add(undefined);
    const encoding = this.encodings.get(file);
    return [...contexts].map((context) => ({ format: module.id, context, encoding }));
  }

  /** A parse of `file` with `text` made elsewhere (`fileParse` on what `parsesWanted` said): used once `setFile(file, text)` makes the text current. */
  adoptParse(file: string, text: string, wanted: { format: FormatId; context?: string; encoding?: FileEncoding }, parse: FileParse): void {
    if (this.running) return this.whenIdle(() => this.adoptParse(file, text, wanted, parse));
    this.parses.set(`${wanted.format}\u0000${wanted.context ?? ''}\u0000${file}`, { text, unread: undefined, encoding: wanted.encoding, parse });
  }

  /**
   * Include graph -> linked instances -> host models and rules -> findings by file. Cached until a
   * file, a setting or the hosts change. After an edit that keeps the graph's shape, only what the
   * edit touched is done again: the instances it re-assembled are linked and placed again, the hosts
   * they join or leave get new models, and the files whose findings changed are collected again; the
   * result is the one a fresh engine gives (test/unit/incrementalFresh.test.ts).
   */
  analyze(): AnalysisResult {
    // Asked in a pause of an analysis in steps (a request the server answers meanwhile): the one before.
    if (this.running) return this.previous ?? this.last ?? this.emptyResult();
    return drain(this.analyzeSteps());
  }

  /**
   * `analyze` in steps: a pause after the parses, after each instance linked, after each host and each
   * rule (core/steps.ts). The server runs it in time slices when a big document changed. In a pause,
   * `analyze()` gives the analysis before, each host's model is the one before or the new one, and the
   * files, settings and links stay as they were: a change waits (`whenIdle`) until `applyWaiting()`,
   * which the server calls once it has published this analysis, and the next analysis begins with.
   */
  *analyzeSteps(): Generator<void, AnalysisResult, void> {
    if (this.running) throw new Error('an analysis is already running');
    this.applyWaiting();
    if (this.last && this.lastHostsVersion === this.hosts.version) return this.last;
    this.running = true;
    try {
      return (this.previous = yield* this.runAnalysis());
    } finally {
      this.running = false;
    }
  }

  /** Runs `change` now, or after the analysis in steps that is paused (in the order asked). */
  whenIdle(change: () => void): void {
    if (this.running) this.waiting.push(change);
    else change();
  }

  /** Makes the changes that waited for an analysis in steps; true when there were some. */
  applyWaiting(): boolean {
    if (this.running || this.waiting.length === 0) return false;
    const changes = this.waiting;
    this.waiting = [];
    for (const change of changes) change();
    return true;
  }

  private emptyResult(): AnalysisResult {
    return this.result(new Map(), new Map(), []);
  }

  private *runAnalysis(): Generator<void, AnalysisResult, void> {
    let full = this.stale;
    if (this.lastHostsVersion !== this.hosts.version) {
      this.hostAnalysis.clear();
      full = true;
      // Formats are recognised from the path inside the workspace folder, which the folders decide.
      if (this.lastHostsVersion !== -1) {
        for (const entry of this.files.values()) entry.module = undefined;
        this.graph = undefined;
      }
    }
    this.stale = false;
    this.lastHostsVersion = this.hosts.version;
    const dirty = [...this.dirty];
    this.dirty.clear();
    const { graph, touched } = updateGraph(this.graphSource, this.graph, dirty);
    this.graph = graph;
    for (const file of dirty) this.collector.markFile(file);
    yield;
    const ran = this.ran;
    // 1. Linking: every root of a new graph, else the instances the edit re-assembled.
    let changed: number[];
    let firewallsChanged = false;
    if (full || !touched) {
      ran.positions.clear();
      ran.linked = [];
      for (const [key, { module, input }] of graph.instances) {
        if (!graph.roots.has(key)) continue;
        ran.positions.set(key, ran.linked.length);
        ran.linked.push(this.linkRoot(key, module, input));
        yield;
      }
      changed = ran.linked.map((_, pos) => pos);
      full = true;
    } else {
      changed = [];
      for (const key of touched) {
        const pos = ran.positions.get(key)!;
        const { module, input } = graph.instances.get(key)!;
        const instance = this.linkRoot(key, module, input);
        yield;
        const before = ran.linked[pos];
        if (instance === before) continue;
        firewallsChanged ||= instance.firewall !== before.firewall;
        ran.linked[pos] = instance;
        changed.push(pos);
      }
      changed.sort((a, b) => a - b);
    }
    // 2. The files compose services mount are on their containers' hosts: when they change, every host is placed again.
    const mountsChanged =
      full || changed.some((pos) => ran.linked[pos].format === 'compose' && !sameMounts(ran.mountsAt[pos] ?? [], this.mounts(ran.linked[pos])));
    if (mountsChanged) {
      ran.mountsAt = ran.linked.map((instance) => (instance.format === 'compose' ? this.mounts(instance) : undefined));
      const all: ContainerMount[] = [];
      for (const own of ran.mountsAt) if (own) for (const m of own) all.push(m);
      if (this.hosts.setContainers(all)) {
        this.hostAnalysis.clear();
        changed = ran.linked.map((_, pos) => pos);
        full = true;
      }
    }
    if (full) {
      this.placement.reset();
      this.hostAnalysis.reset();
      this.collector.resetSegments();
    }
    if (full || firewallsChanged) {
      ran.firewalls = [];
      for (const instance of ran.linked)
        if (instance.firewall) ran.firewalls.push({ root: instance.root, host: this.hosts.hostOf(instance.root), firewall: instance.firewall });
    }
    // 3. Which program runs on each host: fragments under a stock main config, files no main config loads inactive.
    const placedChanged = this.placement.update(ran.linked, changed, this.mainsSource(graph));
    const placed = this.placement.placed;
    this.implicitOf = this.placement.implicitOf;
    // 4. The hosts those instances join or leave: their models and rule findings.
    const hostChanges = yield* this.hostAnalysis.updateSteps(
      placed,
      placedChanged,
      (f) => this.hosts.hostOf(f),
      () => this.ruleContext(),
      (host) => this.hosts.sharingOf(host),
    );
    // 5. Findings in the order of one pass: every instance's, then every host's, then each folder's `.portolan.json`'s.
    for (const pos of placedChanged) this.collector.setSegment(`i${pos}`, [0, pos, 0], placed[pos]?.output.findings ?? NO_FINDINGS);
    for (const { host, entry, key } of hostChanges) this.collector.setSegment(`h${host}`, [1, key[0], key[1]], entry?.findings ?? NO_FINDINGS);
    this.configFindings().forEach((findings, i) => this.collector.setSegment(`c${i}`, [2, i, 0], findings));
    const findingsByFile = this.collector.collect({
      ignoreCodes: this.settings.ignoreCodes,
      severity: this.settings.severity,
      textOf: (file) => this.files.get(file)?.text,
      lineIndex: (file) => this.lineIndex(file),
    });
    this.lastHostsVersion = this.hosts.version;
    const since = this.generation++;
    this.last = this.result(findingsByFile, graph.formatOf, ran.firewalls);
    if (!full && since > 0) this.last.changes = { since, files: this.collector.recollected };
    return this.last;
  }

  /** The linked output of one root instance of the graph, as the HostInstance it was last time when the output is the same. */
  private linkRoot(key: string, module: FormatModule, input: InstanceInput): HostInstance {
    const output = this.linker.link(module, input, key);
    // An instance that kept its link output is the same HostInstance (host analysis compares them).
    let instance = this.hostInstances.get(output);
    if (!instance || instance.root !== input.root.file || instance.format !== module.id) {
      const firewall = output.firewall ?? input.root.firewall;
      const files = input.files.map((f) => f.file).filter((f) => !output.unread?.includes(f));
      instance = { format: module.id, root: input.root.file, files, output, firewall };
      this.hostInstances.set(output, instance);
    }
    return instance;
  }

  /** The workspace files a compose instance's services mount (cached while its link output is the same). */
  private mounts(instance: HostInstance): ContainerMount[] {
    let own = this.mountsOf.get(instance);
    if (!own) this.mountsOf.set(instance, (own = containerMounts(instance)));
    return own;
  }

  /** The facts as their host models hold them (socket activation marks some binds inactive there), by file and all together on first use. */
  private result(
    findingsByFile: AnalysisResult['findingsByFile'],
    formatOf: AnalysisResult['formatOf'],
    firewalls: AnalysisResult['firewalls'],
  ): AnalysisResult {
    let all: AnalysisResult['facts'] | undefined;
    const facts = () => {
      if (!all) {
        all = [];
        for (const entry of this.hostAnalysis.entries()) for (const f of entry.facts) all.push(f);
      }
      return all;
    };
    const analysis = this.hostAnalysis;
    const hostMap = this.hosts;
    return {
      findingsByFile,
      factsByFile: new FactsByFile((file) => analysis.factsOf(hostMap.hostOf(file), file), facts),
      get facts() {
        return facts();
      },
      formatOf,
      firewalls,
      generation: this.generation,
    };
  }

  /** The mistakes of each folder's `.portolan.json` the engine holds, as findings on it (core/portolanJson.ts). */
  private configFindings(): Finding[][] {
    const out: Finding[][] = [];
    for (const folder of this.hosts.folderNames()) {
      const file = `${folder}/${PORTOLAN_JSON}`;
      const text = this.files.get(file)?.text;
      if (text === undefined) continue;
      let cached = this.configCache.get(file);
      if (!cached || cached.text !== text || cached.filesVersion !== this.filesVersion) {
        cached = { text, filesVersion: this.filesVersion, findings: portolanJsonFindings(file, readPortolanJson(text), folder, this.fileNames()) };
        this.configCache.set(file, cached);
      }
      out.push(cached.findings);
    }
    return out;
  }

  /** What core/mainConfigs.ts reads: the graph's root parses, hosts, and how a stock main config's instance is assembled and linked. */
  private mainsSource(graph: IncludeGraph): MainsSource {
    return {
      moduleOf: (format) => this.modules.find((m) => m.id === format),
      rootParse: (instance) => graph.standalone.get(instance.root)?.parse,
      hostOf: (file) => this.hosts.hostOf(file),
      hasFile: (file) => this.files.has(file),
      implicitInstance: (module, root) => {
        // The same fragments give the same stock root object, so the linker's cache holds across analyses.
        const key = `${module.id}\u0000${root.file}`;
        const cached = this.stockRoots.get(key);
        const stable = cached && sameIncludes(cached.includes, root.includes) ? cached : root;
        this.stockRoots.set(key, stable);
        const input = assemble(this.graphSource, module, stable);
        const output = this.linker.link(module, input);
        return { format: module.id, root: stable.file, files: input.files.map((f) => f.file), output };
      },
    };
  }

  private ruleContext(): RuleContext {
    return {
      settings: this.settings,
      registry: this.registry,
      lineOf: (f: string, o: number) => this.lineIndex(f).position(o).line + 1,
      shownPath: (f: string) => this.hosts.shownPath(f),
      textOf: (f: string) => this.files.get(f)?.text,
      nodePortRangeOf: (f: string) => this.hosts.nodePortRangeOf(f),
      writerOf: (f: string) => {
        const id = this.graph?.formatOf.get(f);
        return (id ? this.modules.find((m) => m.id === id) : this.moduleFor(f))?.writer;
      },
    };
  }

  /** The model of every host after the last analysis, by host name. Read-only. */
  hostModels(): ReadonlyMap<string, HostModel> {
    this.analyze();
    return this.hostAnalysis.models();
  }

  /** The model of the host `file` belongs to (undefined when nothing of the workspace runs there). Read-only. */
  hostModelOf(file: string): HostModel | undefined {
    this.analyze();
    return this.hostAnalysis.modelOf(this.hosts.hostOf(file));
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

  private resolve(ref: IncludeRef, includingFile: string, rootFile: string): string[] {
    // Resolution reads only the two files' directories: the files of one folder share one answer (and one array).
    const key = `${ref.pattern}\u0000${ref.relativeTo}\u0000${path.posix.dirname(includingFile)}\u0000${path.posix.dirname(rootFile)}`;
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
    const reads = (key: string) => {
      const { module, input } = graph.instances.get(key)!;
      return !this.linker.link(module, input, key).unread?.includes(file);
    };
    const keys = (graph.rootsOf.get(file) ?? []).filter((key) => graph.roots.has(key) && reads(key));
    const roots = keys.map((key) => key.slice(key.indexOf('\u0000') + 1));
    // A fragment a stock main config loads (no nginx.conf / sshd_config on its host) is read by that one program.
    return [...new Set(roots.map((root) => this.implicitOf.get(root) ?? root))].sort();
  }

  /**
   * How the program instances holding `file` run on its host (core/mainConfigs.ts): why one binds nothing
   * (a file no main config loads, an alternative main config), or that its root is the package's stock
   * main config, which the workspace does not hold. Read-only.
   */
  instanceNotes(file: string): string[] {
    const roots = this.instancesOf(file);
    const notes: string[] = [];
    this.moduleFor(file);
    const why = this.files.get(file)?.why;
    if (why) notes.push(why);
    const byRoot = this.notesByRoot();
    const found: InstanceNote[] = [];
    for (const root of roots) for (const n of byRoot.get(root) ?? []) if (!n.ownFileOnly || root === file) found.push(n);
    if (roots.length > 1) found.sort((a, b) => a.seq - b.seq);
    for (const { note } of found) if (!notes.includes(note)) notes.push(note);
    return notes;
  }

  private notesIndex?: { of: AnalysisResult; byRoot: Map<string, InstanceNote[]> };

  /** The notes of every instance root after the last analysis, each with its place in host-model order (made once per analysis). */
  private notesByRoot(): Map<string, InstanceNote[]> {
    const of = this.analyze();
    if (this.notesIndex?.of === of) return this.notesIndex.byRoot;
    const byRoot = new Map<string, InstanceNote[]>();
    let seq = 0;
    for (const model of this.hostAnalysis.models().values()) {
      for (const i of model.instances) {
        const stock = (root: string) => `${this.hosts.shownPath(root)}: the stock ${i.format} main config, not in the workspace`;
        // The link's own note is said on the root file only.
        const note = i.output.note
          ? i.output.note
          : i.inactive
            ? `inactive: ${i.inactive}`
            : i.implicit
              ? stock(i.root)
              : i.runsAs
                ? `runs in the same ${i.format} as ${stock(i.runsAs)}`
                : undefined;
        if (!note) continue;
        const entry: InstanceNote = { seq: seq++, note, ownFileOnly: !!i.output.note };
        const list = byRoot.get(i.root);
        if (list) list.push(entry);
        else byRoot.set(i.root, [entry]);
      }
    }
    this.notesIndex = { of, byRoot };
    return byRoot;
  }

  /**
   * What listens behind a compose publish inside its container: the listens of the files the
   * service mounts (on the container's host) on the published target port.
   */
  containerListeners(publish: PortFact): PortFact[] {
    const target = publish.target;
    if (publish.role !== 'publish' || !target || !publish.instance) return [];
    const host = HostMap.containerHost(publish.instance, target.service);
    this.analyze();
    return (this.hostAnalysis.modelOf(host)?.facts ?? []).filter(
      (f) => f.role === 'listen' && f.protocol === publish.protocol && f.port <= target.portEnd && f.portEnd >= target.port,
    );
  }

  /** The include directives of `file` after the last analysis, each with the files it read (for document links). Read-only. */
  includeTargets(file: string): { span: { start: number; end: number }; targets: string[] }[] {
    this.analyze();
    const bySpan = new Map<string, { span: { start: number; end: number }; targets: string[] }>();
    for (const { input } of this.graph?.instances.values() ?? []) {
      for (const edge of input.edges) {
        if (edge.from.file !== file) continue;
        const key = `${edge.ref.span.start}:${edge.ref.span.end}`;
        const entry = bySpan.get(key) ?? { span: edge.ref.span, targets: [] };
        const target = this.aliases.get(edge.to.file) ?? edge.to.file;
        if (!entry.targets.includes(target)) entry.targets.push(target);
        bySpan.set(key, entry);
      }
    }
    return [...bySpan.values()].sort((a, b) => a.span.start - b.span.start);
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
    this.analyze();
    const host = this.hosts.hostOf(fact.file);
    return (this.hostAnalysis.modelOf(host)?.facts ?? [])
      .filter((other) => other !== fact && other.protocol === fact.protocol && other.port <= fact.portEnd && other.portEnd >= fact.port)
      .filter((other) => other.role !== 'container' && (other.role !== 'upstream' || pointsAtThisHost(other.address)))
      .filter((other) => !(other.file === fact.file && other.span.start === fact.span.start && other.span.end === fact.span.end));
  }
}

/** The linked root instances of an analysis by position: the graph's roots in its order. */
interface LinkedRoots {
  positions: Map<string, number>;
  linked: HostInstance[];
  /** Per position, the files a compose instance's services mount. */
  mountsAt: (ContainerMount[] | undefined)[];
  firewalls: AnalysisResult['firewalls'];
}

const NO_FINDINGS: readonly Finding[] = [];

function sameMounts(a: readonly ContainerMount[], b: readonly ContainerMount[]): boolean {
  return a === b || (a.length === b.length && a.every((m, i) => m.source === b[i].source && m.host === b[i].host));
}

/** A note of an instance for `--list-files`, in host-model order; `ownFileOnly`: said on the root file alone. */
interface InstanceNote {
  seq: number;
  note: string;
  ownFileOnly: boolean;
}

/**
 * The facts of each file: `get` asks the file's host (cheap after an edit); iterating makes the whole
 * map once, from every fact in host order (what one pass over the analysis gives).
 */
class FactsByFile implements ReadonlyMap<string, PortFact[]> {
  private map?: Map<string, PortFact[]>;

  constructor(
    private readonly ofFile: (file: string) => PortFact[] | undefined,
    private readonly all: () => AnalysisResult['facts'],
  ) {}

  get(file: string): PortFact[] | undefined {
    return this.ofFile(file);
  }

  has(file: string): boolean {
    return this.ofFile(file) !== undefined;
  }

  private whole(): Map<string, PortFact[]> {
    if (!this.map) {
      this.map = new Map();
      for (const { fact } of this.all()) if (!this.map.has(fact.file)) this.map.set(fact.file, this.ofFile(fact.file)!);
    }
    return this.map;
  }

  get size(): number {
    return this.whole().size;
  }

  forEach(fn: (value: PortFact[], key: string, map: ReadonlyMap<string, PortFact[]>) => void): void {
    for (const [k, v] of this.whole()) fn(v, k, this);
  }

  keys(): MapIterator<string> {
    return this.whole().keys();
  }

  values(): MapIterator<PortFact[]> {
    return this.whole().values();
  }

  entries(): MapIterator<[string, PortFact[]]> {
    return this.whole().entries();
  }

  [Symbol.iterator](): MapIterator<[string, PortFact[]]> {
    return this.whole().entries();
  }
}

/**
 * Where the path inside the folder is not conclusive: a `*.conf` whose text is plainly nginx's (a
 * server block or a listen) is nginx; a `*.yaml`/`*.yml` with a Kubernetes object's apiVersion and kind is a
 * manifest (they have any name). Only those: other formats are claimed by path.
 */
function byContent(modules: FormatModule[], inFolder: string, text: string): FormatModule | undefined {
  const id = /\.conf$/.test(inFolder) ? 'nginx' : /\.ya?ml$/.test(inFolder) ? 'kubernetes' : undefined;
  if (!id) return undefined;
  const module = modules.find((m) => m.id === id);
  return module?.matchesContent?.(text) ? module : undefined;
}

/**
 * The workspace files one compose instance's services mount, each on its container's host: a mounted nginx config
 * listens inside the container, reached from the host only through the service's published ports.
 * A service on `network_mode: host` runs on the host itself; `service:x` shares x's container.
 */
function containerMounts(instance: HostInstance): ContainerMount[] {
  const mounts: ContainerMount[] = [];
  for (const s of instance.output.services ?? []) {
    const mode = s.networkMode ?? '';
    if (mode === 'host') continue;
    const shared = /^service:(.+)$/.exec(mode)?.[1];
    const host = HostMap.containerHost(instance.root, shared ?? s.name);
    // A mount of the project's own directory (`.:/app`) holds the compose files: they stay on the host.
    for (const m of s.mounts ?? []) if (!isUnder(instance.root, m.source)) mounts.push({ source: m.source, host });
  }
  return mounts;
}

function pointsAtThisHost(address: string | undefined): boolean {
  if (address === undefined) return true;
  const a = address.toLowerCase();
  return a === 'localhost' || a === '::1' || a.startsWith('127.') || a === '0.0.0.0' || a === '::';
}

/**
 * A file's parse from its text alone (pure): over the size limit or unread a note, a template a note, else
 * its format's reader with the program's verdict on the encoding. The server's parse worker runs it too.
 */
export function fileParse(
  module: FormatModule,
  text: string,
  file: string,
  context: string | undefined,
  encoding: FileEncoding | undefined,
  unread?: UnreadReason,
): FileParse {
  // The size limit holds for opened documents as for files on disk: one note, and the rest stays responsive.
  const reason = unread ?? tooLarge(text);
  // A template is rendered by a tool before the program reads it: not parsed as the program's syntax.
  const tag = reason ? undefined : templateMarkup(text, module.id);
  return reason ? unreadParse(module.id, file, reason) : tag ? templateParse(module.id, file, tag) : encodedParse(module, text, file, context, encoding);
}

/**
 * `fileParse` in steps (`FormatModule.parseSteps`, one step for a format without): the server parses a
 * big opened document this way, answering requests between the steps. Gives what `fileParse` gives.
 */
export function* fileParseSteps(module: FormatModule, text: string, file: string, context: string | undefined, encoding: FileEncoding | undefined): ParseSteps {
  if (tooLarge(text) || templateMarkup(text, module.id) || !module.parseSteps) return fileParse(module, text, file, context, encoding);
  return yield* encodedParseSteps(module, text, file, context, encoding);
}

/** The parse of a file as its program reads it, with the program's verdict on its encoding on line 1 (core/encoding.ts). */
function encodedParse(module: FormatModule, text: string, file: string, context: string | undefined, onDisk: FileEncoding | undefined): FileParse {
  return drain(encodedParseSteps(module, text, file, context, onDisk, false));
}

function* encodedParseSteps(
  module: FormatModule,
  text: string,
  file: string,
  context: string | undefined,
  onDisk: FileEncoding | undefined,
  inSteps = true,
): ParseSteps {
  const parse = yield* safeParseSteps(module, textForReader(text, module.id, context), file, context, inSteps);
  const note = encodingFinding(parse.format, file, text, onDisk);
  return note ? { ...parse, findings: [note, ...parse.findings] } : parse;
}

function* safeParseSteps(module: FormatModule, text: string, file: string, context: string | undefined, inSteps: boolean): ParseSteps {
  try {
    return inSteps && module.parseSteps ? yield* module.parseSteps(text, file, context) : module.parse(text, file, context);
  } catch (e) {
    // A parser bug must never take the server down: report it on the file and keep going.
    return noteParse(module.id, file, 'error', `Portolan could not analyse this file (${module.id} parser failed: ${(e as Error).message}).`);
  }
}

export function isUnder(file: string, dir: string): boolean {
  const rel = path.posix.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.posix.isAbsolute(rel);
}

export type { IncludeRef };
