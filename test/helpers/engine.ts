/** Test helpers: an engine over in-memory files, and line/column views of findings. */
import * as fs from 'fs';
import * as path from 'path';
import { Engine } from '../../server/src/core/engine';
import { LineIndex } from '../../server/src/core/lineIndex';
import type { Finding, Fix } from '../../server/src/core/types';
import { createFormatModules } from '../../server/src/formats/index';
import { RULES } from '../../server/src/rules/index';
import { loadRegistry } from '../../server/src/workspace/data';
import { loadFirewalldServices } from '../../server/src/workspace/firewalldData';

export function engineWith(files: Record<string, string>, folder = '/ws'): Engine {
  const registry = loadRegistry();
  const engine = new Engine(createFormatModules(registry, { firewalldServices: loadFirewalldServices() }), registry, RULES);
  engine.hosts.setFolders([{ folder, hosts: {} }]);
  for (const [name, text] of Object.entries(files)) engine.setFile(name.startsWith('/') ? name : `${folder}/${name}`, text);
  return engine;
}

/**
 * Everything an analysis answers, in its order, as one string to compare: every file's findings, every fact
 * with its host, the hosts, the firewalls, formats by file, and for `files` their instances and notes.
 */
export function analysisAnswers(engine: Engine, files: readonly string[] = []): string {
  const r = engine.analyze();
  return JSON.stringify({
    findings: [...r.findingsByFile],
    facts: r.facts.map(({ fact, host }) => [host, fact]),
    hosts: [...engine.hostModels().keys()],
    firewalls: r.firewalls.map((f) => [f.root, f.host, f.firewall]),
    formats: [...r.formatOf].sort(([a], [b]) => a.localeCompare(b)),
    instances: files.map((f) => [f, engine.instancesOf(f), engine.instanceNotes(f)]),
  });
}

export interface ShownFinding {
  file: string;
  line: number;
  col: number;
  code: string;
  severity: string;
  text: string;
  message: string;
  /** The finding's messageId, when its rule names one. */
  messageId?: string;
}

/** Findings with 1-based line/col and the text they cover, for readable assertions. */
export function shownFindings(engine: Engine, file?: string): ShownFinding[] {
  const result = engine.analyze();
  const out: ShownFinding[] = [];
  for (const [f, list] of result.findingsByFile) {
    if (file && f !== file) continue;
    const text = engine.text(f) ?? '';
    const index = new LineIndex(text);
    for (const finding of list) out.push(show(finding, index, text));
  }
  return out;
}

function show(f: Finding, index: LineIndex, text: string): ShownFinding {
  const pos = index.position(f.span.start);
  return {
    file: f.file,
    line: pos.line + 1,
    col: pos.character + 1,
    code: f.code,
    severity: f.severity,
    text: text.slice(f.span.start, f.span.end),
    message: f.message,
    ...(f.messageId ? { messageId: f.messageId } : {}),
  };
}

/** The offset of the n-th occurrence (0-based) of `needle` in `text`, plus `delta`. */
export function offsetOf(text: string, needle: string, nth = 0, delta = 0): number {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`"${needle}" #${nth} not in text`);
  }
  return at + delta;
}

/** Applies non-overlapping text edits of one file (as an editor applies a WorkspaceEdit). */
export function applyEdits(text: string, edits: { span: { start: number; end: number }; newText: string }[]): string {
  const sorted = [...edits].sort((a, b) => b.span.start - a.span.start || b.span.end - a.span.end);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].span.end > sorted[i - 1].span.start) throw new Error('overlapping edits');
  }
  let out = text;
  for (const e of sorted) out = out.slice(0, e.span.start) + e.newText + out.slice(e.span.end);
  return out;
}

/** Every file below `dir` as relative path -> text (for engineWith). */
export function readTree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, readTree(path.join(dir, e.name), rel));
    else out[rel] = fs.readFileSync(path.join(dir, e.name), 'utf8');
  }
  return out;
}

/** The workspace files (relative to /ws, as engineWith takes them) after a fix whose edits are all in them. */
export function withFix(files: Record<string, string>, fix: Pick<Fix, 'edits'>, folder = '/ws'): Record<string, string> {
  const out = { ...files };
  for (const rel of Object.keys(files)) {
    const edits = fix.edits.filter((e) => e.file === `${folder}/${rel}`);
    if (edits.length) out[rel] = applyEdits(files[rel], edits);
  }
  return out;
}
