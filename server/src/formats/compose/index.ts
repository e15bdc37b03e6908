/**
 * docker-compose: the host ports Docker publishes, the container ports services name, and why a
 * mapping publishes nothing. Read as Compose v2 (compose-go) reads a project: the compose file,
 * the override file it merges by default, the files of its top-level `include:`, and the `.env`
 * beside it for interpolation.
 *
 * parse() sees one file: it keeps the raw port texts with their source positions in `extra` and
 * names the project's other files as includes (`.env`, the default override, `include:` entries);
 * link() interpolates, merges the files as compose merges them, and produces the facts.
 * Checked against `docker-compose config` in test/oracle/compose.test.ts.
 */
import { pushAll } from '../../core/arrays';
import { flat } from '../../core/strings';
import { rangeText } from '../../core/portRanges';
import { withSwap } from '../../core/reversedRange';
import * as path from 'path';
import { isAlias, isMap, isScalar, isSeq, visit, type Document, type Node, type Pair, type Scalar } from 'yaml';
import { parseComposeDocuments } from './yamlDocuments';
import { formatHostPort, type ParsedAddress } from '../../core/address';
import { LineIndex } from '../../core/lineIndex';
import type {
  FileParse,
  Finding,
  FormatModule,
  IncludeRef,
  InstanceInput,
  InstanceOutput,
  IpFamily,
  PortFact,
  Protocol,
  Severity,
  Span,
} from '../../core/types';
import { composeWriter, quotePlainScalar, reversedRangeFix } from './writer';
import { isProtocol, isYaml11Sexagesimal, parseHostIp, parsePortRange, parseShortSpec, sexagesimalValue, UNKNOWN, type RangePart } from './ports';
import {
  interpolate,
  literalMapped,
  mappedFromOffsets,
  opaqueMapped,
  parseDotenv,
  sliceMapped,
  spanOf,
  type Environment,
  type InterpolationIssue,
  type MappedText,
} from './interpolation';

/** Compose's default file names, in its order of preference (compose-go cli/options.go). */
export const COMPOSE_FILE_NAMES = [
  'compose.yaml',
  'compose.yml',
  'docker-compose.yml',
  'docker-compose.yaml',
  // podman-compose's names besides those (podman_compose.py COMPOSE_DEFAULT_LS).
  'podman-compose.yaml',
  'podman-compose.yml',
  'container-compose.yml',
  'container-compose.yaml',
];
export const OVERRIDE_FILE_NAMES = [
  'compose.override.yml',
  'compose.override.yaml',
  'docker-compose.override.yml',
  'docker-compose.override.yaml',
  // Only podman-compose reads these (COMPOSE_DEFAULT_LS): last, so a project's docker override still wins.
  'container-compose.override.yml',
  'container-compose.override.yaml',
];
/** `docker-compose.prod.yml` and the like: layers given with `-f` (of the compose file beside them, or alone). */
const VARIANT_FILE = /^(docker-)?compose\.[A-Za-z0-9_-]+\.ya?ml$/;
/**
 * Other names that say compose (`traefik-compose.yml`, `docker-compose-prod.yml`, `compose.base.override.yml`):
 * read as compose unless the text is plainly something else.
 */
const COMPOSE_LIKE_NAME = /^(?:(?:docker-)?compose[-_.].+|.+[-_.](?:docker-)?compose)\.ya?ml$/;

/** IncludeRef contexts: how the reached file takes part in the project. */
type ComposeContext = 'dotenv' | 'override' | 'include' | 'include-override' | 'layer-base';

/** A scalar as written: its value and, per character, where it is in the file. */
export interface RawValue extends MappedText {
  /** The whole node. */
  span: Span;
}

export type PortEntry =
  | { kind: 'short'; raw: RawValue; line: number }
  | { kind: 'long'; span: Span; line: number; fields: Partial<Record<LongField, RawValue>> }
  | { kind: 'bad'; span: Span; line: number; message: string };

/** Top-level keys of the compose specification (anything else at the top of a v1 file is a service). */
const TOP_LEVEL_KEYS = new Set(['version', 'name', 'include', 'services', 'networks', 'volumes', 'secrets', 'configs', 'models']);

const LONG_FIELDS = ['target', 'published', 'host_ip', 'protocol', 'mode', 'name', 'app_protocol'] as const;
type LongField = (typeof LONG_FIELDS)[number];

export interface ServiceDecl {
  name: string;
  span: Span;
  /** `replaces`: tagged `!reset` or `!override`, so what earlier files of the project say is dropped (compose-go's merge). */
  ports?: { key: Span; entries: PortEntry[]; replaces?: boolean };
  expose?: { key: Span; entries: (RawValue | { bad: Span; message: string })[]; replaces?: boolean };
  networkMode?: { key: Span; raw: RawValue };
  profiles?: string[];
  /** It names what to run (`image`, `build` or `extends`): a file of such services may run on its own. */
  runnable?: boolean;
  /** Bind mounts as written: host-side source (uninterpolated) and the container path. */
  volumes?: { source: RawValue; target: string }[];
  /** `build:`: the Dockerfile it builds from, when the workspace can hold it (a relative context, no variable). */
  dockerfile?: string;
}

export interface ComposeExtra {
  kind: 'compose';
  services: ServiceDecl[];
}

export interface DotenvExtra {
  kind: 'dotenv';
  vars: Map<string, string>;
}

const isComposeExtra = (x: unknown): x is ComposeExtra => (x as ComposeExtra | undefined)?.kind === 'compose';
const isDotenvExtra = (x: unknown): x is DotenvExtra => (x as DotenvExtra | undefined)?.kind === 'dotenv';

function finding(file: string, span: Span, severity: Severity, code: 'syntax' | 'invalid-port', message: string, related?: Finding['related']): Finding {
  return related ? { file, span, severity, code, message, related } : { file, span, severity, code, message };
}

function baseName(p: string): string {
  return path.posix.basename(p);
}

/** Named as compose files are (the default names, the override and `compose.X.yaml` layers): compose by the name alone. */
export function isComposePath(p: string): boolean {
  const name = baseName(p);
  return COMPOSE_FILE_NAMES.includes(name) || VARIANT_FILE.test(name);
}

/** Is the text a compose document (its top level: services, networks, include, x-...)? Undefined: it cannot be told (YAML errors, empty). */
export function composeDocument(text: string): { compose: true } | { compose: false; why: string } | undefined {
  return classify(text).verdict;
}

/** composeDocument's verdict and the YAML it read (when it parsed without errors). */
function classify(text: string): { verdict: { compose: true } | { compose: false; why: string } | undefined; docs?: Document[] } {
  let docs: Document[];
  try {
    docs = parseComposeDocuments(text);
  } catch {
    return { verdict: undefined };
  }
  return { verdict: documentsVerdict(docs), docs };
}

