/** Range classes of port numbers and the ephemeral ranges used for warnings. Pure. */

export const MAX_PORT = 65535;

export interface NamedRange {
  from: number;
  to: number;
  label: string;
}

/** IANA's three classes (RFC 6335). */
export function ianaClass(port: number): NamedRange {
  if (port <= 1023) return { from: 0, to: 1023, label: 'well-known (system) port: binding needs root or CAP_NET_BIND_SERVICE' };
  if (port <= 49151) return { from: 1024, to: 49151, label: 'registered (user) port' };
  return { from: 49152, to: 65535, label: 'dynamic/ephemeral port (IANA)' };
}

export const IANA_EPHEMERAL: NamedRange = { from: 49152, to: 65535, label: 'IANA dynamic/ephemeral range 49152-65535' };
export const LINUX_EPHEMERAL: NamedRange = { from: 32768, to: 60999, label: 'Linux ephemeral range 32768-60999 (net.ipv4.ip_local_port_range)' };
export const DEFAULT_EPHEMERAL_RANGES = ['49152-65535', '32768-60999'];

/** Parses the `portolan.ephemeralRanges` setting; malformed entries are skipped. */
export function parseEphemeralRanges(setting: unknown): NamedRange[] {
  const entries = Array.isArray(setting) ? setting : DEFAULT_EPHEMERAL_RANGES;
  const ranges: NamedRange[] = [];
  for (const entry of entries) {
    const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(String(entry));
    if (!m) continue;
    const from = Number(m[1]);
    const to = Number(m[2]);
    if (from > to || to > MAX_PORT) continue;
    const known = [IANA_EPHEMERAL, LINUX_EPHEMERAL].find((r) => r.from === from && r.to === to);
    ranges.push(known ?? { from, to, label: `ephemeral range ${from}-${to}` });
  }
  return ranges;
}

/** The ephemeral ranges that [port, portEnd] overlaps. */
export function ephemeralOverlaps(port: number, portEnd: number, ranges: NamedRange[]): NamedRange[] {
  return ranges.filter((r) => port <= r.to && portEnd >= r.from);
}

/** Parses a decimal port as real programs do: digits only, 0-65535. */
export function parsePortNumber(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_PORT ? n : undefined;
}

/** "8080" or "8000-8010". */
export function rangeText(r: { from: number; to: number }): string {
  return r.from === r.to ? String(r.from) : `${r.from}-${r.to}`;
}
