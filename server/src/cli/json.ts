/** `--format json`: one document, described by docs/portolan-output.schema.json. */
import type { Located, Report, ReportFinding } from './collect';

export const JSON_OUTPUT_VERSION = 1;

function where(l: Located) {
  return { file: l.shown, path: l.absolute, line: l.start.line, column: l.start.column, endLine: l.end.line, endColumn: l.end.column };
}

export function jsonReport(report: Report, findings: ReportFinding[], tool: { name: string; version: string }): string {
  const count = (s: string) => findings.filter((f) => f.finding.severity === s).length;
  const doc = {
    version: JSON_OUTPUT_VERSION,
    tool,
    cwd: report.cwd,
    summary: {
      files: report.files.filter((f) => f.format !== undefined).length,
      errors: count('error'),
      warnings: count('warning'),
      information: count('information'),
      hints: count('hint'),
    },
    findings: findings.map((f) => ({
      ...where(f),
      severity: f.finding.severity,
      code: f.finding.code,
      message: f.finding.message,
      host: f.host,
      format: f.format ?? null,
      fingerprint: f.fingerprint,
      related: f.related.map((r) => ({ ...where(r), message: r.message })),
      fixes: f.fixes.map((x) => ({ title: x.title, preferred: x.preferred, edits: x.edits.map((e) => ({ ...where(e), newText: e.newText })) })),
    })),
    files: report.files.map((f) => ({
      file: f.shown,
      path: f.absolute,
      format: f.format ?? null,
      host: f.host,
      instances: f.instances,
      ...(f.aliasOf ? { linkTo: f.aliasOf } : {}),
      ...(f.notes ? { notes: f.notes } : {}),
    })),
    skipped: report.skipped.map((s) => ({ file: s.shown, path: s.absolute, reason: s.reason })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