function documentsVerdict(docs: Document[]): { compose: true } | { compose: false; why: string } | undefined {
  let verdict: { compose: true } | undefined;
  for (const doc of docs) {
    if (doc.errors.length > 0) return undefined;
    const top = doc.contents;
    if (top === null || (isScalar(top) && (top.value === null || top.value === ''))) continue;
    if (!isMap(top)) return { compose: false, why: `its top level is ${isSeq(top) ? 'a list' : 'not a mapping'}` };
    let parts = false;
    for (const pair of top.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined) return { compose: false, why: 'a top-level key is not a name' };
      if (key.startsWith('x-') || key === '<<') continue;
      if (!TOP_LEVEL_KEYS.has(key)) return { compose: false, why: `top-level key "${key}" is not one of compose's` };
      const value = pair.value;
      if (key === 'services') {
        if (value !== null && !isMap(value) && !isAlias(value) && !(isScalar(value) && value.value === null))
          return { compose: false, why: '`services` is not a mapping of services' };
        for (const service of isMap(value) ? value.items : []) {
          const v = service.value;
          if (v !== null && !isMap(v) && !isAlias(v) && !(isScalar(v) && v.value === null))
            return { compose: false, why: `service "${String(isScalar(service.key) ? service.key.value : '?')}" is not a mapping` };
        }
        parts = true;
      } else if (key === 'include') parts = true;
    }
    if (!parts) return { compose: false, why: 'it has neither `services:` nor `include:`' };
    verdict = { compose: true };
  }
  return verdict;
}

/**
 * A YAML the name does not make compose's: compose when named like a compose file (`*-compose.yml`,
 * `compose.a.b.yml`) unless its text is plainly not, or when it sits beside a compose file and its top level
 * is a compose document (a layer for `docker compose -f compose.yaml -f it.yml`).
 */
function claimByContent(inFolder: string, text: string, beside: (name: string) => boolean): { claim: boolean; why: string } | undefined {
  const name = baseName(inFolder);
  if (!/\.ya?ml$/.test(name) || OVERRIDE_FILE_NAMES.includes(name)) return undefined;
  const base = COMPOSE_FILE_NAMES.find(beside);
  if (!COMPOSE_LIKE_NAME.test(name) && base === undefined) return undefined;
  const { verdict, docs } = classify(text);
  if (verdict?.compose === false) return { claim: false, why: `not read as compose: not a compose document (${verdict.why})` };
  // Claimed: the parse that follows takes the YAML read here (a verdict means it parsed without errors).
  if (verdict?.compose && docs) {
    if (claimedDocs.size >= CLAIMED_DOCS_MAX) claimedDocs.delete(claimedDocs.keys().next().value!);
    claimedDocs.set(text, docs);
  }
  if (COMPOSE_LIKE_NAME.test(name)) return { claim: true, why: 'read as compose: named like a compose file' };
  if (verdict?.compose) return { claim: true, why: `read as compose: a compose document beside ${base}` };
  return { claim: false, why: `not read as compose: beside ${base}, but its YAML does not parse as a compose document` };
}

// ---------------------------------------------------------------------------------------------
// parse: one file's YAML, with positions

/** Anchors in document order, so that an alias resolves to the last anchor of its name before it. */
function collectAnchors(doc: Document): Map<string, { at: number; node: Node }[]> {
  const anchors = new Map<string, { at: number; node: Node }[]>();
  visit(doc, {
    Node(_key, node) {
      const anchor = (node as { anchor?: string }).anchor;
      if (!anchor || !node.range) return;
      const list = anchors.get(anchor) ?? [];
      list.push({ at: node.range[0], node });
      anchors.set(anchor, list);
    },
  });
  return anchors;
}

/** Merged entries one document may copy through `<<` keys (a real compose file copies a few hundred). */
export const MERGE_BUDGET = 100_000;

class YamlReader {
  /** Collected on the first alias (most compose files have none). */
  private anchors?: Map<string, { at: number; node: Node }[]>;

  constructor(
    readonly doc: Document,
    readonly text: string,
    private readonly lines: LineIndex,
  ) {}

  line(offset: number): number {
    return this.lines.position(offset).line + 1;
  }

  /** The node an alias points at (aliases of aliases too); other nodes as they are. */
  deref(node: unknown, depth = 0): Node | null {
    if (node === null || node === undefined) return null;
    if (!isAlias(node)) return node as Node;
    if (depth > 16) return null;
    const at = node.range?.[0] ?? Infinity;
    const candidates = (this.anchors ??= collectAnchors(this.doc)).get(node.source) ?? [];
    let found: Node | undefined;
    for (const c of candidates) if (c.at < at) found = c.node;
    return found ? this.deref(found, depth + 1) : null;
  }

  /** Each mapping's merged entries, computed once (a merge chain reuses them instead of re-expanding: 9^9 calls before). */
  private readonly merged = new Map<Node, Map<string, { key: Scalar; value: Node | null }>>();
  private readonly merging = new Set<Node>();
  /** Entries copied by merge keys in this document so far; past MERGE_BUDGET merges stop. */
  private copied = 0;
  /** The first merge key whose expansion hit the budget (reported once by readDocument). */
  capHit?: Scalar;

  /** A mapping's pairs by key, `<<` merge keys applied (explicit keys win, then earlier merged maps). */
  entries(node: Node | null): Map<string, { key: Scalar; value: Node | null }> {
    if (!node || !isMap(node) || this.merging.has(node)) return new Map();
    const known = this.merged.get(node);
    if (known) return known;
    this.merging.add(node);
    const out = new Map<string, { key: Scalar; value: Node | null }>();
    const merges: { key: Scalar; source: Node }[] = [];
    for (const pair of node.items as Pair<unknown, unknown>[]) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      if (key === '<<' && pair.key.type === 'PLAIN') {
        const source = this.deref(pair.value);
        if (isSeq(source)) for (const item of source.items) merges.push({ key: pair.key, source: this.deref(item) as Node });
        else if (source) merges.push({ key: pair.key, source });
        continue;
      }
      if (!out.has(key)) out.set(key, { key: pair.key, value: this.deref(pair.value) });
    }
    for (const { key: mergeKey, source } of merges) {
      for (const [key, entry] of this.entries(source)) {
        if (out.has(key)) continue;
        if (++this.copied > MERGE_BUDGET) {
          this.capHit ??= mergeKey;
          break;
        }
        out.set(key, entry);
      }
    }
    this.merging.delete(node);
    this.merged.set(node, out);
    return out;
  }

  /** The node's text, without the line breaks yaml counts into collections and block scalars. */
  span(node: Node): Span {
    const r = node.range;
    if (!r) return { start: 0, end: 0 };
    let end = r[1];
    while (end > r[0] && /\s/.test(this.text[end - 1])) end--;
    return { start: r[0], end };
  }

  /** A scalar's value as text with the source offset of every character (quotes, escapes, '' handled). */
  raw(node: Scalar): RawValue | undefined {
    const span = this.span(node);
    let value: string;
    if (typeof node.value === 'string') value = node.value;
    else if (typeof node.value === 'number' && Number.isInteger(node.value)) value = String(node.value);
    else return undefined;
    const length = span.end - span.start;
    // A plain scalar spelled as its value, or a quoted one without escapes: one literal run.
    if ((node.type === 'PLAIN' || node.type === undefined) && length === value.length && this.text.startsWith(value, span.start))
      return { text: value, runs: literalMapped(value, span.start).runs, span };
    if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && length === value.length + 2 && this.text.startsWith(value, span.start + 1))
      return { text: value, runs: literalMapped(value, span.start + 1).runs, span };
    const source = this.text.slice(span.start, span.end);
    const offsets = scalarOffsets(source, node.type, value);
    const mapped = offsets
      ? mappedFromOffsets(
          value,
          offsets.map((o) => o + span.start),
        )
      : opaqueMapped(value, span);
    return { text: mapped.text, runs: mapped.runs, span };
  }
}

