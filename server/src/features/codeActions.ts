/**
 * textDocument/codeAction: the quick fixes that findings carry, the `portolan-ignore` fixes (this
 * line, this file, every side of a conflict), and "Fix all" (every finding of the file that has a
 * preferred fix), as workspace edits.
 */
import { CodeActionKind, CreateFile, TextDocumentEdit, type CodeAction, type Diagnostic, type Range, type WorkspaceEdit } from 'vscode-languageserver';
import { URI } from 'vscode-uri';
import type { Engine } from '../core/engine';
import { editsOverlap } from '../core/fixes';
import { LineIndex } from '../core/lineIndex';
import { PORTOLAN_JSON, readPortolanJson, withHostPerProject, withOneHost } from '../core/portolanJson';
import { IF_ONE_HOST } from '../core/sharedHost';
import type { Finding, Fix, TextEdit } from '../core/types';
import { ignoreFileFix, ignoreFix } from '../core/ignore';
import { readText } from '../workspace/files';
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

/** What the code actions may need from outside the engine. */
export interface CodeActionEnv {
  /** A file's text on disk, for one the engine does not hold. */
  readFile?: (file: string) => string | undefined;
  /** The client applies workspace edits that create files (resourceOperations: create). */
  canCreateFiles?: boolean;
}

/** A workspace edit that sets `file` to `newText`: the whole text replaced, or the file created. */
function setFileEdit(file: string, before: string | undefined, newText: string): WorkspaceEdit {
  const uri = URI.file(file).toString();
  if (before === undefined)
    return {
      documentChanges: [
        CreateFile.create(uri, { overwrite: false, ignoreIfExists: false }),
        TextDocumentEdit.create({ uri, version: null }, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText }]),
      ],
    };
  const index = new LineIndex(before);
  return { changes: { [uri]: [{ range: { start: { line: 0, character: 0 }, end: index.position(before.length) }, newText }] } };
}

/**
 * The fixes of a conflict that nothing says shares a host (`if-one-host`): "These run on one host"
 * (an `oneHost` group in the folder's .portolan.json) and "One host per project" (`hostPerProject`).
 * None when the file is broken (its own finding says why), or would have to be created and the client cannot.
 */
function hostFixes(engine: Engine, finding: Finding, env: CodeActionEnv): { title: string; edit: WorkspaceEdit }[] {
  const units = finding.data?.units;
  if (finding.messageId !== IF_ONE_HOST || !units || units.length < 2) return [];
  const folder = engine.hosts.hostOf(finding.file);
  if (!engine.hosts.sharingOf(folder)) return [];
  const config = `${folder}/${PORTOLAN_JSON}`;
  const before = engine.text(config) ?? env.readFile?.(config);
  if (before === undefined ? env.canCreateFiles === false : readPortolanJson(before).problems.some((p) => p.severity === 'error')) return [];
  const out: { title: string; edit: WorkspaceEdit }[] = [];
  const together = withOneHost(before, units);
  if (together !== undefined)
    out.push({ title: `These run on one host: oneHost ${units.join(', ')} in ${PORTOLAN_JSON}`, edit: setFileEdit(config, before, together) });
  const apart = withHostPerProject(before);
  if (apart !== undefined)
    out.push({ title: `One host per project: hostPerProject in ${PORTOLAN_JSON} (silences these)`, edit: setFileEdit(config, before, apart) });
  return out;
}

export function provideCodeActions(
  engine: Engine,
  file: string,
  range: Range,
  toDiagnostic: ToDiagnostic,
  only?: string[],
  env: CodeActionEnv = {},
): CodeAction[] {
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
    for (const fix of hostFixes(engine, finding, env))
      actions.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [toDiagnostic(finding, index)], edit: fix.edit });
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
      return provideCodeActions(ctx.engine, file, range, (f, index) => ctx.toDiagnostic(f, index), context.only, {
        readFile: readText,
        canCreateFiles: ctx.canCreateFiles?.() ?? true,
      });
    });
  },
};
