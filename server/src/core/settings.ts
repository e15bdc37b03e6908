/**
 * Settings as users write them (VS Code's `portolan.*`): the valid part is kept, the rest falls
 * back to its default, and every dropped part is named so the edge can say so. Pure.
 */
import { DEFAULT_EPHEMERAL_RANGES, parseEphemeralRanges, type NamedRange } from './portRanges';

export interface Checked<T> {
  value: T;
  /** What was dropped and why, one short sentence each. */
  problems: string[];
}

/** `hosts`: host name -> array of glob strings. Entries of another shape are dropped. */
export function checkHosts(value: unknown, name = 'portolan.hosts'): Checked<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const problems: string[] = [];
  if (value === undefined || value === null) return { value: out, problems };
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${name} must map host names to arrays of globs, not ${describe(value)}: no hosts are mapped.`);
    return { value: out, problems };
  }
  for (const [host, globs] of Object.entries(value)) {
    if (!Array.isArray(globs)) {
      problems.push(`${name}.${host} must be an array of glob strings, not ${describe(globs)}: ignored.`);
      continue;
    }
    const good = globs.filter((g): g is string => typeof g === 'string' && g !== '');
    if (good.length !== globs.length) problems.push(`${name}.${host}: ${globs.length - good.length} entries are not glob strings: ignored.`);
    if (good.length > 0) out[host] = good;
  }
  return { value: out, problems };
}

/** `ephemeralRanges`: "LOW-HIGH" strings, 0-65535, LOW <= HIGH. None valid: the defaults. */
export function checkEphemeralRanges(value: unknown, name = 'portolan.ephemeralRanges'): Checked<NamedRange[]> {
  if (value === undefined || value === null) return { value: parseEphemeralRanges(DEFAULT_EPHEMERAL_RANGES), problems: [] };
  if (!Array.isArray(value))
    return {
      value: parseEphemeralRanges(DEFAULT_EPHEMERAL_RANGES),
      problems: [`${name} must be an array of "LOW-HIGH" strings, not ${describe(value)}: the defaults apply.`],
    };
  const problems: string[] = [];
  const kept: string[] = [];
  for (const entry of value) {
    if (typeof entry === 'string' && parseEphemeralRanges([entry]).length === 1) kept.push(entry);
    else problems.push(`${name}: ${JSON.stringify(entry)} is not a port range "LOW-HIGH" (0-65535, LOW <= HIGH): ignored.`);
  }
  if (kept.length === 0 && value.length > 0) {
    problems.push(`${name} has no valid range: the defaults (${DEFAULT_EPHEMERAL_RANGES.join(', ')}) apply.`);
    return { value: parseEphemeralRanges(DEFAULT_EPHEMERAL_RANGES), problems };
  }
  return { value: parseEphemeralRanges(kept), problems };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}` : `a ${typeof v}`;
}
