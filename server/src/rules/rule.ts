/**
 * What a rule is, in the manner of typescript-eslint's `createRule({ name, meta, create })`: each
 * `rules/<code>.ts` exports one, with its metadata (the code it reports, default severity, a
 * one-line description, whether it offers quick fixes, a docs paragraph with an example that fires
 * and one that does not) and `create(ctx)`, which returns the check the engine runs over each
 * host's model. The rule's fixes live in its file too. Rules import core only.
 */
import type { HostModel, HostRule, RuleContext } from '../core/hostModel';
import type { DiagnosticCode, Finding, Severity } from '../core/types';

/** A small workspace: path (relative to the host's folder, e.g. `etc/ssh/sshd_config`) -> text. */
export type ExampleFiles = Record<string, string>;

export interface RuleDocs {
  /** A paragraph (Markdown): what the rule finds, why it matters, and what the program does. */
  body: string;
  /** Files on one host where the rule fires. */
  fires: ExampleFiles;
  /** Files on one host where it stays silent (usually the fixed version of `fires`). */
  silent: ExampleFiles;
}

export interface RuleFixDoc {
  /** The title as the editor shows it, with placeholders in capitals: "Use port N". */
  title: string;
  /** When it is offered and what it changes (one sentence). */
  when: string;
  /** Whether it is the preferred fix (what "Fix all" applies). */
  preferred?: boolean;
}

export interface RuleMeta<Code extends DiagnosticCode = DiagnosticCode> {
  code: Code;
  /** The severity the rule reports with by default (a milder case may report lower; `portolan.severity` overrides). */
  severity: Severity;
  /** One sentence: what the rule finds. */
  description: string;
  /** Whether some of its findings carry quick fixes (then `fixes` lists them). */
  fixable: boolean;
  /** The quick fixes its findings offer besides the ignore comments: what each is called and when it is offered (the docs page lists them). */
  fixes?: RuleFixDoc[];
  /**
   * Who reports it: `host` rules judge a host model in their `create`; `parser` codes are reported by
   * a format's parser or linker where the program itself rejects the text (the rule file names and
   * documents them, and its check finds nothing more at host level).
   */
  reportedBy: 'host' | 'parser';
  /** messageId -> what that kind of finding says (findings name theirs in `messageId`). */
  messages?: Record<string, string>;
  docs: RuleDocs;
}

export interface Rule<Code extends DiagnosticCode = DiagnosticCode> extends HostRule {
  /** The rule's name: its code. */
  readonly name: Code;
  readonly meta: RuleMeta<Code>;
  create(ctx: RuleContext): (host: HostModel) => Finding[];
}

export function createRule<Code extends DiagnosticCode>(rule: {
  name: Code;
  meta: RuleMeta<Code>;
  create(ctx: RuleContext): (host: HostModel) => Finding[];
}): Rule<Code> {
  if (rule.name !== rule.meta.code) throw new Error(`rule ${rule.name} reports ${rule.meta.code}`);
  return rule;
}

/** The check of a code its parsers report: nothing more at host level. */
export function reportedByParser(): () => Finding[] {
  return () => [];
}

/** The rule of a code a format's parser or linker reports: its metadata, and a check that adds nothing. */
export function parserRule<Code extends DiagnosticCode>(meta: Omit<RuleMeta<Code>, 'reportedBy'>): Rule<Code> {
  return createRule({ name: meta.code, meta: { ...meta, reportedBy: 'parser' }, create: reportedByParser });
}
