/**
 * `.portolan.json` at a workspace folder's root: which files run on which host. Read from its text
 * (the valid part kept), its mistakes as findings on the file (never silent), and the edits the
 * `if-one-host` quick fixes make to it. Pure: the edges hand the text in.
 */
import picomatch from 'picomatch';
import { globSet, matcher, removesPath, staticBase } from './globSet';
import type { Finding, Span } from './types';

export const PORTOLAN_JSON = '.portolan.json';

/** What `.portolan.json` says (schemas/portolan.schema.json). */
export interface PortolanJson {
  hosts: Record<string, string[]>;
  oneHost?: boolean | string[][];
  hostPerProject?: boolean;
  /** Kubernetes: the API server's --service-node-port-range when the cluster widened it. */
  kubernetes?: { nodePortRange?: { from: number; to: number } };
}

/** The API server's default --service-node-port-range. */
export const DEFAULT_NODE_PORT_RANGE = { from: 30000, to: 32767 };

/** The messages of `portolan-json` findings (`Finding.messageId`). */
export const CONFIG_MESSAGES = {
  invalidJson: 'invalid-json',
  wrongShape: 'wrong-shape',
  unknownKey: 'unknown-key',
  matchesNothing: 'matches-nothing',
  onlyRemoves: 'only-removes',
  claimedTwice: 'claimed-twice',
} as const;

const KEYS = new Set(['$schema', 'hosts', 'oneHost', 'hostPerProject', 'kubernetes']);

/** A JSON value with the span of its text (and of each key). */
type Node =
  | { kind: 'object'; span: Span; entries: { key: string; keySpan: Span; value: Node }[] }
  | { kind: 'array'; span: Span; items: Node[] }
  | { kind: 'scalar'; span: Span; value: string | number | boolean | null };

/** A mistake in the file, at its place. */
interface Problem {
  span: Span;
  messageId: string;
  /** What is wrong, and what the server does about it. */
  message: string;
  /** What is wrong alone (the command line stops on an error). */
  what: string;
  severity: 'error' | 'warning';
}

export interface ReadConfig {
  /** The valid part: undefined when the file is not a JSON object (then nothing of it applies). */
  config?: PortolanJson;
  /** Its globs with their places, for the checks against the folder's files. */
  globs: { host?: string; glob: string; span: Span; list: readonly string[] }[];
  problems: Problem[];
}

/** Reads `.portolan.json`: the valid part and what is wrong, each with its place. */
export function readPortolanJson(text: string): ReadConfig {
  let root: Node;
  try {
    JSON.parse(text);
    root = new TreeReader(text).value();
  } catch (e) {
    const message = (e as Error).message;
    const at = /position (\d+)/.exec(message);
    const offset = at ? Math.min(Number(at[1]), text.length) : text.length;
    const what = `not valid JSON (${message.replace(/ in JSON at position \d+.*$/, '')})`;
    const problem: Problem = {
      span: { start: offset, end: Math.min(offset + 1, text.length) },
      messageId: CONFIG_MESSAGES.invalidJson,
      severity: 'error',
      what,
      message: `Not valid JSON (${message.replace(/ in JSON at position \d+.*$/, '')}): nothing of .portolan.json applies.`,
    };
    return { globs: [], problems: [problem] };
  }
  if (root.kind !== 'object') return { globs: [], problems: [shape(root.span, 'must hold a JSON object ({"hosts": {...}})', 'nothing of it applies')] };
  const out: ReadConfig = { config: { hosts: {} }, globs: [], problems: [] };
  for (const { key, keySpan, value } of root.entries) {
    if (!KEYS.has(key)) {
      out.problems.push({
        span: keySpan,
        messageId: CONFIG_MESSAGES.unknownKey,
        what: `unknown key "${key}"`,
        severity: 'warning',
        message: `Unknown key "${key}": .portolan.json reads hosts, oneHost, hostPerProject and kubernetes.`,
      });
      continue;
    }
    if (key === 'hosts') readHosts(value, out);
    else if (key === 'oneHost') readOneHost(value, out);
    else if (key === 'kubernetes') readKubernetes(value, out);
    else if (key === 'hostPerProject') {
      if (value.kind === 'scalar' && typeof value.value === 'boolean') out.config!.hostPerProject = value.value;
      else out.problems.push(shape(value.span, '"hostPerProject" must be true or false'));
    }
  }
  return out;
}

