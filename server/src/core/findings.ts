/**
 * Finding collection: every finding of an analysis, minus what the user turned off (`portolan.ignore`,
 * `portolan-ignore` comments) and duplicates, with the user's severities, by file in text order. Pure.
 */
import { ignoredByComment } from './ignore';
import type { LineIndex } from './lineIndex';
import type { Finding, Severity } from './types';

export interface CollectOptions {
  /** Diagnostic codes the user turned off (`portolan.ignore`). */
  ignoreCodes?: readonly string[];
  /** Per-code severity overrides (`portolan.severity`). */
  severity?: Partial<Record<string, Severity>>;
  /** The current text of a file (undefined when the engine does not hold it). */
  textOf(file: string): string | undefined;
  lineIndex(file: string): LineIndex;
}

interface CollectedFile {
  raw: Finding[];
  text: string | undefined;
  kept: Finding[];
  /** Index in `raw` of the first finding kept (-1: none). */
  first: number;
  /** Where `raw[first]` comes in the analysis: its segment's key and its index there. */
  firstKey?: number[];
}

/** A list of findings (one instance's, one host's) with its place in an analysis' order: keys compare element by element. */
interface Segment {
  key: readonly number[];
  findings: readonly Finding[];
  /** Each file's findings in the segment, with their indexes in it. */
  byFile: Map<string, { list: Finding[]; at: number[] }>;
}

/**
 * Collection per file, kept between analyses. The findings come in segments (an instance's, a
 * host's, a folder's `.portolan.json`'s), each with its place in the order of one pass over every
 * finding; a segment set again with other findings or at another place makes its files collected
 * again, and no others. A file whose raw findings are the very same objects as last time (and whose
 * text is the same) keeps its collected list (the same array). Files come out in the order of their
 * first kept finding, as one pass over every finding would give them.
 */
export class FindingCollector {
  private files = new Map<string, CollectedFile>();
  private readonly segments = new Map<string, Segment>();
  private readonly segmentsOf = new Map<string, Set<Segment>>();
  private readonly dirty = new Set<string>();
  /** The files with a kept finding, in the order of their first one (`firstKey`). */
  private order: { file: string; key: number[] }[] = [];
  /** The findings by file of the last collection. */
  private view?: FindingsView;
  /** The files the last `collect` collected again (their findings or text may have changed; the others did not). */
  recollected: ReadonlySet<string> = new Set();

  /** Forget everything (the settings that collection reads changed). */
  clear(): void {
    // The last analysis' map keeps its lists.
    this.view?.retire(this.order.map(({ file }) => file));
    this.view = undefined;
    this.resetSegments();
    this.files.clear();
    this.order = [];
  }

  /** Forget every segment (the analysis is made again from scratch); the files' collected lists are kept for reuse. */
  resetSegments(): void {
    for (const file of this.segmentsOf.keys()) this.dirty.add(file);
    this.segments.clear();
    this.segmentsOf.clear();
  }

  /** The findings of segment `id` at place `key` (no findings: the segment is dropped). */
  setSegment(id: string, key: readonly number[], findings: readonly Finding[]): void {
    const old = this.segments.get(id);
    if (old ? old.findings === findings && compareKeys(old.key, key) === 0 : findings.length === 0) return;
    if (old) {
      for (const file of old.byFile.keys()) {
        const set = this.segmentsOf.get(file)!;
        set.delete(old);
        if (set.size === 0) this.segmentsOf.delete(file);
        this.dirty.add(file);
      }
      this.segments.delete(id);
    }
    if (findings.length === 0) return;
    const byFile = new Map<string, { list: Finding[]; at: number[] }>();
    findings.forEach((f, i) => {
      const entry = byFile.get(f.file);
      if (entry) {
        entry.list.push(f);
        entry.at.push(i);
      } else byFile.set(f.file, { list: [f], at: [i] });
    });
    const segment: Segment = { key, findings, byFile };
    this.segments.set(id, segment);
    for (const file of byFile.keys()) {
      const set = this.segmentsOf.get(file);
      if (set) set.add(segment);
      else this.segmentsOf.set(file, new Set([segment]));
      this.dirty.add(file);
    }
  }

  /** A file whose text changed (what `portolan-ignore` comments say): collected again. */
  markFile(file: string): void {
    this.dirty.add(file);
  }

  /**
   * The collected findings of every file (the same map as last time when no file was collected
   * again). The map reads what the collector holds; once a newer collection exists, it keeps the lists
   * of the files that one collected again, so it goes on answering as it did.
   */
  collect(opts: CollectOptions): ReadonlyMap<string, readonly Finding[]> {
    this.recollected = new Set(this.dirty);
    if (this.view && this.dirty.size === 0) return this.view;
    const before = this.view;
    before?.retire(this.dirty);
    const rebuild = this.dirty.size * 8 > this.order.length;
    if (!rebuild) {
      // The order the last map iterates stays as it was.
      this.order = this.order.slice();
      for (const file of this.dirty) this.unorder(file);
    }
    for (const file of this.dirty) this.collectOne(file, opts);
    if (rebuild) {
      this.order = [];
      for (const [file, entry] of this.files) if (entry.firstKey) this.order.push({ file, key: entry.firstKey });
      this.order.sort((a, b) => compareKeys(a.key, b.key));
    } else
      for (const file of this.dirty) {
        const key = this.files.get(file)?.firstKey;
        if (key) this.order.splice(this.place(key), 0, { file, key });
      }
    this.dirty.clear();
    this.view = new FindingsView((file) => this.keptOf(file), this.order);
    before?.supersede(this.view);
    return this.view;
  }

