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
  private last?: Map<string, Finding[]>;

  /** Forget everything (the settings that collection reads changed). */
  clear(): void {
    this.resetSegments();
    this.files.clear();
    this.order = [];
    this.last = undefined;
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

  /** The collected findings of every file (the same map as last time when no file was collected again). */
  collect(opts: CollectOptions): Map<string, Finding[]> {
    if (this.last && this.dirty.size === 0) return this.last;
    const rebuild = this.dirty.size * 8 > this.order.length;
    if (!rebuild) for (const file of this.dirty) this.unorder(file);
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
    this.last = new Map(this.order.map(({ file }) => [file, this.files.get(file)!.kept]));
    return this.last;
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