/**
 * Offsets (relative to the node's source) of each character of `value`, plus one past the last;
 * undefined when the source does not spell the value character by character (block scalars,
 * folded lines, `0x1F90` for 8080).
 */
function scalarOffsets(source: string, type: Scalar['type'], value: string): number[] | undefined {
  const offsets: number[] = [];
  if (type === 'PLAIN' || type === undefined) {
    if (source !== value) return undefined;
    for (let i = 0; i <= value.length; i++) offsets.push(i);
    return offsets;
  }
  if (type !== 'QUOTE_SINGLE' && type !== 'QUOTE_DOUBLE') return undefined;
  if (source.includes('\n')) return undefined;
  let produced = '';
  let i = 1;
  const last = source.length - 1;
  while (i < last) {
    offsets.push(i);
    if (type === 'QUOTE_SINGLE' && source[i] === "'" && source[i + 1] === "'") {
      produced += "'";
      i += 2;
    } else if (type === 'QUOTE_DOUBLE' && source[i] === '\\') {
      const esc = source[i + 1];
      const width = esc === 'x' ? 4 : esc === 'u' ? 6 : esc === 'U' ? 10 : 2;
      const decoded =
        esc === 'x' || esc === 'u' || esc === 'U' ? String.fromCodePoint(parseInt(source.slice(i + 2, i + width), 16) || 0) : (JSON_ESCAPES[esc] ?? esc);
      produced += decoded;
      // A character outside the BMP takes two UTF-16 units, both from this escape.
      for (let k = 1; k < decoded.length; k++) offsets.push(i);
      i += width;
    } else {
      produced += source[i];
      i++;
    }
  }
  offsets.push(i);
  return produced === value ? offsets : undefined;
}

const JSON_ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};

/** What a compose text says whatever the context it is read in (the context only adds the implicit includes). */
interface ComposeRead {
  text: string;
  findings: Finding[];
  services: ServiceDecl[];
  /** Its `include:` entries. */
  includes: IncludeRef[];
}

/**
 * The reads of the directories' compose files (the files a layer's `layer-base` include reaches), by file: a
 * compose file beside a layer is read once, not again as the layer's base. The engine keeps the same parses,
 * so this costs a map entry each. Bounded.
 */
const baseReads = new Map<string, ComposeRead>();
const BASE_READS_MAX = 20_000;

/**
 * The YAML `composeDocument` read to tell whether a file is compose, by text, for the parse that follows the
 * claim (the engine parses a file right after it chose its format). Taken once; a few at most.
 */
const claimedDocs = new Map<string, Document[]>();
const CLAIMED_DOCS_MAX = 8;

function parseAll(text: string): Document[] {
  const claimed = claimedDocs.get(text);
  if (claimed) {
    claimedDocs.delete(text);
    return claimed;
  }
  return parseComposeDocuments(text);
}

function parseComposeYaml(text: string, file: string, context: ComposeContext | undefined): FileParse {
  const includes: IncludeRef[] = [];
  const implicit = { start: 0, end: 0 };
  const name = baseName(file);
  if (context === undefined || context === 'include') includes.push({ span: implicit, pattern: '.env', relativeTo: 'including-file-dir', context: 'dotenv' });
  if (context === undefined && COMPOSE_FILE_NAMES.includes(name)) {
    for (const override of OVERRIDE_FILE_NAMES) includes.push({ span: implicit, pattern: override, relativeTo: 'including-file-dir', context: 'override' });
  } else if (context === undefined && !OVERRIDE_FILE_NAMES.includes(name)) {
    // Another compose file of the directory may be a layer of its compose file (`-f compose.yaml -f this.yml`):
    // link() decides from the services they share. The base still runs alone, so it stays a root.
    for (const base of COMPOSE_FILE_NAMES)
      includes.push({ span: implicit, pattern: base, relativeTo: 'including-file-dir', context: 'layer-base', keepsRoot: true });
  }
  const known = context !== undefined ? baseReads.get(file) : undefined;
  const read = known && known.text === text ? known : readComposeText(text, file);
  if (context === undefined && COMPOSE_FILE_NAMES.includes(name)) {
    if (baseReads.size >= BASE_READS_MAX) baseReads.clear();
    baseReads.set(file, read);
  }
  pushAll(includes, read.includes);
  const extra: ComposeExtra = { kind: 'compose', services: read.services };
  return { format: 'compose', file, facts: [], findings: [...read.findings], includes, extra };
}

function readComposeText(text: string, file: string): ComposeRead {
  const findings: Finding[] = [];
  const includes: IncludeRef[] = [];
  const services: ServiceDecl[] = [];
  // compose-go reads every document of the file in turn, merging each into the ones before.
  const docs = parseAll(text);
  const lines = new LineIndex(text);
  for (const doc of docs) {
    for (const e of doc.errors) {
      const [start, end] = e.pos;
      findings.push(
        finding(
          file,
          { start: Math.min(start, text.length), end: Math.min(Math.max(end, start), text.length) },
          'error',
          'syntax',
          `YAML: ${e.message.split('\n')[0]}`,
        ),
      );
    }
    const reader = new YamlReader(doc, text, lines);
    readDocument(reader, file, findings, services, includes);
    if (reader.capHit)
      findings.push(
        finding(
          file,
          reader.span(reader.capHit),
          'information',
          'syntax',
          `Merge keys (<<) here expand to more than ${MERGE_BUDGET.toLocaleString('en')} entries: Portolan stopped expanding them, so ports merged in past that point are not checked.`,
        ),
      );
  }
  return { text, findings, services, includes };
}