  private keptOf(file: string): Finding[] | undefined {
    const entry = this.files.get(file);
    return entry && entry.first >= 0 ? entry.kept : undefined;
  }

  private collectOne(file: string, opts: CollectOptions): void {
    const segments = [...(this.segmentsOf.get(file) ?? [])].sort((a, b) => compareKeys(a.key, b.key));
    if (segments.length === 0) {
      this.files.delete(file);
      return;
    }
    const raw: Finding[] = [];
    const keys: [Segment, number][] = [];
    for (const segment of segments) {
      const { list, at } = segment.byFile.get(file)!;
      for (let i = 0; i < list.length; i++) {
        raw.push(list[i]);
        keys.push([segment, at[i]]);
      }
    }
    const text = opts.textOf(file);
    let entry = this.files.get(file);
    if (!entry || entry.text !== text || !sameFindings(entry.raw, raw)) this.files.set(file, (entry = collectFile(raw, text, opts)));
    entry.firstKey = entry.first >= 0 ? [...keys[entry.first][0].key, keys[entry.first][1]] : undefined;
  }

  /** Takes `file` out of the order, where its first kept finding was. */
  private unorder(file: string): void {
    const key = this.files.get(file)?.firstKey;
    if (!key) return;
    const at = this.place(key);
    if (this.order[at]?.file === file) this.order.splice(at, 1);
    else this.order = this.order.filter((o) => o.file !== file);
  }

  /** The index of the first entry of the order not before `key`. */
  private place(key: readonly number[]): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareKeys(this.order[mid].key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * The findings by file of one collection: the newest reads the collector's lists; an older one keeps
 * the lists of the files a newer collection changed and asks the newer one for the rest. Iterates in
 * the order of the files' first kept findings (`order`, never changed after it is handed over).
 */
class FindingsView implements ReadonlyMap<string, readonly Finding[]> {
  /** Once retired: this collection's lists of the files collected again after it (undefined: the file had none). */
  private own?: Map<string, Finding[] | undefined>;
  private next?: FindingsView;

  constructor(
    private readonly live: (file: string) => Finding[] | undefined,
    private readonly order: readonly { file: string }[],
  ) {}

  /** Keeps the lists of `files` as they are now (called before the collector changes them). */
  retire(files: Iterable<string>): void {
    this.own ??= new Map();
    for (const file of files) if (!this.own.has(file)) this.own.set(file, this.live(file));
  }

  /** The collection after this one, which answers for the files this one did not keep. */
  supersede(next: FindingsView): void {
    this.next = next;
  }

  get(file: string): Finding[] | undefined {
    return FindingsView.lookup(this, file);
  }

  /** `file`'s list as `from` has it: kept there, or asked of the newer collections in turn (a loop: the chain may be long). */
  private static lookup(from: FindingsView, file: string): Finding[] | undefined {
    for (let view: FindingsView | undefined = from; view; view = view.next) {
      if (!view.own) return view.live(file);
      if (view.own.has(file)) return view.own.get(file);
    }
    return undefined;
  }

  has(file: string): boolean {
    return this.get(file) !== undefined;
  }

  get size(): number {
    return this.order.length;
  }

  forEach(fn: (value: readonly Finding[], key: string, map: ReadonlyMap<string, readonly Finding[]>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }

  *entries(): MapIterator<[string, readonly Finding[]]> {
    for (const { file } of this.order) yield [file, this.get(file)!];
  }

  *keys(): MapIterator<string> {
    for (const { file } of this.order) yield file;
  }

  *values(): MapIterator<readonly Finding[]> {
    for (const { file } of this.order) yield this.get(file)!;
  }

  [Symbol.iterator](): MapIterator<[string, readonly Finding[]]> {
    return this.entries();
  }
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function sameFindings(a: readonly Finding[], b: readonly Finding[]): boolean {
  return a.length === b.length && a.every((f, i) => f === b[i]);
}

/** One file's findings: minus the ignored and duplicates, with the user's severities, in text order. */
function collectFile(raw: Finding[], text: string | undefined, opts: CollectOptions): CollectedFile {
  const kept: Finding[] = [];
  const seen = new Set<string>();
  const ignored = new Set(opts.ignoreCodes ?? []);
  const marked = text?.includes('portolan-ignore') ?? false;
  let first = -1;
  raw.forEach((f, i) => {
    if (ignored.has(f.code)) return;
    if (marked && ignoredByComment(text!, opts.lineIndex(f.file), f)) return;
    const key = `${f.span.start}|${f.span.end}|${f.code}|${f.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (first < 0) first = i;
    kept.push(withSeverity(f, opts.severity));
  });
  kept.sort((a, b) => a.span.start - b.span.start || a.code.localeCompare(b.code));
  return { raw, text, kept, first };
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
export function withSeverity(f: Finding, overrides: Partial<Record<string, Severity>> | undefined): Finding {
  const severity = overrides?.[f.code];
  return severity && severity !== f.severity ? { ...f, severity } : f;
}
