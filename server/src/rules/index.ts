/**
 * Every rule, one per file (`rules/<code>.ts`), in the order of the public code list. A new rule is
 * a file exporting `createRule({...})`, its code added to `DiagnosticCode` (core/types.ts) and one
 * line here; `npm run generate:rule-docs` writes its docs page.
 */
import type { DiagnosticCode } from '../core/types';
import type { Rule } from './rule';
import { syntax } from './syntax';
import { invalidPort } from './invalid-port';
import { unknownService } from './unknown-service';
import { ephemeralPort } from './ephemeral-port';
import { portConflict } from './port-conflict';
import { duplicateDefaultServer } from './duplicate-default-server';
import { duplicateListenOptions } from './duplicate-listen-options';
import { firewallBlocked } from './firewall-blocked';
import { sshLockoutRule } from './ssh-lockout';
import { dockerBypassesFirewall } from './docker-bypasses-firewall';
import { firewallUnused } from './firewall-unused';
import { portolanJson } from './portolan-json';
import { notExposed } from './not-exposed';
import { upstreamUnbound } from './upstream-unbound';

export const RULES = [
  syntax,
  invalidPort,
  unknownService,
  ephemeralPort,
  portConflict,
  duplicateDefaultServer,
  duplicateListenOptions,
  firewallBlocked,
  sshLockoutRule,
  dockerBypassesFirewall,
  firewallUnused,
  portolanJson,
  notExposed,
  upstreamUnbound,
] as const;

type RuleCode = (typeof RULES)[number]['meta']['code'];
// Every DiagnosticCode has a rule (the compiler refuses this line otherwise); each rule's code is a DiagnosticCode by its type.
const everyCodeHasARule: [Exclude<DiagnosticCode, RuleCode>] extends [never] ? true : false = true;
void everyCodeHasARule;

/** The public list of diagnostic codes, in rule order (SARIF's ruleIndex is the position). */
export const DIAGNOSTIC_CODES: readonly DiagnosticCode[] = RULES.map((r) => r.meta.code);

const BY_CODE = new Map<string, Rule>(RULES.map((r) => [r.meta.code, r]));

/** The rule of a code, if it is one. */
export function ruleOf(code: string): Rule | undefined {
  return BY_CODE.get(code);
}
