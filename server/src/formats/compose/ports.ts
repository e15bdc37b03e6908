/**
 * The port grammar of docker-compose, read the way Compose v2 reads it: the short syntax goes
 * through go-connections' nat.ParsePortSpec (split on ':', the last two parts are host port and
 * container port, everything before is the host IP; '/proto' after the container port), and the
 * same range rules serve the long syntax's `published`. Pure: text in, numbers and offsets into
 * that text out.
 *
 * A character '\u0000' stands for text an unresolved variable would supply: a part holding one is
 * `unknown` rather than wrong.
 */
import { parseIp, type ParsedAddress } from '../../core/address';
import type { Protocol } from '../../core/types';

/** Marks text that comes from a variable with no known value. */
export const UNKNOWN = '\u0000';

/** Offsets into the spec text, end exclusive. */
export interface Slice {
  start: number;
  end: number;
}

export interface PortRange extends Slice {
  from: number;
  to: number;
}

export type RangePart = PortRange | (Slice & { unknown: true });

export interface HostIpPart extends Slice {
  /** As written, brackets removed. */
  text: string;
  /** Undefined when the address comes from an unresolved variable. */
  address?: ParsedAddress;
}

export interface ShortSpec {
  hostIp?: HostIpPart;
  /** Undefined: no host port written, Docker picks one at run time. */
  hostPort?: RangePart;
  container: RangePart;
  protocol: Protocol;
  protocolSlice?: Slice;
  /** The protocol comes from an unresolved variable (tcp assumed). */
  protocolUnknown?: boolean;
}

export interface SpecError extends Slice {
  message: string;
  /** A range whose end is below its start (the "Swap to" fix). */
  reversed?: boolean;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: SpecError };

const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp'];

export function isProtocol(text: string): text is Protocol {
  return (PROTOCOLS as readonly string[]).includes(text);
}

/** go-connections' parsePortNumber: strconv.ParseInt in base 10 (a leading sign is allowed), then 0-65535. */
export function parsePortNumber(text: string): { port: number } | { problem: string } {
  if (text === '') return { problem: 'is empty' };
  if (!/^[+-]?[0-9]+$/.test(text)) return { problem: 'is not a number' };
  const n = Number(text);
  if (n < 0 || n > 65535) return { problem: 'is out of range (0-65535)' };
  return { port: n };
}

/**
 * go-connections' parsePortRange: "P" or "FROM-TO" (cut at the first '-'), TO >= FROM. `offset` is
 * where `text` starts inside the whole spec, so that errors point at the right characters.
 */
export function parsePortRange(text: string, offset = 0, what = 'port'): Parsed<RangePart> {
  const whole = { start: offset, end: offset + text.length };
  if (text.includes(UNKNOWN)) return { ok: true, value: { start: whole.start, end: whole.end, unknown: true } };
  if (text === '') return { ok: false, error: { start: whole.start, end: whole.end, message: `No ${what} given.` } };
  const dash = text.indexOf('-');
  const startText = dash < 0 ? text : text.slice(0, dash);
  const startSlice = { start: offset, end: offset + startText.length };
  const start = parsePortNumber(startText);
  if ('problem' in start)
    return {
      ok: false,
      error: {
        ...(startText === '' ? whole : startSlice),
        message: `Invalid ${what} "${text}": ${startText === '' ? 'the start of the range' : `"${startText}"`} ${start.problem}.`,
      },
    };
  if (dash < 0) return { ok: true, value: { start: whole.start, end: whole.end, from: start.port, to: start.port } };
  const endText = text.slice(dash + 1);
  if (endText === startText) return { ok: true, value: { start: whole.start, end: whole.end, from: start.port, to: start.port } };
  const end = parsePortNumber(endText);
  const endSlice = { start: offset + dash + 1, end: offset + text.length };
  if ('problem' in end)
    return {
      ok: false,
      error: {
        ...(endText === '' ? whole : endSlice),
        message: `Invalid ${what} "${text}": ${endText === '' ? 'the end of the range' : `"${endText}"`} ${end.problem}.`,
      },
    };
  if (end.port < start.port)
    return {
      ok: false,
      error: { start: whole.start, end: whole.end, message: `Invalid ${what} range "${text}": the end is below the start.`, reversed: true },
    };
  return { ok: true, value: { start: whole.start, end: whole.end, from: start.port, to: end.port } };
}

/**
 * Go's net.ParseIP: dotted-decimal IPv4 without leading zeros, or IPv6 without a zone. Returns
 * undefined when Go would reject the text.
 */
export function parseGoIp(text: string): ParsedAddress | undefined {
  if (text.includes('%')) return undefined;
  if (/^[0-9.]+$/.test(text) && text.split('.').some((octet) => octet.length > 1 && octet.startsWith('0'))) return undefined;
  return parseIp(text);
}

