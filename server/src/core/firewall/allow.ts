/**
 * The "Allow TCP P in <file>" fix the firewall rules offer (firewall-blocked, ssh-lockout): for every
 * firewall that blocks the port today, an accept rule in that firewall's own syntax (its format's
 * `FormatWriter.allowPort`), in the file and chain where the deciding rule or policy sits, placed so
 * the chain meets it first. All or nothing: when one blocking firewall cannot be written faithfully (a
 * rule in ufw's before.rules, a firewalld rich rule, an `-I` line), no fix is offered. Pure.
 */
import { editsOverlap } from '../fixes';
import type { RuleContext } from '../hostModel';
import type { Fix, Protocol, TextEdit } from '../types';
import type { FamilyVerdict } from './verdict';

/** The text of the line holding `offset`. */
function lineOf(text: string | undefined, offset: number): string {
  if (text === undefined) return '';
  const end = text.indexOf('\n', offset);
  return text.slice(text.lastIndexOf('\n', offset - 1) + 1, end < 0 ? text.length : end);
}

/** The edits that let `port` through the one firewall of `v`, or undefined. */
function allowEdits(ctx: RuleContext, v: FamilyVerdict, protocol: 'tcp' | 'udp', port: number): TextEdit[] | undefined {
  const byRule = v.by.kind === 'rule';
  // firewalld meets a rich rule that drops or rejects before the zone's ports: a port would change nothing.
  if (byRule && v.tool === 'firewalld') return undefined;
  // ufw's user rules live in user.rules/user6.rules (the instance root); its policy is in /etc/default/ufw.
  const file = byRule ? v.by.file : v.tool === 'ufw' || v.tool === 'firewalld' || v.by.implicit ? v.root : v.by.file;
  if (byRule && v.tool === 'ufw' && file !== v.root) return undefined;
  // IPV6=no: ufw loads no IPv6 rules at all, so a rule in user6.rules would change nothing.
  if (v.tool === 'ufw' && v.family === 'ipv6' && /^\s*IPV6\s*=/m.test(lineOf(ctx.textOf?.(v.by.file), v.by.span.start))) return undefined;
  const writer = ctx.writerOf?.(file);
  const text = ctx.textOf?.(file);
  if (!writer?.allowPort || text === undefined) return undefined;
  return writer.allowPort(text, file, {
    protocol,
    port,
    family: v.family,
    ...(byRule ? { rule: v.by.span } : {}),
    ...(!byRule && !v.by.implicit && file === v.by.file ? { policy: v.by.span } : {}),
  });
}

/** "Allow TCP P in rules.v4 and rules.v6": one accept rule per blocking firewall, or undefined. */
export function allowFix(ctx: RuleContext, blocked: readonly FamilyVerdict[], protocol: Protocol, port: number): Fix | undefined {
  if ((protocol !== 'tcp' && protocol !== 'udp') || blocked.length === 0) return undefined;
  const edits: TextEdit[] = [];
  for (const v of blocked) {
    const mine = allowEdits(ctx, v, protocol, port);
    if (!mine) return undefined;
    for (const e of mine) {
      // One inet chain judges IPv4 and IPv6: the same rule once.
      if (edits.some((x) => x.file === e.file && x.span.start === e.span.start && x.newText === e.newText)) continue;
      if (edits.some((x) => editsOverlap(x, e))) return undefined;
      edits.push(e);
    }
  }
  const files = [...new Set(edits.map((e) => e.file.slice(e.file.lastIndexOf('/') + 1)))].sort();
  return { title: `Allow ${protocol.toUpperCase()} ${port} in ${files.join(' and ')}`, edits };
}
