/**
 * The edits firewalld quick fixes make in a zone file: a `<port protocol="tcp" port="P"/>` element
 * before `</zone>`, indented like the zone's other elements. Only when the zone's target decides (no
 * element matched): firewalld meets a rich rule that drops or rejects before the zone's ports, so a
 * port added after it would change nothing.
 */
import type { AllowRequest, FormatWriter, TextEdit } from '../../core/types';
import { insertAt, lineAt, lineBreak } from '../netfilter/writer';

function allowPort(text: string, file: string, req: AllowRequest): TextEdit[] | undefined {
  if (req.rule) return undefined;
  const close = /<\/zone\s*>/.exec(text);
  if (!close) return undefined;
  const nl = lineBreak(text);
  const element = `<port protocol="${req.protocol}" port="${req.port}"/>`;
  const child = /\n([ \t]+)<[a-z]/.exec(text.slice(text.indexOf('<zone'), close.index));
  const indent = child ? child[1] : '  ';
  const line = lineAt(text, close.index);
  if (text.slice(line.start, close.index).trim() === '') return [insertAt(file, line.start, `${indent}${element}${nl}`)];
  return [insertAt(file, close.index, element)];
}

/** What the firewall fixes write in firewalld zone files. */
export const firewalldWriter: FormatWriter = { allowPort };