function shape(span: Span, what: string, then = 'ignored'): Problem {
  return { span, messageId: CONFIG_MESSAGES.wrongShape, severity: 'error', what, message: `${what.charAt(0).toUpperCase()}${what.slice(1)}: ${then}.` };
}

function globsOf(node: Node, out: ReadConfig, where: string, host?: string): string[] | undefined {
  if (node.kind !== 'array') {
    out.problems.push(shape(node.span, `${where} must be an array of glob strings`));
    return undefined;
  }
  const globs: string[] = [];
  for (const item of node.items) {
    if (item.kind === 'scalar' && typeof item.value === 'string' && item.value !== '') {
      globs.push(item.value);
      out.globs.push({ host, glob: item.value, span: item.span, list: globs });
    } else out.problems.push(shape(item.span, `${where}: an entry that is not a glob string`));
  }
  return globs;
}

function readHosts(node: Node, out: ReadConfig): void {
  if (node.kind !== 'object') {
    out.problems.push(shape(node.span, '"hosts" must map host names to arrays of globs'));
    return;
  }
  for (const { key, value } of node.entries) {
    const globs = globsOf(value, out, `"hosts.${key}"`, key);
    if (globs && globs.length > 0) out.config!.hosts[key] = globs;
  }
}

/** `"kubernetes": {"nodePortRange": "30000-32767"}`, as kube-apiserver parses the flag (utilnet.ParsePortRange: "a-b", "a+n" or "a"). */
function readKubernetes(node: Node, out: ReadConfig): void {
  if (node.kind !== 'object') {
    out.problems.push(shape(node.span, '"kubernetes" must be an object ({"nodePortRange": "30000-32767"})'));
    return;
  }
  for (const { key, keySpan, value } of node.entries) {
    if (key !== 'nodePortRange') {
      out.problems.push({
        span: keySpan,
        messageId: CONFIG_MESSAGES.unknownKey,
        what: `unknown key "kubernetes.${key}"`,
        severity: 'warning',
        message: `Unknown key "${key}": "kubernetes" reads nodePortRange.`,
      });
      continue;
    }
    const range = value.kind === 'scalar' && typeof value.value === 'string' ? parseNodePortRange(value.value) : undefined;
    if (range) out.config!.kubernetes = { nodePortRange: range };
    else
      out.problems.push(
        shape(value.span, '"kubernetes.nodePortRange" must be a port range like "30000-32767" (low-high within 1-65535)', 'the default 30000-32767 applies'),
      );
  }
}

/** A port range as kube-apiserver reads --service-node-port-range: "30000-32767", "30000+2767" or one port. */
export function parseNodePortRange(text: string): { from: number; to: number } | undefined {
  const m = /^\s*(\d{1,5})\s*(?:([-+])\s*(\d{1,5})\s*)?$/.exec(text);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === '-' ? Number(m[3]) : m[2] === '+' ? from + Number(m[3]) : from;
  return from >= 1 && to <= 65535 && from <= to ? { from, to } : undefined;
}

function readOneHost(node: Node, out: ReadConfig): void {
  if (node.kind === 'scalar' && typeof node.value === 'boolean') {
    out.config!.oneHost = node.value;
    return;
  }
  if (node.kind !== 'array') {
    out.problems.push(shape(node.span, '"oneHost" must be true or an array of arrays of globs'));
    return;
  }
  const groups: string[][] = [];
  node.items.forEach((item, i) => {
    const globs = globsOf(item, out, `"oneHost[${i}]"`);
    if (globs && globs.length > 0) groups.push(globs);
  });
  out.config!.oneHost = groups;
}

/**
 * The findings on `.portolan.json` (`file`) of a folder whose files Portolan reads are `files`
 * (absolute): its mistakes, each glob that matches none of them, and each file two hosts claim.
 */