/** Host IP of the short syntax or the long syntax's host_ip: "[v6]" loses its brackets, then it must be an IP. */
export function parseHostIp(text: string, offset = 0): Parsed<HostIpPart | undefined> {
  if (text === '') return { ok: true, value: undefined };
  let bare = text;
  let bareOffset = offset;
  if (text.startsWith('[')) {
    // net.SplitHostPort(ip + ":"): the whole part must be one bracketed host.
    const close = text.indexOf(']');
    if (close !== text.length - 1 || text.indexOf('[', 1) >= 0)
      return {
        ok: false,
        error: { start: offset, end: offset + text.length, message: `Invalid host IP "${text}": a bracketed IPv6 address must be written [address].` },
      };
    bare = text.slice(1, -1);
    bareOffset = offset + 1;
  }
  const slice = { start: bareOffset, end: bareOffset + bare.length };
  if (bare.includes(UNKNOWN)) return { ok: true, value: { start: slice.start, end: slice.end, text: bare } };
  const address = parseGoIp(bare);
  if (!address)
    return {
      ok: false,
      error: { start: slice.start, end: slice.end, message: `Invalid host IP "${bare}": Docker needs an IP address here (not a host name).` },
    };
  return { ok: true, value: { start: slice.start, end: slice.end, text: bare, address } };
}

/** nat.ParsePortSpec: `[HOST_IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTO]`. */
export function parseShortSpec(text: string): Parsed<ShortSpec> {
  const whole = { start: 0, end: text.length };
  const parts = text.split(':');
  let ipText = '';
  let hostText = '';
  let containerWithProto: string;
  if (parts.length === 1) containerWithProto = parts[0];
  else if (parts.length === 2) [hostText, containerWithProto] = parts;
  else {
    // Three parts or more: the last two are the ports, the rest (an unbracketed IPv6 address too) the IP.
    containerWithProto = parts[parts.length - 1];
    hostText = parts[parts.length - 2];
    ipText = parts.slice(0, -2).join(':');
  }
  const containerOffset = text.length - containerWithProto.length;
  const hostOffset = parts.length >= 2 ? containerOffset - 1 - hostText.length : 0;

  const slash = containerWithProto.indexOf('/');
  const containerText = slash < 0 ? containerWithProto : containerWithProto.slice(0, slash);
  if (containerText === '') return { ok: false, error: { start: whole.start, end: whole.end, message: `No container port in "${text}".` } };
  let protocol: Protocol = 'tcp';
  let protocolSlice: Slice | undefined;
  let protocolUnknown: boolean | undefined;
  if (slash >= 0) {
    const protoText = containerWithProto.slice(slash + 1);
    protocolSlice = { start: containerOffset + slash + 1, end: containerOffset + containerWithProto.length };
    const lower = protoText.toLowerCase();
    if (protoText.includes(UNKNOWN)) protocolUnknown = true;
    else if (lower === '') protocol = 'tcp';
    else if (isProtocol(lower)) protocol = lower;
    else
      return {
        ok: false,
        error: {
          ...(protocolSlice.end > protocolSlice.start ? protocolSlice : whole),
          message: `Invalid protocol "${protoText}": Docker accepts tcp, udp or sctp.`,
        },
      };
  }

  const ip = parseHostIp(ipText, 0);
  if (!ip.ok) return ip;

  const container = parsePortRange(containerText, containerOffset, 'container port');
  if (!container.ok) return container;

  let hostPort: RangePart | undefined;
  if (hostText !== '') {
    const host = parsePortRange(hostText, hostOffset, 'host port');
    if (!host.ok) return host;
    hostPort = host.value;
    const c = container.value;
    if (!('unknown' in c) && !('unknown' in hostPort) && c.to - c.from !== hostPort.to - hostPort.from && c.to !== c.from) {
      // A host range beside a single container port is where Docker picks one free port; otherwise sizes must match.
      return {
        ok: false,
        error: { start: hostPort.start, end: c.end, message: `Invalid ranges: host ports ${hostText} and container ports ${containerText} differ in size.` },
      };
    }
  }
  return { ok: true, value: { hostIp: ip.value, hostPort, container: container.value, protocol, protocolSlice, protocolUnknown } };
}

/** YAML 1.1 (docker-compose v1, PyYAML) reads an unquoted `22:22` as the base-60 integer 1342. */
export function isYaml11Sexagesimal(plainText: string): boolean {
  return /^[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+$/.test(plainText);
}

export function sexagesimalValue(plainText: string): number {
  const sign = plainText.startsWith('-') ? -1 : 1;
  return (
    sign *
    plainText
      .replace(/^[-+]/, '')
      .replace(/_/g, '')
      .split(':')
      .reduce((acc, part) => acc * 60 + Number(part), 0)
  );
}
