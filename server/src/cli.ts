#!/usr/bin/env node
/**
 * Command line on the same engine as the language server:
 *   portolan check [options] [PATH...]   findings as text, JSON or SARIF; exit 0 / 1 (findings at or
 *   above the threshold) / 2 (usage or configuration error). Options: cli/options.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { SEVERITY_RANK, ConfigError, collect, type Report, type ReportFinding } from './cli/collect';
import { jsonReport } from './cli/json';
import { USAGE, UsageError, parseCheckArgs, type CheckOptions } from './cli/options';
import { ruleInfos } from './cli/ruleMeta';
import { sarifReport } from './cli/sarif';
import { textFileList, textFindings } from './cli/text';

/**
 * Portolan's own folder: the nearest directory above this module with a package.json named
 * "portolan" (the repository for tsc's server/out/ and for tsx, the package for a bundle).
 */
function packageRoot(): string | undefined {
  for (let at = __dirname; path.dirname(at) !== at; at = path.dirname(at)) {
    try {
      if ((JSON.parse(fs.readFileSync(path.join(at, 'package.json'), 'utf8')) as { name?: string }).name === 'portolan') return at;
    } catch {
      // no package.json here, or not JSON: keep walking up
    }
  }
  return undefined;
}

function packageInfo(): { version: string; repository?: string } {
  const root = packageRoot();
  if (!root) return { version: '0.0.0' };
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string; repository?: string | { url?: string } };
  const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  return { version: pkg.version ?? '0.0.0', repository: repo?.replace(/^git\+/, '') };
}

/** A rule's docs page (relative to Portolan's folder) is there. */
function hasDocs(docs: string): boolean {
  const root = packageRoot();
  return root !== undefined && fs.existsSync(path.join(root, docs));
}

/** What the run prints and its exit status (0 clean, 1 findings at or above the threshold). */
export function renderCheck(report: Report, opts: CheckOptions): { output: string; exitCode: 0 | 1 } {
  const pkg = packageInfo();
  // --quiet: as if only errors had been found (not printed, not counted).
  const shown: ReportFinding[] = opts.quiet ? report.findings.filter((f) => f.finding.severity === 'error') : report.findings;
  const checked = report.files.filter((f) => f.format !== undefined).length;
  const atThreshold = shown.some((f) => SEVERITY_RANK[f.finding.severity] >= SEVERITY_RANK[opts.threshold]);
  const warnings = shown.filter((f) => f.finding.severity === 'warning').length;
  const failed = atThreshold || (opts.maxWarnings !== undefined && warnings > opts.maxWarnings);
  let output: string;
  if (opts.format === 'json') output = jsonReport(report, shown, { name: 'portolan', version: pkg.version });
  else if (opts.format === 'sarif') output = sarifReport(report, shown, ruleInfos(), { name: 'portolan', ...pkg, hasDocs });
  else output = opts.listFiles ? textFileList(report) : textFindings(shown, checked, opts.quiet);
  // --list-files asks what is read, not for a verdict.
  return { output, exitCode: failed && !opts.listFiles ? 1 : 0 };
}

/** The text lines of a check (no summary line) and the counts, for in-process callers (tests). */
export function runCheck(paths: string[], out: (line: string) => void): { errors: number; warnings: number; infos: number; files: number } {
  const report = collect(paths);
  const counts = { errors: 0, warnings: 0, infos: 0, files: report.files.filter((f) => f.format !== undefined).length };
  const lines = textFindings(report.findings, counts.files, false).trimEnd().split('\n');
  lines.slice(0, -1).forEach(out);
  for (const f of report.findings) {
    if (f.finding.severity === 'error') counts.errors++;
    else if (f.finding.severity === 'warning') counts.warnings++;
    else counts.infos++;
  }
  return counts;
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command === '--version' || (command === 'check' && rest.includes('--version'))) {
    process.stdout.write(`portolan ${packageInfo().version}\n`);
    return 0;
  }
  if (command === '-h' || command === '--help' || (command === 'check' && rest.some((a) => a === '-h' || a === '--help'))) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    if (command !== 'check') throw new UsageError(command === undefined ? 'no command given' : `unknown command '${command}'`);
    const opts = parseCheckArgs(rest);
    const { output, exitCode } = renderCheck(collect(opts.paths), opts);
    process.stdout.write(output);
    return exitCode;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`portolan: ${e.message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`portolan: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