export function portolanJsonFindings(file: string, read: ReadConfig, folder: string, files: readonly string[]): Finding[] {
  const findings: Finding[] = read.problems.map((p) => ({
    file,
    span: p.span,
    severity: p.severity,
    code: 'portolan-json',
    messageId: p.messageId,
    message: p.message,
  }));
  const rels = files.filter((f) => f.startsWith(folder + '/') && f !== file).map((f) => f.slice(folder.length + 1));
  const candidates = new Candidates(rels);
  for (const g of read.globs) {
    const problem = globProblem(g.glob, g.list, candidates);
    if (problem) findings.push({ file, span: g.span, severity: 'warning', code: 'portolan-json', data: {}, ...problem });
  }
  // The hosts claiming each file (by index in `rels`), in the order of "hosts": each host tests only the files under its globs' static bases.
  const hosts = Object.entries(read.config?.hosts ?? {});
  const claimsOf = new Map<number, number[]>();
  hosts.forEach(([, globs], h) => {
    const set = globSet(globs);
    for (const base of set.bases)
      candidates.each(base, (rel, i) => {
        if (!set.isMatch(rel)) return;
        const claims = claimsOf.get(i);
        if (!claims) claimsOf.set(i, [h]);
        else if (claims[claims.length - 1] !== h) claims.push(h);
      });
  });
  const reported = new Set<string>();
  for (const i of [...claimsOf.keys()].sort((a, b) => a - b)) {
    const claims = claimsOf.get(i)!.map((h) => hosts[h][0]);
    if (claims.length < 2) continue;
    const rel = rels[i];
    const key = claims.join('\u0000');
    if (reported.has(key)) continue;
    reported.add(key);
    const second = read.globs.find((g) => g.host === claims[1] && !picomatch.scan(g.glob).negated && matcher(g.glob)(rel));
    findings.push({
      file,
      span: second?.span ?? { start: 0, end: 0 },
      severity: 'warning',
      code: 'portolan-json',
      messageId: CONFIG_MESSAGES.claimedTwice,
      message: `Hosts ${claims.map((c) => `"${c}"`).join(' and ')} both claim ${rel}: it is on "${claims[0]}", the first.`,
    });
  }
  return findings;
}

/** What is wrong with one glob of a list (`list`: the host's or group's globs) against the folder's files, if anything. */
function globProblem(glob: string, list: readonly string[], candidates: Candidates): { messageId: string; message: string } | undefined {
  if (!picomatch.scan(glob).negated) {
    if (candidates.some(staticBase(glob), matcher(glob))) return undefined;
    return { messageId: CONFIG_MESSAGES.matchesNothing, message: `"${glob}" matches no file Portolan reads in this folder.` };
  }
  const others = globSet(list.filter((g) => !picomatch.scan(g).negated));
  if (others.adds.length === 0)
    return {
      messageId: CONFIG_MESSAGES.onlyRemoves,
      message: `"${glob}" only takes files out: name the files first (["**", "${glob}"]).`,
    };
  const removesOne = others.bases.some((base) => candidates.some(base, (rel) => others.isMatch(rel) && removesPath(glob, rel)));
  if (removesOne) return undefined;
  return { messageId: CONFIG_MESSAGES.matchesNothing, message: `"${glob}" takes out none of the files the other globs match.` };
}

/** The relative paths of a folder sorted, so that the paths under a directory are one range. */
class Candidates {
  private readonly sorted: { rel: string; i: number }[];

