/** The plain output: one `file:line:col severity code message` line per finding, then a summary line. */
import type { Report, ReportFinding } from './collect';

export function textFindings(findings: ReportFinding[], files: number, quiet: boolean): string {
  const lines = findings.map((f) => `${f.shown}:${f.start.line}:${f.start.column} ${f.finding.severity} ${f.finding.code} ${f.finding.message}`);
  const count = (s: string) => findings.filter((f) => f.finding.severity === s).length;
  const notes = count('information') + count('hint');
  lines.push(
    quiet
      ? `${files} files checked: ${count('error')} errors (--quiet: warnings and notes not shown)`
      : `${files} files checked: ${count('error')} errors, ${count('warning')} warnings, ${notes} notes`,
  );
  return lines.join('\n') + '\n';
}

/** `--list-files`: every file read with its format, host and program instances, then what the scan skipped. */
export function textFileList(report: Report): string {
  const lines = report.files.map((f) => {
    const alias = f.aliasOf ? ` link-to=${f.aliasOf}` : '';
    const notes = f.notes ? ` (${f.notes.join('; ')})` : '';
    return `read ${f.shown} format=${f.format ?? '-'} host=${f.host} instance=${f.instances.join(',') || '-'}${alias}${notes}`;
  });
  for (const s of report.skipped) lines.push(`skipped ${s.shown} (${s.reason})`);
  lines.push(`${report.files.length} files read, ${report.skipped.length} skipped`);
  return lines.join('\n') + '\n';
}