function readDocument(y: YamlReader, file: string, findings: Finding[], services: ServiceDecl[], includes: IncludeRef[]): void {
  const doc = y.doc;
  const root = y.deref(doc.contents);
  if (root && !isMap(root)) {
    if (!(isScalar(root) && (root.value === null || root.value === '')))
      findings.push(finding(file, y.span(root), 'error', 'syntax', 'A compose file must be a mapping (services:, networks:, ...).'));
  }
  const top = y.entries(root);

  const servicesNode = top.get('services')?.value ?? null;
  if (servicesNode && !isMap(servicesNode) && !(isScalar(servicesNode) && servicesNode.value === null))
    findings.push(finding(file, y.span(servicesNode), 'error', 'syntax', '`services` must be a mapping of service names.'));
  let serviceEntries = y.entries(servicesNode);
  if (!top.has('services') && !top.has('version')) {
    // Compose file format v1: services at the top level. docker-compose v1 reads it; Compose v2 refuses it.
    serviceEntries = new Map([...top].filter(([name, { value }]) => isMap(value) && !name.startsWith('x-') && !TOP_LEVEL_KEYS.has(name)));
    const first = [...serviceEntries.values()][0];
    if (first)
      findings.push(
        finding(
          file,
          y.span(first.key),
          'information',
          'syntax',
          'Compose file format v1 (services at the top level, no `services:`): docker-compose v1 reads it, Docker Compose v2 refuses it.',
        ),
      );
  }
  for (const [serviceName, { key, value }] of serviceEntries) {
    const decl: ServiceDecl = { name: serviceName, span: y.span(key) };
    services.push(decl);
    const fields = y.entries(value);
    const ports = fields.get('ports');
    if (ports) {
      const tag = mergeTag(ports.value);
      decl.ports = { key: y.span(ports.key), entries: tag === '!reset' ? [] : readPorts(y, ports.value, file, findings) };
      if (tag) decl.ports.replaces = true;
    }
    const expose = fields.get('expose');
    if (expose) {
      const tag = mergeTag(expose.value);
      decl.expose = { key: y.span(expose.key), entries: tag === '!reset' ? [] : readExpose(y, expose.value) };
      if (tag) decl.expose.replaces = true;
    }
    const mode = fields.get('network_mode');
    if (mode && isScalar(mode.value)) {
      const raw = y.raw(mode.value);
      if (raw) decl.networkMode = { key: y.span(mode.key), raw };
    }
    if (fields.has('image') || fields.has('build') || fields.has('extends')) decl.runnable = true;
    const volumes = fields.get('volumes')?.value ?? null;
    if (isSeq(volumes)) decl.volumes = readVolumes(y, volumes.items);
    const dockerfile = buildDockerfile(y, fields.get('build')?.value ?? null, file);
    if (dockerfile) decl.dockerfile = dockerfile;
    const profiles = fields.get('profiles')?.value;
    if (isSeq(profiles))
      decl.profiles = profiles.items
        .map((p) => y.deref(p))
        .filter(isScalar)
        .map((p) => String(p.value));
  }

  const includeNode = top.get('include')?.value ?? null;
  if (isSeq(includeNode)) {
    for (const item of includeNode.items) {
      const node = y.deref(item);
      const pathNode = isMap(node) ? (y.entries(node).get('path')?.value ?? null) : node;
      const paths = isSeq(pathNode) ? pathNode.items.map((p) => y.deref(p)) : [pathNode];
      paths.forEach((p, index) => {
        if (!isScalar(p) || typeof p.value !== 'string') return;
        // Remote includes (oci://, git URLs) and interpolated paths are not in the workspace.
        if (p.value === '' || p.value.includes('$') || /^[a-z]+:\/\//i.test(p.value) || p.value.startsWith('git@')) return;
        includes.push({ span: y.span(p), pattern: p.value, relativeTo: 'including-file-dir', context: index === 0 ? 'include' : 'include-override' });
      });
    }
  }
}

/** Compose's merge tags: `!reset` drops what earlier files set (its value is ignored), `!override` replaces it. */
function mergeTag(node: Node | null): '!reset' | '!override' | undefined {
  const tag = (node as { tag?: string } | null)?.tag;
  return tag === '!reset' || tag === '!override' ? tag : undefined;
}

/**
 * The Dockerfile `build:` names: `build: ./dir` (its Dockerfile) or `{context, dockerfile}` (relative to the
 * context); undefined for what the workspace cannot show (a URL context, a variable, an absolute path, `dockerfile_inline`).
 */
function buildDockerfile(y: YamlReader, node: Node | null, file: string): string | undefined {
  const text = (n: Node | null | undefined): string | undefined => (isScalar(n) && typeof n.value === 'string' ? n.value : undefined);
  let context: string | undefined;
  let dockerfile = 'Dockerfile';
  if (isScalar(node)) context = text(node);
  else if (isMap(node)) {
    const f = y.entries(node);
    if (f.has('dockerfile_inline')) return undefined;
    context = f.has('context') ? text(f.get('context')?.value) : '.';
    if (f.has('dockerfile')) dockerfile = text(f.get('dockerfile')?.value) ?? '';
  }
  if (context === undefined || !dockerfile) return undefined;
  if ([context, dockerfile].some((v) => v.includes('$') || v.startsWith('/') || v.startsWith('~')) || /^[a-z][a-z0-9+.-]*:\/\/|^git@|\.git(#|$)/i.test(context))
    return undefined;
  return path.posix.join(path.posix.dirname(file), context, dockerfile);
}

/** Bind mounts of a service: short `./src:/dst[:ro]` and long `{type: bind, source, target}`; named volumes are left out. */
function readVolumes(y: YamlReader, items: readonly unknown[]): { source: RawValue; target: string }[] {
  const out: { source: RawValue; target: string }[] = [];
  for (const item of items) {
    const node = y.deref(item as Node);
    if (isScalar(node) && typeof node.value === 'string') {
      const raw = y.raw(node);
      const m = raw ? /^([^:]+):(\/[^:]*)(:[a-z,]*)?$/.exec(raw.text) : null;
      if (!raw || !m || !isBindSource(m[1])) continue;
      out.push({ source: { text: m[1], runs: sliceMapped(raw, 0, m[1].length).runs, span: raw.span }, target: m[2] });
    } else if (isMap(node)) {
      const f = y.entries(node);
      const type = f.get('type')?.value;
      const source = f.get('source')?.value ?? null;
      const target = f.get('target')?.value;
      if (!isScalar(source) || typeof source.value !== 'string' || !isScalar(target) || typeof target.value !== 'string') continue;
      if (isScalar(type) && type.value !== 'bind') continue;
      const raw = y.raw(source);
      if (raw && isBindSource(source.value)) out.push({ source: raw, target: target.value });
    }
  }
  return out;
}

/** A host path (relative or absolute), not a named volume. */
function isBindSource(source: string): boolean {
  return source.startsWith('.') || source.startsWith('/') || source.startsWith('~') || source.startsWith('$');
}

function readPorts(y: YamlReader, node: Node | null, file: string, findings: Finding[]): PortEntry[] {
  const entries: PortEntry[] = [];
  if (node === null || (isScalar(node) && node.value === null)) return entries;
  if (!isSeq(node)) {
    entries.push({ kind: 'bad', span: y.span(node), line: y.line(y.span(node).start), message: '`ports` must be a list.' });
    return entries;
  }
  for (const item of node.items) {
    const entry = y.deref(item);
    if (!entry) continue;
    const span = y.span(entry);
    const line = y.line(span.start);
    if (isScalar(entry)) {
      const raw = y.raw(entry);
      if (!raw) {
        entries.push({ kind: 'bad', span, line, message: `A port must be a string, an integer or a mapping, not ${JSON.stringify(entry.value)}.` });
        continue;
      }
      if (entry.type === 'PLAIN' && typeof entry.value === 'string' && isYaml11Sexagesimal(entry.value)) {
        const unquoted = finding(
          file,
          span,
          'warning',
          'invalid-port',
          `Unquoted ${entry.value} is the base-60 number ${sexagesimalValue(entry.value)} to YAML 1.1 parsers (docker-compose v1 publishes container port ${sexagesimalValue(entry.value)}); Compose v2 reads "${entry.value}". Quote it.`,
        );
        // A plain scalar's text is its value, so quoting it changes nothing else.
        if (span.end - span.start === entry.value.length)
          unquoted.fixes = [{ title: `Quote it: "${entry.value}"`, edits: [quotePlainScalar(file, span, entry.value)], preferred: true }];
        findings.push(unquoted);
      }
      entries.push({ kind: 'short', raw, line });
      continue;
    }
    if (isMap(entry)) {
      const fields: Partial<Record<LongField, RawValue>> = {};
      for (const [key, { key: keyNode, value }] of y.entries(entry)) {
        if (!(LONG_FIELDS as readonly string[]).includes(key)) {
          if (!key.startsWith('x-'))
            findings.push(finding(file, y.span(keyNode), 'error', 'syntax', `Unknown port option "${key}": compose accepts ${LONG_FIELDS.join(', ')}.`));
          continue;
        }
        const raw = isScalar(value) ? y.raw(value) : undefined;
        if (raw) fields[key as LongField] = raw;
        else if (value) findings.push(finding(file, y.span(value), 'error', 'invalid-port', `Port option "${key}" must be a string or an integer.`));
      }
      entries.push({ kind: 'long', span, line, fields });
      continue;
    }
    entries.push({ kind: 'bad', span, line, message: 'A port must be a string, an integer or a mapping.' });
  }
  return entries;
}

function readExpose(y: YamlReader, node: Node | null): (RawValue | { bad: Span; message: string })[] {
  if (node === null || (isScalar(node) && node.value === null)) return [];
  if (!isSeq(node)) return [{ bad: y.span(node), message: '`expose` must be a list.' }];
  return node.items.flatMap((item) => {
    const entry = y.deref(item);
    if (!entry) return [];
    const raw = isScalar(entry) ? y.raw(entry) : undefined;
    return [raw ?? { bad: y.span(entry), message: 'An exposed port must be a string or an integer.' }];
  });
}

function parseDotenvFile(text: string, file: string): FileParse {
  const { vars, issues } = parseDotenv(text);
  const findings = issues.map((i) => finding(file, i.span, 'error', 'syntax', i.message));
  const extra: DotenvExtra = { kind: 'dotenv', vars };
  return { format: 'dotenv', file, facts: [], findings, includes: [], extra };
}

// ---------------------------------------------------------------------------------------------
// link: the project's files merged, interpolated, turned into facts

interface Layer {
  parse: FileParse;
  env: Environment;
}

/** One port mapping after interpolation: what Docker is asked to publish. */
export interface ComposeMapping {
  service: string;
  file: string;
  line: number;
  entrySpan: Span;
  hostIp?: { text: string; address?: ParsedAddress; span: Span; unresolved?: string };
  /** Undefined: Docker picks the host port at run time. */
  published?: { from: number; to: number; span: Span };
  publishedUnknown?: Span;
  target?: { from: number; to: number; span: Span };
  targetUnknown?: Span;
  protocol: Protocol;
  name?: string;
  appProtocol?: string;
  /** The earlier mapping compose merges this one into (the same host_ip, published, target, protocol). */
  sameAs?: ComposeMapping;
}

export interface ComposeServiceModel {
  name: string;
  file: string;
  span: Span;
  networkMode?: string;
  /** Bind mounts: the absolute host-side path (a file or a directory) and the container path. */
  mounts: { source: string; target: string }[];
  /** The Dockerfile its image is built from (the last file that sets `build:`). */
  dockerfile?: string;
  mappings: ComposeMapping[];
  expose: { from: number; to: number; protocol: Protocol; span: Span; file: string }[];
  profiles?: string[];
  /** An exposed port could not be read (an unset variable, a bad entry): `expose` may miss one. */
  exposeUnknown?: boolean;
}

export interface ComposeProject {
  root: string;
  services: ComposeServiceModel[];
  findings: Finding[];
  /** The compose files merged into the project, in merge order. */
  read: string[];
}

function projectLayers(instance: InstanceInput): Layer[] {
  const byFile = new Map(instance.files.map((f) => [f.file, f]));
  const dotenvBeside = (file: string): Map<string, string> => {
    const p = byFile.get(path.posix.join(path.posix.dirname(file), '.env'));
    return p && isDotenvExtra(p.extra) ? p.extra.vars : new Map();
  };
  const layers: Layer[] = [];
  const seen = new Set<FileParse>();
  const add = (parse: FileParse, env: Environment, depth: number) => {
    if (seen.has(parse) || depth > 32 || !isComposeExtra(parse.extra)) return;
    seen.add(parse);
    layers.push({ parse, env });
    // Each `include:` entry is a project of its own: its .env adds what the including project does not set.
    let subEnv: Environment = env;
    for (const edge of instance.edges) {
      if (edge.from !== parse) continue;
      if (edge.ref.context === 'include') {
        const own = dotenvBeside(edge.to.file);
        const merged = new Map(own);
        for (const [k, v] of env) merged.set(k, v);
        subEnv = merged;
        add(edge.to, subEnv, depth + 1);
      } else if (edge.ref.context === 'include-override') add(edge.to, subEnv, depth + 1);
    }
  };
  const env = dotenvBeside(instance.root.file);
  const layerOf = layerBase(instance);
  if (layerOf?.merged) add(layerOf.base, env, 0);
  add(instance.root, env, 0);
  // Compose merges the first override file it finds, in its order of names.
  const override = instance.edges.find((e) => e.from === instance.root && e.ref.context === 'override');
  if (override) add(override.to, env, 0);
  return layers;
}

/**
 * A compose file beside the directory's compose file that names some of its services is a layer of that project
 * (`docker compose -f compose.yaml -f this.yml`), or an alternative to it run alone: either way the two never run
 * as two projects. When a service it shares names nothing to run (no image, build or extends), it cannot run
 * alone: it is merged into its base, as compose merges `-f` files. Else it is read alone.
 */
function layerBase(instance: InstanceInput): { base: FileParse; shared: string[]; merged: boolean } | undefined {
  const root = instance.root;
  if (!isComposeExtra(root.extra)) return undefined;
  const bases = instance.edges.filter((e) => e.from === root && e.ref.context === 'layer-base' && e.to !== root && isComposeExtra(e.to.extra));
  const base = COMPOSE_FILE_NAMES.map((n) => bases.find((e) => baseName(e.to.file) === n)).find((e) => e !== undefined)?.to;
  if (!base) return undefined;
  const inBase = new Set((base.extra as ComposeExtra).services.map((d) => d.name));
  const own = root.extra.services;
  const shared = [...new Set(own.filter((d) => inBase.has(d.name)).map((d) => d.name))];
  if (shared.length === 0) return undefined;
  const runnable = (name: string) => own.some((d) => d.name === name && d.runnable);
  return { base, shared, merged: shared.some((name) => !runnable(name)) };
}

/** How a project's instance runs beside the other compose files of its directory (the key of `PortFact.alternative`, the note). */
function projectRole(instance: InstanceInput): { alternative?: string; note?: string } {
  const root = instance.root.file;
  const dir = path.posix.dirname(root);
  if (COMPOSE_FILE_NAMES.includes(baseName(root))) return { alternative: dir };
  const layer = layerBase(instance);
  if (!layer) return {};
  const base = baseName(layer.base.file);
  const services = layer.shared.length > 3 ? `${layer.shared.slice(0, 3).join(', ')}, ...` : layer.shared.join(', ');
  return {
    alternative: dir,
    note: layer.merged
      ? `compose layer of ${base} (services ${services}): merged into it as \`docker compose -f ${base} -f ${baseName(root)}\` does`
      : `alternative to ${base} (services ${services}): read alone, never running beside it as another project`,
  };
}

/** The project's services with their merged, interpolated port mappings (also what the oracle test compares). */
export function composeProject(instance: InstanceInput): ComposeProject {
  const findings: Finding[] = [];
  const byName = new Map<string, { decls: { decl: ServiceDecl; layer: Layer }[] }>();
  const layers = projectLayers(instance);
  for (const layer of layers) {
    for (const decl of (layer.parse.extra as ComposeExtra).services) {
      const entry = byName.get(decl.name) ?? { decls: [] };
      entry.decls.push({ decl, layer });
      byName.set(decl.name, entry);
    }
  }
  const services: ComposeServiceModel[] = [];
  for (const [name, { decls }] of byName) {
    const first = decls[0];
    const model: ComposeServiceModel = { name, file: first.layer.parse.file, span: first.decl.span, mounts: [], mappings: [], expose: [] };
    for (const { decl, layer } of decls) {
      if (decl.networkMode) model.networkMode = interpolate(decl.networkMode.raw, layer.env).value.text;
      if (decl.profiles) model.profiles = decl.profiles;
      if (decl.dockerfile) model.dockerfile = decl.dockerfile;
      for (const v of decl.volumes ?? []) {
        const source = interpolate(v.source, layer.env).value.text;
        // Only what the workspace can hold: a path relative to the compose file, fully known.
        if (source.includes(UNKNOWN) || !source.startsWith('.')) continue;
        model.mounts.push({ source: path.posix.join(path.posix.dirname(layer.parse.file), source), target: v.target });
      }
      if (decl.ports?.replaces) model.mappings = [];
      if (decl.expose?.replaces) {
        model.expose = [];
        model.exposeUnknown = undefined;
      }
      for (const entry of decl.ports?.entries ?? []) pushAll(model.mappings, readMapping(entry, name, layer, findings));
      for (const entry of decl.expose?.entries ?? []) {
        const e = readExpose1(entry, layer, findings);
        if (e) model.expose.push(e);
        else model.exposeUnknown = true;
      }
    }
    mergeRepeated(model.mappings);
    checkNetworkMode(model, decls, findings);
    services.push(model);
  }
  return { root: instance.root.file, services, findings, read: layers.map((l) => l.parse.file) };
}

function reportIssues(issues: InterpolationIssue[], file: string, findings: Finding[]): boolean {
  let invalid = false;
  for (const issue of issues) {
    if (issue.kind === 'invalid') {
      invalid = true;
      findings.push(finding(file, issue.span, 'error', 'syntax', issue.message));
    } else findings.push(finding(file, issue.span, 'information', 'invalid-port', `Port not known: ${issue.message}`));
  }
  return invalid;
}

function unresolvedNames(issues: InterpolationIssue[], span: Span): string | undefined {
  const names = issues.filter((i) => i.kind === 'unset' && i.span.start >= span.start && i.span.end <= span.end).map((i) => `\${${i.variable}}`);
  return names.length > 0 ? names.join('') : undefined;
}

function readMapping(entry: PortEntry, service: string, layer: Layer, findings: Finding[]): ComposeMapping[] {
  const file = layer.parse.file;
  if (entry.kind === 'bad') {
    findings.push(finding(file, entry.span, 'error', 'invalid-port', entry.message));
    return [];
  }
  if (entry.kind === 'short') {
    const { value, issues } = interpolate(entry.raw, layer.env);
    if (reportIssues(issues, file, findings)) return [];
    const parsed = parseShortSpec(value.text);
    if (!parsed.ok) {
      const f = finding(file, spanOf(value, parsed.error.start, parsed.error.end, entry.raw.span), 'error', 'invalid-port', parsed.error.message);
      findings.push(withSwap(f, reversedRangeFix(file, value, parsed.error)));
      return [];
    }
    const spec = parsed.value;
    const at = (s: { start: number; end: number }) => spanOf(value, s.start, s.end, entry.raw.span);
    const mapping: ComposeMapping = { service, file, line: entry.line, entrySpan: entry.raw.span, protocol: spec.protocol };
    if (spec.hostIp) {
      const span = at(spec.hostIp);
      mapping.hostIp = {
        text: spec.hostIp.text,
        address: spec.hostIp.address,
        span,
        unresolved: spec.hostIp.address ? undefined : (unresolvedNames(issues, span) ?? '?'),
      };
    }
    setRange(mapping, 'published', spec.hostPort, at);
    setRange(mapping, 'target', spec.container, at);
    return [mapping];
  }
  return readLongMapping(entry, service, layer, findings);
}

function setRange(mapping: ComposeMapping, which: 'published' | 'target', part: RangePart | undefined, at: (s: Span) => Span): void {
  if (!part) return;
  if ('unknown' in part) {
    mapping[which === 'published' ? 'publishedUnknown' : 'targetUnknown'] = at(part);
    return;
  }
  // Host port 0 asks Docker for any free port, as no host port does.
  if (which === 'published' && part.from === 0 && part.to === 0) return;
  mapping[which] = { from: part.from, to: part.to, span: at(part) };
}

function readLongMapping(entry: Extract<PortEntry, { kind: 'long' }>, service: string, layer: Layer, findings: Finding[]): ComposeMapping[] {
  const file = layer.parse.file;
  const values: Partial<Record<LongField, { value: MappedText; raw: RawValue; issues: InterpolationIssue[] }>> = {};
  let invalid = false;
  for (const key of LONG_FIELDS) {
    const raw = entry.fields[key];
    if (!raw) continue;
    const { value, issues } = interpolate(raw, layer.env);
    if (reportIssues(issues, file, findings)) invalid = true;
    values[key] = { value, raw, issues };
  }
  if (invalid) return [];
  const bad = (span: Span, message: string) => {
    findings.push(finding(file, span, 'error', 'invalid-port', message));
    return [];
  };
  const mapping: ComposeMapping = { service, file, line: entry.line, entrySpan: entry.span, protocol: 'tcp' };
  const whole = (v: { value: MappedText; raw: RawValue }) => spanOf(v.value, 0, v.value.text.length, v.raw.span);

  const target = values.target;
  if (!target) return bad(entry.span, 'A long-syntax port needs `target`, the container port.');
  if (target.value.text.includes(UNKNOWN)) mapping.targetUnknown = whole(target);
  else {
    // compose-go casts target with strconv.Atoi: one number, no range.
    const t = /^[+-]?[0-9]+$/.test(target.value.text) ? Number(target.value.text) : NaN;
    if (!(t >= 0 && t <= 65535)) return bad(whole(target), `Invalid target "${target.value.text}": the container port must be a number 0-65535.`);
    mapping.target = { from: t, to: t, span: whole(target) };
  }

  const published = values.published;
  if (published && published.value.text !== '') {
    const range = parsePortRange(published.value.text, 0, 'published port');
    // No "Swap to" here: docker-compose 1.29 refuses a range in long syntax's published at all.
    if (!range.ok) return bad(spanOf(published.value, range.error.start, range.error.end, published.raw.span), range.error.message);
    setRange(mapping, 'published', range.value, (s) => spanOf(published.value, s.start, s.end, published.raw.span));
  }

  const hostIp = values.host_ip;
  if (hostIp) {
    const ip = parseHostIp(hostIp.value.text, 0);
    if (!ip.ok) return bad(spanOf(hostIp.value, ip.error.start, ip.error.end, hostIp.raw.span), ip.error.message);
    if (ip.value) {
      const span = spanOf(hostIp.value, ip.value.start, ip.value.end, hostIp.raw.span);
      mapping.hostIp = {
        text: ip.value.text,
        address: ip.value.address,
        span,
        unresolved: ip.value.address ? undefined : (unresolvedNames(hostIp.issues, span) ?? '?'),
      };
    }
  }

  const protocol = values.protocol;
  if (protocol && !protocol.value.text.includes(UNKNOWN)) {
    const lower = protocol.value.text.toLowerCase();
    if (!isProtocol(lower)) return bad(whole(protocol), `Invalid protocol "${protocol.value.text}": Docker accepts tcp, udp or sctp.`);
    mapping.protocol = lower;
  }
  if (values.name) mapping.name = values.name.value.text;
  if (values.app_protocol) mapping.appProtocol = values.app_protocol.value.text;
  return [mapping];
}

function readExpose1(entry: RawValue | { bad: Span; message: string }, layer: Layer, findings: Finding[]): ComposeServiceModel['expose'][number] | undefined {
  const file = layer.parse.file;
  if ('bad' in entry) {
    findings.push(finding(file, entry.bad, 'error', 'invalid-port', entry.message));
    return undefined;
  }
  const { value, issues } = interpolate(entry, layer.env);
  if (reportIssues(issues, file, findings) || value.text.includes(UNKNOWN)) return undefined;
  const slash = value.text.indexOf('/');
  const portText = slash < 0 ? value.text : value.text.slice(0, slash);
  let protocol: Protocol = 'tcp';
  if (slash >= 0) {
    const proto = value.text.slice(slash + 1).toLowerCase();
    if (!isProtocol(proto)) {
      findings.push(
        finding(
          file,
          spanOf(value, slash + 1, value.text.length, entry.span),
          'error',
          'invalid-port',
          `Invalid protocol "${value.text.slice(slash + 1)}": Docker accepts tcp, udp or sctp.`,
        ),
      );
      return undefined;
    }
    protocol = proto;
  }
  const range = parsePortRange(portText, 0, 'exposed port');
  if (!range.ok) {
    const f = finding(file, spanOf(value, range.error.start, range.error.end, entry.span), 'error', 'invalid-port', range.error.message);
    findings.push(withSwap(f, reversedRangeFix(file, value, range.error)));
    return undefined;
  }
  if ('unknown' in range.value) return undefined;
  return { from: range.value.from, to: range.value.to, protocol, span: spanOf(value, range.value.start, range.value.end, entry.span), file };
}

/** Per-port keys as compose-go's portIndexer builds them (host_ip defaults to 0.0.0.0). */
function mergeKeys(m: ComposeMapping): string[] | undefined {
  if (!m.target || m.targetUnknown || m.publishedUnknown || m.hostIp?.unresolved) return undefined;
  const ip = m.hostIp?.text || '0.0.0.0';
  const count = m.target.to - m.target.from + 1;
  const pub = m.published;
  // A host range beside one container port is one binding whose published text is the range.
  if (count === 1) return [`${ip}:${pub ? (pub.to !== pub.from ? `${pub.from}-${pub.to}` : `${pub.from}`) : ''}:${m.target.from}/${m.protocol}`];
  if (count > 1024) return [`${ip}:${pub ? `${pub.from}-${pub.to}` : ''}:${m.target.from}-${m.target.to}/${m.protocol}`];
  const keys: string[] = [];
  for (let i = 0; i < count; i++) keys.push(`${ip}:${pub ? pub.from + i : ''}:${m.target.from + i}/${m.protocol}`);
  return keys;
}

/**
 * compose-go's EnforceUnicity on services.*.ports: a mapping whose every (host_ip, published,
 * target, protocol) is already in the list is not added again; the later entry's values take the
 * earlier one's place.
 */
function mergeRepeated(mappings: ComposeMapping[]): void {
  const seen = new Map<string, ComposeMapping>();
  for (const m of mappings) {
    const keys = mergeKeys(m);
    if (!keys) continue;
    const earlier = keys.map((k) => seen.get(k));
    if (earlier.every((e) => e !== undefined)) {
      const first = earlier[0]!;
      m.sameAs = first;
      if (earlier.every((e) => e === first) && mergeKeys(first)!.length === keys.length) first.hostIp = m.hostIp ?? first.hostIp;
      continue;
    }
    for (const k of keys) if (!seen.has(k)) seen.set(k, m);
  }
}

function checkNetworkMode(model: ComposeServiceModel, decls: { decl: ServiceDecl; layer: Layer }[], findings: Finding[]): void {
  const mode = model.networkMode;
  if (!mode || mode.includes(UNKNOWN)) return;
  const withPorts = decls.find(({ decl }) => decl.ports && decl.ports.entries.length > 0);
  if (!withPorts) return;
  const modeDecl = [...decls].reverse().find(({ decl }) => decl.networkMode)!;
  const related = [{ file: modeDecl.layer.parse.file, span: modeDecl.decl.networkMode!.raw.span, message: `network_mode: ${mode}` }];
  const at = (message: string, severity: Severity) =>
    findings.push(finding(withPorts.layer.parse.file, withPorts.decl.ports!.key, severity, 'invalid-port', message, related));
  if (mode === 'host')
    at(
      'network_mode: host — Docker discards published ports ("Published ports are discarded when using host network mode"): the container binds its ports on the host directly.',
      'information',
    );
  else if (mode === 'none') at('network_mode: none — the container has no network, so these ports publish nothing.', 'information');
  else if (/^(service|container):/.test(mode))
    at(
      `network_mode: ${mode} — the container shares another one's network stack, and Docker refuses to create it with published ports ("conflicting options: port publishing and the container type network mode"). Publish the ports on ${mode.slice(mode.indexOf(':') + 1)} instead.`,
      'error',
    );
}

/** Does Docker publish this service's `ports` at all? */
export function publishesPorts(model: ComposeServiceModel): boolean {
  const mode = model.networkMode;
  return !mode || mode.includes(UNKNOWN) || !(mode === 'host' || mode === 'none' || /^(service|container):/.test(mode));
}

function projectFacts(project: ComposeProject): PortFact[] {
  const facts: PortFact[] = [];
  for (const s of project.services) {
    const context = flat(`service ${s.name}${s.profiles && s.profiles.length > 0 ? ` (profiles: ${s.profiles.join(', ')})` : ''}`);
    const publishes = publishesPorts(s);
    const instance = project.root;
    // Object literals, not `{ ...base }`: V8 gives each spread copy a hidden class of its own once it is hot.
    const container = (file: string, r: { from: number; to: number; span: Span }, protocol: Protocol, detail: string): PortFact => ({
      program: 'docker',
      context,
      instance,
      role: 'container',
      file,
      span: r.span,
      protocol,
      port: r.from,
      portEnd: r.to,
      detail,
    });
    for (const m of s.mappings) {
      const target = m.target ? `${s.name}:${rangeText(m.target)}/${m.protocol}` : `${s.name}:?/${m.protocol}`;
      const extras = [m.name ? `name "${m.name}"` : '', m.appProtocol ? `app_protocol ${m.appProtocol}` : ''].filter(Boolean).join(', ');
      const suffix = extras ? ` (${extras})` : '';
      if (m.sameAs) {
        const detail = flat(
          `the same mapping as ${path.posix.basename(m.sameAs.file)}:${m.sameAs.line}: compose merges the two, so this publishes nothing more`,
        );
        for (const r of [m.published, m.target]) if (r) facts.push(container(m.file, r, m.protocol, detail));
        continue;
      }
      const pub = m.published;
      if (pub && publishes) {
        const binds: { family?: IpFamily; address?: string }[] = !m.hostIp
          ? [{ family: 'ipv4' }, { family: 'ipv6' }]
          : m.hostIp.address
            ? [{ family: m.hostIp.address.family, address: m.hostIp.address.address }]
            : [{ address: m.hostIp.unresolved }];
        const oneOf = !!m.target && m.target.from === m.target.to && pub.to !== pub.from;
        for (const b of binds) {
          const where = b.family ? formatHostPort(b.family, b.address, pub.from, pub.to) : `${b.address}:${rangeText(pub)}`;
          facts.push({
            program: 'docker',
            context,
            instance,
            role: 'publish',
            file: m.file,
            span: pub.span,
            protocol: m.protocol,
            port: pub.from,
            portEnd: pub.to,
            family: b.family,
            address: b.address,
            v6only: b.family === 'ipv6' ? true : undefined,
            oneOf: oneOf || undefined,
            target: m.target ? { service: s.name, port: m.target.from, portEnd: m.target.to } : undefined,
            detail: flat(
              oneOf
                ? `docker publishes one free port of ${where} → ${target}${suffix} (picked when the container starts)`
                : `docker publishes ${where} → ${target}${suffix}`,
            ),
          });
        }
      }
      if (m.target) {
        const r = m.target;
        const port = `${rangeText(r)}/${m.protocol}`;
        let detail: string;
        if (!publishes) detail = `container port ${port} of ${s.name}: network_mode ${s.networkMode} publishes nothing`;
        else if (pub) detail = `container port ${port} of ${s.name}, published on host port ${rangeText(pub)}`;
        else if (m.publishedUnknown) detail = `container port ${port} of ${s.name}, published on a host port set by an unset variable`;
        else
          detail = `container port ${port} of ${s.name}: no fixed host port — Docker publishes it on a host port picked at run time from the ephemeral range`;
        facts.push(container(m.file, r, m.protocol, flat(detail)));
      }
    }
    for (const e of s.expose)
      facts.push(
        container(
          e.file,
          e,
          e.protocol,
          flat(`container port ${rangeText(e)}/${e.protocol} of ${s.name}, exposed to other containers only (binds nothing on the host)`),
        ),
      );
  }
  return facts;
}

function link(instance: InstanceInput): InstanceOutput {
  if (!isComposeExtra(instance.root.extra)) return { facts: [], findings: instance.files.flatMap((f) => f.findings) };
  const project = composeProject(instance);
  // The compose file beside a file that turned out not to be its layer was only consulted.
  const read = new Set(project.read);
  const unread = instance.files.filter((f) => isComposeExtra(f.extra) && !read.has(f.file)).map((f) => f.file);
  const fileFindings = instance.files.filter((f) => !unread.includes(f.file)).flatMap((f) => f.findings);
  const services = project.services.map((s) => ({
    name: s.name,
    file: s.file,
    span: s.span,
    networkMode: s.networkMode,
    mounts: s.mounts,
    dockerfile: s.dockerfile,
    containerPorts: [
      ...s.mappings.flatMap((m) =>
        m.target
          ? [
              {
                protocol: m.protocol,
                port: m.target.from,
                portEnd: m.target.to,
                published: m.published && publishesPorts(s) ? { port: m.published.from, portEnd: m.published.to } : undefined,
              },
            ]
          : [],
      ),
      ...s.expose.map((e) => ({ protocol: e.protocol, port: e.from, portEnd: e.to })),
    ],
    containerPortsUnknown: s.exposeUnknown || s.mappings.some((m) => !m.target) || undefined,
  }));
  const { alternative, note } = projectRole(instance);
  const facts = projectFacts(project);
  if (alternative !== undefined) for (const f of facts) f.alternative = alternative;
  const output: InstanceOutput = { facts, findings: [...fileFindings, ...project.findings], services };
  if (note) output.note = note;
  if (unread.length > 0) output.unread = unread;
  return output;
}

export function createComposeModule(): FormatModule {
  return {
    id: 'compose',
    writer: composeWriter,
    matchesPath: isComposePath,
    claimByContent,
    matchesContent: (text) =>
      /^services:[ \t]*(#.*)?$/m.test(text) && /^[ \t]+(ports|expose|image|build):/m.test(text) && !/^(stages|jobs|on|steps|script):/m.test(text),
    parse(text, file, context) {
      if (context === 'dotenv') return parseDotenvFile(text, file);
      return parseComposeYaml(text, file, context as ComposeContext | undefined);
    },
    link,
  };
}
