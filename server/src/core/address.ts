/** IP address helpers shared by the parsers and the host model. Pure. */
import * as ipaddr from 'ipaddr.js';
import { BoundedCache } from './boundedCache';
import type { IpFamily } from './types';

export interface ParsedAddress {
  family: IpFamily;
  /** Canonical text (RFC 5952 for IPv6); undefined for the family's wildcard. */
  address?: string;
}

/**
 * Parses a literal IP address (IPv6 with or without brackets); hostnames give undefined. Each answer is a
 * new object, but the canonical text of one address is one string (a workspace writes 127.0.0.1 thousands of times).
 */
export function parseIp(text: string): ParsedAddress | undefined {
  // No address is this long (a zone index included); such text is not kept.
  if (text.length > 80) return parseIpUncached(text);
  const known = parsedIps.get(text, parseIpUncached);
  if (known === undefined) return undefined;
  return known.address === undefined ? { family: known.family } : { family: known.family, address: known.address };
}

const parsedIps = new BoundedCache<string, ParsedAddress | undefined>(50_000);

function parseIpUncached(text: string): ParsedAddress | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // Cheap shape tests first: ipaddr.js answers "no" by throwing, which costs a stack trace per call.
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(bare) && ipaddr.IPv4.isValidFourPartDecimal(bare)) {
    const canonical = ipaddr.IPv4.parse(bare).toString();
    return { family: 'ipv4', address: canonical === '0.0.0.0' ? undefined : canonical };
  }
  // A zone index (fe80::1%eth0) stays part of the address text.
  const [addr, zone] = bare.split('%', 2);
  if (/^[0-9A-Fa-f:.]+$/.test(addr) && addr.includes(':') && ipaddr.IPv6.isValid(addr)) {
    const canonical = ipaddr.IPv6.parse(addr).toString();
    if (canonical === '::') return { family: 'ipv6' };
    return { family: 'ipv6', address: zone ? `${canonical}%${zone}` : canonical };
  }
  return undefined;
}

/** Loopback names every Linux /etc/hosts carries; other hostnames are resolved only at run time. */
export function resolveWellKnownHost(name: string): ParsedAddress[] | undefined {
  const lower = name.toLowerCase();
  if (lower === 'localhost')
    return [
      { family: 'ipv4', address: '127.0.0.1' },
      { family: 'ipv6', address: '::1' },
    ];
  if (lower === 'ip6-localhost' || lower === 'ip6-loopback') return [{ family: 'ipv6', address: '::1' }];
  return undefined;
}

/** "0.0.0.0", "[::]", "127.0.0.1", "[::1]" — how users write the bind address. */
export function formatAddress(family: IpFamily | undefined, address: string | undefined): string {
  if (family === 'ipv6') return `[${address ?? '::'}]`;
  if (family === 'ipv4') return address ?? '0.0.0.0';
  return address ?? '*';
}

export function formatHostPort(family: IpFamily | undefined, address: string | undefined, port: number, portEnd = port): string {
  return `${formatAddress(family, address)}:${portEnd !== port ? `${port}-${portEnd}` : port}`;
}
