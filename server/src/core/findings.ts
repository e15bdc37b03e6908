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

export function collectFindings(findings: readonly Finding[], opts: CollectOptions): Map<string, Finding[]> {
  const byFile = new Map<string, Finding[]>();
  const seen = new Set<string>();
  const ignored = new Set(opts.ignoreCodes ?? []);
  const hasIgnoreComment = new Map<string, boolean>();
  for (const f of findings) {
    if (ignored.has(f.code)) continue;
    const text = opts.textOf(f.file);
    let marked = hasIgnoreComment.get(f.file);
    if (marked === undefined) hasIgnoreComment.set(f.file, (marked = text?.includes('portolan-ignore') ?? false));
    if (marked && ignoredByComment(text!, opts.lineIndex(f.file), f)) continue;
    const key = `${f.file}|${f.span.start}|${f.span.end}|${f.code}|${f.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const list = byFile.get(f.file) ?? [];
    list.push(withSeverity(f, opts.severity));
    byFile.set(f.file, list);
  }
  for (const list of byFile.values()) list.sort((a, b) => a.span.start - b.span.start || a.code.localeCompare(b.code));
  return byFile;
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