  constructor(rels: readonly string[]) {
    this.sorted = rels.map((rel, i) => ({ rel, i })).sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : a.i - b.i));
  }

  /** Calls `fn` on each path that is `base` or under it ('' : every path), in sorted order; stops when it returns true. */
  each(base: string, fn: (rel: string, i: number) => boolean | void): boolean {
    const { sorted } = this;
    let at = 0;
    if (base !== '') {
      let hi = sorted.length;
      while (at < hi) {
        const mid = (at + hi) >> 1;
        if (sorted[mid].rel < base) at = mid + 1;
        else hi = mid;
      }
    }
    for (; at < sorted.length; at++) {
      const { rel, i } = sorted[at];
      if (base !== '' && !rel.startsWith(base)) break;
      if (base !== '' && rel !== base && rel[base.length] !== '/') continue;
      if (fn(rel, i) === true) return true;
    }
    return false;
  }

  some(base: string, isMatch: (rel: string) => boolean): boolean {
    return this.each(base, (rel) => isMatch(rel));
  }
}

/**
 * The text of `.portolan.json` after saying that the projects `units` (globs) run on one host: one
 * `oneHost` group holding them, merged with every group that already names one of them. Undefined
 * when the file cannot be edited safely (not valid JSON, not an object, an `oneHost` of another shape).
 */
export function withOneHost(text: string | undefined, units: readonly string[]): string | undefined {
  const json = editable(text);
  if (!json) return undefined;
  const current = json.oneHost;
  if (current !== undefined && !(Array.isArray(current) && current.every((g) => Array.isArray(g) && g.every((x) => typeof x === 'string')))) return undefined;
  const groups = (current ?? []) as string[][];
  const merged = [...units];
  const kept: string[][] = [];
  for (const g of groups) {
    if (!g.some((x) => merged.includes(x))) {
      kept.push(g);
      continue;
    }
    for (const x of g) if (!merged.includes(x)) merged.push(x);
  }
  json.oneHost = [...kept, merged];
  return serialise(json);
}

/** The text of `.portolan.json` after saying every project runs on a host of its own. Undefined when it cannot be edited safely. */
export function withHostPerProject(text: string | undefined): string | undefined {
  const json = editable(text);
  if (!json) return undefined;
  json.hostPerProject = true;
  return serialise(json);
}

function editable(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined || text.trim() === '') return {};
  try {
    const json = JSON.parse(text) as unknown;
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function serialise(json: Record<string, unknown>): string {
  return JSON.stringify(json, null, 2) + '\n';
}

/** A reader of JSON text that JSON.parse accepted, keeping the span of every value and key. */
class TreeReader {
  private at = 0;
  constructor(private readonly text: string) {}

  value(): Node {
    this.space();
    const start = this.at;
    const c = this.text[this.at];
    if (c === '{') return this.object(start);
    if (c === '[') return this.array(start);
    if (c === '"') return { kind: 'scalar', value: this.string(), span: { start, end: this.at } };
    const m = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(this.text.slice(this.at, this.at + 400))!;
    this.at += m[0].length;
    const value = m[0] === 'true' ? true : m[0] === 'false' ? false : m[0] === 'null' ? null : Number(m[0]);
    return { kind: 'scalar', value, span: { start, end: this.at } };
  }

  private object(start: number): Node {
    const entries: { key: string; keySpan: Span; value: Node }[] = [];
    this.at++;
    for (this.space(); this.text[this.at] !== '}'; this.space()) {
      const keyStart = this.at;
      const key = this.string();
      const keySpan = { start: keyStart, end: this.at };
      this.space();
      this.at++; // ':'
      entries.push({ key, keySpan, value: this.value() });
      this.space();
      if (this.text[this.at] === ',') this.at++;
    }
    this.at++;
    return { kind: 'object', entries, span: { start, end: this.at } };
  }

  private array(start: number): Node {
    const items: Node[] = [];
    this.at++;
    for (this.space(); this.text[this.at] !== ']'; this.space()) {
      items.push(this.value());
      this.space();
      if (this.text[this.at] === ',') this.at++;
    }
    this.at++;
    return { kind: 'array', items, span: { start, end: this.at } };
  }

  private string(): string {
    const start = this.at;
    this.at++;
    while (this.text[this.at] !== '"') this.at += this.text[this.at] === '\\' ? 2 : 1;
    this.at++;
    return JSON.parse(this.text.slice(start, this.at)) as string;
  }

  private space(): void {
    while (/\s/.test(this.text[this.at] ?? '')) this.at++;
  }
}
