/** Findings -> LSP diagnostics. */
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import { URI } from 'vscode-uri';
import { LineIndex } from '../core/lineIndex';
import type { Finding, Severity } from '../core/types';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function toDiagnostic(finding: Finding, index: LineIndex, indexOf: (file: string) => LineIndex | undefined): Diagnostic {
  return {
    range: { start: index.position(finding.span.start), end: index.position(finding.span.end) },
    severity: SEVERITY[finding.severity],
    code: finding.code,
    source: 'portolan',
    message: finding.message,
    relatedInformation: finding.related?.flatMap((r) => {
      const other = indexOf(r.file);
      if (!other) return [];
      return [
        { location: { uri: URI.file(r.file).toString(), range: { start: other.position(r.span.start), end: other.position(r.span.end) } }, message: r.message },
      ];
    }),
  };
}
