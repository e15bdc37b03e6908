/**
 * textDocument/codeAction: the quick fixes that findings carry, the `portolan-ignore` fixes (this
 * line, this file, every side of a conflict), and "Fix all" (every finding of the file that has a
 * preferred fix), as workspace edits.
 */
import { CodeActionKind, type CodeAction, type Diagnostic, type Range } from 'vscode-languageserver';
import { URI } from 'vscode-uri';
import type { Engine } from '../core/engine';
import { editsOverlap } from '../core/fixes';
import type { LineIndex } from '../core/lineIndex';
import type { Finding, Fix, TextEdit } from '../core/types';
import { ignoreFileFix, ignoreFix } from '../core/ignore';
import type { Feature } from './feature';

/** The kind of the fix-all action when asked for as a source action (editor.codeActionsOnSave). */
export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.portolan`;
export const FIX_ALL_TITLE = 'Fix all Portolan findings that have a preferred fix';

type ToDiagnostic = (f: Finding, index: LineIndex) => Diagnostic;

function workspaceEdit(engine: Engine, edits: readonly TextEdit[]): Record<string, { range: Range; newText: string }[]> {
  const changes: Record<string, { range: Range; newText: string }[]> = {};
  for (const edit of edits) {
    const idx = engine.lineIndex(edit.file);
    (changes[URI.file(edit.file).toString()] ??= []).push({
      range: { start: idx.position(edit.span.start), end: idx.position(edit.span.end) },
      newText: edit.newText,
    });
  }
  return changes;
}

/** "Ignore port-conflict on every side": an ignore comment above this line and above each line it collides with (one per line). */
function ignoreEverySide(engine: Engine, finding: Finding): Fix | undefined {
  const others = finding.data?.other ?? [];
  if (finding.code !== 'port-conflict' || others.length === 0) return undefined;
  const formatOf = engine.analyze().formatOf;
  const edits: TextEdit[] = [];
  for (const side of [{ file: finding.file, span: finding.span }, ...others]) {
    const text = engine.text(side.file);
    if (text === undefined) continue;
    const fix = ignoreFix(text, engine.lineIndex(side.file), { ...finding, file: side.file, span: side.span }, formatOf.get(side.file));
    if (!fix) return undefined;
    for (const e of fix.edits) if (!edits.some((d) => d.file === e.file && d.span.start === e.span.start)) edits.push(e);
  }
  if (edits.length < 2) return undefined;
  return { title: `Ignore ${finding.code} on every side (${edits.length} portolan-ignore comments)`, edits };
}

/** The fixes one finding offers, its own first, then the ignore comments. */
function fixesOf(engine: Engine, file: string, text: string, index: LineIndex, finding: Finding): Fix[] {
  const format = engine.analyze().formatOf.get(file);
  const out: Fix[] = [...(finding.fixes ?? [])];
  const line = ignoreFix(text, index, finding, format);
  if (line) out.push(line);
  const every = ignoreEverySide(engine, finding);
  if (every) out.push(every);
  const whole = ignoreFileFix(text, finding, format);
  if (whole) out.push(whole);
  return out;
}

/**
 * The preferred fix of every finding of the file, in text order, skipping one whose edits overlap an
 * earlier one's or that would take a port an earlier one took (findings are not fixed onto each other).
 */
export function fixAll(findings: readonly Finding[]): { fixes: Fix[]; findings: Finding[] } {
  const chosen: Fix[] = [];
  const fixed: Finding[] = [];
  const taken: { protocol: string; port: number; portEnd: number }[] = [];
  for (const finding of findings) {
    const preferred = finding.fixes?.find((f) => f.preferred);
    if (!preferred) continue;
    // A port an earlier fix took: the finding's next port choice instead.
    const choices = preferred.takes ? [preferred, ...finding.fixes!.filter((f) => f !== preferred && f.takes)] : [preferred];
    const fix = choices.find((c) => !(c.takes ?? []).some((t) => taken.some((u) => u.protocol === t.protocol && t.port <= u.portEnd && u.port <= t.portEnd)));
    if (!fix) continue;
    if (chosen.some((c) => c.edits.some((a) => fix.edits.some((b) => editsOverlap(a, b))))) continue;
    chosen.push(fix);
    fixed.push(finding);
    for (const t of fix.takes ?? []) taken.push(t);
  }
  return { fixes: chosen, findings: fixed };
}

export function provideCodeActions(engine: Engine, file: string, range: Range, toDiagnostic: ToDiagnostic, only?: string[]): CodeAction[] {
  const findings = engine.analyze().findingsByFile.get(file) ?? [];
  const index = engine.lineIndex(file);
  const all = fixAll(findings);
  const fixAllAction = (kind: string): CodeAction => ({
    title: `${FIX_ALL_TITLE} (${all.findings.length})`,
    kind,
    diagnostics: all.findings.map((f) => toDiagnostic(f, index)),
    edit: {
      changes: workspaceEdit(
        engine,
        all.fixes.flatMap((f) => f.edits),
      ),
    },
  });
  if (only && only.length > 0 && !only.some((k) => k === CodeActionKind.QuickFix || k.startsWith(`${CodeActionKind.QuickFix}.`))) {
    const wantsFixAll = only.some((k) => k === CodeActionKind.Source || k === CodeActionKind.SourceFixAll || FIX_ALL_KIND.startsWith(k));
    return wantsFixAll && all.fixes.length > 0 ? [fixAllAction(FIX_ALL_KIND)] : [];
  }
  const start = index.offset(range.start.line, range.start.character);
  const end = index.offset(range.end.line, range.end.character);
  const actions: CodeAction[] = [];
  const text = engine.text(file) ?? '';
  let touchesPreferred = false;
  for (const finding of findings) {
    if (finding.span.end < start || finding.span.start > end) continue;
    if (finding.fixes?.some((f) => f.preferred)) touchesPreferred = true;
    for (const fix of fixesOf(engine, file, text, index, finding)) {
      actions.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [toDiagnostic(finding, index)],
        isPreferred: fix.preferred,
        edit: { changes: workspaceEdit(engine, fix.edits) },
      });
    }
  }
  if (touchesPreferred && all.fixes.length > 1) actions.push(fixAllAction(CodeActionKind.QuickFix));
  return actions;
}

export const codeActionFeature: Feature = {
  name: 'codeAction',
  capabilities: { codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_KIND] } },
  register(ctx) {
    ctx.connection.onCodeAction(({ textDocument, range, context }) => {
      const file = ctx.pathOf(textDocument.uri);
      if (!file) return [];
      return provideCodeActions(ctx.engine, file, range, (f, index) => ctx.toDiagnostic(f, index), context.only);
    });
  },
};
