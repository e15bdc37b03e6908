/**
 * What the command line says about each diagnostic code (SARIF `tool.driver.rules[]`): the rules'
 * own metadata (server/src/rules/), in one adapter.
 */
import type { DiagnosticCode, Severity } from '../core/types';
import { RULES } from '../rules/index';

export interface RuleInfo {
  code: DiagnosticCode;
  /** The severity the rule reports with (a rule may report a milder case lower). */
  severity: Severity;
  /** One sentence: what the rule finds. */
  description: string;
  /** A paragraph (Markdown allowed): what it finds, why it matters (SARIF fullDescription and help). */
  fullDescription: string;
  /** The rule's documentation page, relative to the repository root. */
  docs: string;
}

/** Every diagnostic code with its metadata, in rule order (SARIF's ruleIndex is the position). */
export function ruleInfos(): RuleInfo[] {
  return RULES.map((r) => ({
    code: r.meta.code,
    severity: r.meta.severity,
    description: r.meta.description,
    fullDescription: r.meta.docs.body,
    docs: `docs/rules/${r.meta.code}.md`,
  }));
}
