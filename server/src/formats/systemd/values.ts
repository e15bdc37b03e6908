/**
 * Values systemd's units and configuration files share: parse_boolean()'s words and inet_pton()'s
 * IPv4 form. Where systemd cannot read a value it ignores the line with a warning (the unit still loads).
 */
import * as ipaddr from 'ipaddr.js';
import { parseIp } from '../../core/address';
import type { Finding, Span } from '../../core/types';

/** parse_boolean(): the words systemd reads as true and as false (compare in lower case). */
export const TRUE_WORDS = new Set(['1', 'yes', 'y', 'true', 't', 'on']);
export const FALSE_WORDS = new Set(['0', 'no', 'n', 'false', 'f', 'off']);

/** inet_pton(AF_INET): only a dotted quad of decimal numbers without leading zeros; undefined otherwise. */
export function inetPtonV4(text: string): { address?: string } | undefined {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text) || !ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  if (text.split('.').some((p) => p.length > 1 && p.startsWith('0'))) return undefined;
  return { address: parseIp(text)?.address };
}

/** A line systemd ignores (a warning: the rest of the file still applies). */
export function ignoredLine(file: string, span: Span, code: 'syntax' | 'invalid-port', message: string): Finding {
  return { file, span, severity: 'warning', code, message };
}
