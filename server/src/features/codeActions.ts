/** textDocument/codeAction: the quick fixes that findings carry, as workspace edits. */
import { CodeActionKind, type CodeAction, type Diagnostic, type Range } from 'vscode-languageserver';
import { URI } from 'vscode-uri';
import type { Engine } from '../core/engine';
import type { LineIndex } from '../core/lineIndex';
import type { Finding } from '../core/types';
import { ignoreFix } from '../core/ignore';
import type { Feature } from './feature';

export function provideCodeActions(engine: Engine, file: string, range: Range, toDiagnostic: (f: Finding, index: LineIndex) => Diagnostic): CodeAction[] {
  const findings = engine.analyze().findingsByFile.get(file) ?? [];
  const index = engine.lineIndex(file);
  const start = index.offset(range.start.line, range.start.character);
  const end = index.offset(range.end.line, range.end.character);
  const actions: CodeAction[] = [];
  const text = engine.text(file) ?? '';
  const format = engine.analyze().formatOf.get(file);
  for (const finding of findings) {
    if (finding.span.end < start || finding.span.start > end) continue;
    const ignore = ignoreFix(text, index, finding, format);
    for (const fix of [...(finding.fixes ?? []), ...(ignore ? [ignore] : [])]) {
      const changes: Record<string, { range: Range; newText: string }[]> = {};
      for (const edit of fix.edits) {
        const idx = engine.lineIndex(edit.file);
        (changes[URI.file(edit.file).toString()] ??= []).push({
          range: { start: idx.position(edit.span.start), end: idx.position(edit.span.end) },
          newText: edit.newText,
        });
      }
      actions.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [toDiagnostic(finding, index)],
        isPreferred: fix.preferred,
        edit: { changes },
      });
    }
  }
  return actions;
}

export const codeActionFeature: Feature = {
  name: 'codeAction',
  capabilities: { codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] } },
  register(ctx) {
    ctx.connection.onCodeAction(({ textDocument, range }) => {
      const file = ctx.pathOf(textDocument.uri);
      if (!file) return [];
      return provideCodeActions(ctx.engine, file, range, (f, index) => ctx.toDiagnostic(f, index));
    });
  },
};
