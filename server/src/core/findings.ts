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
}

/**
 * Collection per file, cached: a file whose raw findings are the very same objects as last time
 * (and whose text is the same) keeps its collected list (the same array), so an edit re-collects
 * only the files whose findings changed. Files come out in the order of their first kept finding,
 * as one pass over every finding would give them.
 */
export class FindingCollector {
  private cache = new Map<string, CollectedFile>();

  /** Forget everything (the settings that collection reads changed). */
  clear(): void {
    this.cache.clear();
  }

  collect(findings: readonly Finding[], opts: CollectOptions): Map<string, Finding[]> {
    const raw = new Map<string, { list: Finding[]; seqs: number[] }>();
    findings.forEach((f, seq) => {
      const entry = raw.get(f.file);
      if (entry) {
        entry.list.push(f);
        entry.seqs.push(seq);
      } else raw.set(f.file, { list: [f], seqs: [seq] });
    });
    const cache = new Map<string, CollectedFile>();
    const files: { file: string; seq: number; kept: Finding[] }[] = [];
    for (const [file, { list, seqs }] of raw) {
      const text = opts.textOf(file);
      let entry = this.cache.get(file);
      if (!entry || entry.text !== text || !sameFindings(entry.raw, list)) entry = collectFile(list, text, opts);
      cache.set(file, entry);
      if (entry.first >= 0) files.push({ file, seq: seqs[entry.first], kept: entry.kept });
    }
    this.cache = cache;
    files.sort((a, b) => a.seq - b.seq);
    return new Map(files.map((f) => [f.file, f.kept]));
  }
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
