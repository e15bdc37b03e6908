/**
 * `--format sarif`: SARIF 2.1.0 (validated in the tests against the schema in
 * test/fixtures/sarif-schema-2.1.0.json), as GitHub code scanning and other viewers read it.
 * Paths under the working directory are relative to the `SRCROOT` base (the working directory),
 * others absolute file URIs; columns count UTF-16 code units, as the JSON output's.
 */
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { Severity } from '../core/types';
import type { Located, Report, ReportFinding } from './collect';
import type { RuleInfo } from './ruleMeta';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
/** The key of our partialFingerprints entry (its value: hash:occurrence). */
export const FINGERPRINT_KEY = 'portolanFindingHash/v1';

export interface SarifTool {
  name: string;
  version: string;
  /** Whether a rule's docs page (repository-relative) exists: help names only pages that do. */
  hasDocs?: (docs: string) => boolean;
  /** Repository URL from package.json, for helpUri (omitted without one). */
  repository?: string;
}

function level(s: Severity): 'error' | 'warning' | 'note' {
  return s === 'error' ? 'error' : s === 'warning' ? 'warning' : 'note';
}

function artifactLocation(l: Located, cwd: string) {
  const rel = path.posix.relative(cwd, l.absolute);
  if (rel !== '' && !rel.startsWith('..') && !path.posix.isAbsolute(rel))
    return { uri: rel.split('/').map(encodeURIComponent).join('/'), uriBaseId: 'SRCROOT' };
  return { uri: pathToFileURL(l.absolute).href };
}

function region(l: Located) {
  return { startLine: l.start.line, startColumn: l.start.column, endLine: l.end.line, endColumn: l.end.column };
}

function sarifRule(r: RuleInfo, tool: SarifTool) {
  // SARIF's text is plain: the docs body's Markdown code spans lose their backticks there (markdown keeps them).
  const plain = r.fullDescription.replace(/`([^`]*)`/g, '$1');
  const rule: Record<string, unknown> = {
    id: r.code,
    name: r.code.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase()),
    shortDescription: { text: r.description },
    fullDescription: { text: plain },
    help: {
      text: tool.hasDocs?.(r.docs) ? `${plain} Documentation: ${r.docs} in the Portolan repository.` : plain,
      markdown: tool.hasDocs?.(r.docs) ? `${r.fullDescription}\n\nDocumentation: \`${r.docs}\` in the Portolan repository.` : r.fullDescription,
    },
    defaultConfiguration: { level: level(r.severity) },
    properties: { tags: ['configuration', 'ports'] },
  };
  if (tool.repository && tool.hasDocs?.(r.docs)) rule.helpUri = `${tool.repository.replace(/\.git$/, '').replace(/\/$/, '')}/blob/main/${r.docs}`;
  return rule;
}

function sarifResult(f: ReportFinding, ruleIndex: number, cwd: string) {
  const result: Record<string, unknown> = {
    ruleId: f.finding.code,
    ruleIndex,
    level: level(f.finding.severity),
    message: { text: f.finding.message },
    locations: [{ physicalLocation: { artifactLocation: artifactLocation(f, cwd), region: region(f) } }],
    partialFingerprints: { [FINGERPRINT_KEY]: f.fingerprint },
    properties: { host: f.host, ...(f.format ? { format: f.format } : {}) },
  };
  if (f.related.length)
    result.relatedLocations = f.related.map((r, i) => ({
      id: i + 1,
      physicalLocation: { artifactLocation: artifactLocation(r, cwd), region: region(r) },
      message: { text: r.message },
    }));
  if (f.fixes.length)
    result.fixes = f.fixes.map((x) => {
      const byFile = new Map<string, (typeof x.edits)[number][]>();
      for (const e of x.edits) byFile.set(e.absolute, [...(byFile.get(e.absolute) ?? []), e]);
      return {
        description: { text: x.title },
        artifactChanges: [...byFile.values()].map((edits) => ({
          artifactLocation: artifactLocation(edits[0], cwd),
          replacements: edits.map((e) => ({ deletedRegion: region(e), insertedContent: { text: e.newText } })),
        })),
      };
    });
  return result;
}

export function sarifReport(report: Report, findings: ReportFinding[], rules: RuleInfo[], tool: SarifTool): string {
  const ruleIndex = new Map(rules.map((r, i) => [r.code as string, i]));
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Portolan',
            version: tool.version,
            semanticVersion: tool.version,
            ...(tool.repository ? { informationUri: tool.repository } : {}),
            rules: rules.map((r) => sarifRule(r, tool)),
          },
        },
        originalUriBaseIds: { SRCROOT: { uri: pathToFileURL(report.cwd.endsWith('/') ? report.cwd : report.cwd + '/').href } },
        columnKind: 'utf16CodeUnits',
        results: findings.map((f) => sarifResult(f, ruleIndex.get(f.finding.code)!, report.cwd)),
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
}
