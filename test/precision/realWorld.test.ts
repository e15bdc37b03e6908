/**
 * Precision on real repositories: every workspace of ../shared/corpus/workspaces is checked as the
 * command line checks a folder (the folder is the workspace, findings relative to it), and every
 * error and warning must be one we judged true by hand and with the real programs
 * (test/precision/expected/<workspace>.json). Information and hints are allowed, and listed.
 *
 * False findings we still produce are listed in test/precision/known-false/<workspace>.json with
 * why they are false: the list must shrink. A listed finding that is no longer produced fails the
 * test (remove it from the list), so the list always says exactly what is still wrong.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { collect, type ReportFinding } from '../../server/src/cli/collect';

const ROOT = path.resolve(__dirname, '..', '..');
const CORPUS = path.join(process.env.PORTOLAN_CORPUS ?? path.resolve(ROOT, '..', 'shared', 'corpus'), 'workspaces');
const EXPECTED = path.join(__dirname, 'expected');
const KNOWN_FALSE = path.join(__dirname, 'known-false');

/** One judged finding: where, what, and why we judged it so. */
export interface Judged {
  code: string;
  file: string;
  line: number;
  severity: string;
  reason: string;
}

const keyOf = (f: { severity: string; code: string; file: string; line: number }) => `${f.severity} ${f.code} ${f.file}:${f.line}`;
const loud = (severity: string) => severity === 'error' || severity === 'warning';

function readList(dir: string, workspace: string): Judged[] | undefined {
  const file = path.join(dir, `${workspace}.json`);
  if (!fs.existsSync(file)) return undefined;
  const list = JSON.parse(fs.readFileSync(file, 'utf8')) as Judged[];
  for (const j of list) {
    for (const field of ['code', 'file', 'severity', 'reason'] as const)
      assert.ok(typeof j[field] === 'string' && j[field] !== '', `${file}: an entry without ${field}: ${JSON.stringify(j)}`);
    assert.ok(Number.isInteger(j.line) && j.line > 0, `${file}: an entry without a line: ${JSON.stringify(j)}`);
  }
  return list;
}

/** Takes one entry of `key` out of a multiset; false when there is none left. */
function take(bag: Map<string, number>, key: string): boolean {
  const n = bag.get(key) ?? 0;
  if (n === 0) return false;
  bag.set(key, n - 1);
  return true;
}

function bagOf(list: Judged[]): Map<string, number> {
  const bag = new Map<string, number>();
  for (const j of list) bag.set(keyOf(j), (bag.get(keyOf(j)) ?? 0) + 1);
  return bag;
}

export interface WorkspaceVerdict {
  findings: ReportFinding[];
  /** Errors and warnings judged neither true nor known-false. */
  unexpected: ReportFinding[];
  /** Known-false findings still produced (counted as unexpected in the summary line). */
  knownFalse: ReportFinding[];
  /** Expected findings not produced. */
  missing: Judged[];
  /** Known-false entries no longer produced: the list must drop them. */
  stale: Judged[];
  expected: number;
  found: number;
  quiet: ReportFinding[];
}

/** Judges the findings of one workspace against its lists. */
export function judge(findings: ReportFinding[], expected: Judged[], knownFalse: Judged[]): WorkspaceVerdict {
  const exp = bagOf(expected);
  const kf = bagOf(knownFalse);
  const verdict: WorkspaceVerdict = { findings, unexpected: [], knownFalse: [], missing: [], stale: [], expected: expected.length, found: 0, quiet: [] };
  for (const f of findings) {
    const key = keyOf({ severity: f.finding.severity, code: f.finding.code, file: f.shown, line: f.start.line });
    if (take(exp, key)) verdict.found++;
    else if (!loud(f.finding.severity)) verdict.quiet.push(f);
    else if (take(kf, key)) verdict.knownFalse.push(f);
    else verdict.unexpected.push(f);
  }
  const left = (bag: Map<string, number>, list: Judged[]) => list.filter((j) => take(bag, keyOf(j)));
  verdict.missing = left(exp, expected);
  verdict.stale = left(kf, knownFalse);
  return verdict;
}

const show = (f: ReportFinding) => `${f.finding.severity} ${f.finding.code} ${f.shown}:${f.start.line} ${f.finding.message.slice(0, 160)}`;

describe('real-world precision: the corpus workspaces', function () {
  const totals = { findings: 0, unexpected: 0, knownFalse: 0, expected: 0, found: 0 };
  let workspaces: string[] = [];

  before(function () {
    if (!fs.existsSync(CORPUS)) {
      if (process.env.CI === 'true') throw new Error(`corpus not found at ${CORPUS}`);
      console.log(`      skipped: corpus not found at ${CORPUS}`);
      this.skip();
    }
  });

  after(() => {
    if (workspaces.length === 0) return;
    console.log(
      `      real-world: ${totals.findings} findings, ${totals.unexpected + totals.knownFalse} unexpected, ${totals.found}/${totals.expected} expected` +
        ` (${totals.knownFalse} of the unexpected are listed known-false and must go)`,
    );
  });

  workspaces = fs.existsSync(CORPUS)
    ? fs
        .readdirSync(CORPUS, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];

  it('every workspace has a judged expected-findings file, and every file names a workspace', () => {
    const judged = fs.readdirSync(EXPECTED).map((f) => f.replace(/\.json$/, ''));
    assert.deepStrictEqual(
      workspaces.filter((w) => !judged.includes(w)),
      [],
      'workspaces without test/precision/expected/<workspace>.json',
    );
    const lists = [...judged, ...(fs.existsSync(KNOWN_FALSE) ? fs.readdirSync(KNOWN_FALSE) : []).map((f) => f.replace(/\.json$/, ''))];
    assert.deepStrictEqual(
      lists.filter((w) => !workspaces.includes(w)),
      [],
      'lists for workspaces the corpus does not hold',
    );
  });

  for (const workspace of workspaces) {
    it(workspace, () => {
      const dir = path.join(CORPUS, workspace);
      const expected = readList(EXPECTED, workspace) ?? [];
      const knownFalse = readList(KNOWN_FALSE, workspace) ?? [];
      const v = judge(collect([dir], dir).findings, expected, knownFalse);
      totals.findings += v.findings.length;
      totals.unexpected += v.unexpected.length;
      totals.knownFalse += v.knownFalse.length;
      totals.expected += v.expected;
      totals.found += v.found;
      const loudCount = v.findings.filter((f) => loud(f.finding.severity)).length;
      console.log(
        `        ${workspace}: ${loudCount} errors/warnings: ${v.found}/${v.expected} expected, ${v.knownFalse.length} known-false, ${v.unexpected.length} unexpected; ${v.quiet.length} information/hints`,
      );
      for (const f of v.quiet) console.log(`          allowed: ${show(f)}`);
      const problems = [
        ...v.unexpected.map((f) => `unexpected: ${show(f)}`),
        ...v.missing.map((j) => `missing expected: ${keyOf(j)} (${j.reason})`),
        ...v.stale.map((j) => `no longer produced, remove from known-false/${workspace}.json: ${keyOf(j)}`),
      ];
      assert.deepStrictEqual(problems, [], problems.join('\n'));
    });
  }
});
