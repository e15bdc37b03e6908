/**
 * Compose's variable interpolation and its `.env` dialect, following compose-go (template/ and
 * dotenv/), with one addition: every character of a result remembers the source text it came
 * from, so that a port written as `${WEB_PORT:-8080}` is reported on that expression.
 *
 * Portolan cannot see the shell that will run `docker compose`: a variable the `.env` file does
 * not set is treated as unset, and where compose would need its value (`${VAR}`, `$VAR`,
 * `${VAR:?msg}`) the result holds UNKNOWN instead.
 */
import type { Span } from '../../core/types';
import { UNKNOWN } from './ports';

/**
 * A string and, for each of its characters, the span of file text that produced it, kept as runs
 * (a value read from a file is one run, not an object per character).
 */
export interface MappedText {
  text: string;
  /** The characters of `text` in order, `len` per run (their lengths add up to the text's). */
  runs: readonly MappedRun[];
}

/**
 * `len` characters: `literal`, character k comes from [start + k, start + k + 1) (text spelled as it is);
 * else every one of them comes from [start, end) (a substitution, an escape, a block scalar).
 */
export interface MappedRun {
  readonly len: number;
  readonly start: number;
  readonly end: number;
  readonly literal: boolean;
}

/** `len` characters spelled as they are from `start` on. */
export function literalMapped(text: string, start: number): MappedText {
  return { text, runs: text.length > 0 ? [{ len: text.length, start, end: start + text.length, literal: true }] : [] };
}

/** Appends `run` to `runs`, joining it to the last run when the two read as one. */
function pushRun(runs: MappedRun[], run: MappedRun): void {
  if (run.len <= 0) return;
  const last = runs[runs.length - 1];
  if (last && last.literal && run.literal && last.end === run.start)
    runs[runs.length - 1] = { len: last.len + run.len, start: last.start, end: run.end, literal: true };
  else if (last && !last.literal && !run.literal && last.start === run.start && last.end === run.end)
    runs[runs.length - 1] = { len: last.len + run.len, start: last.start, end: last.end, literal: false };
  else runs.push(run);
}

/** A literal taken from a file: character i comes from [offsets[i], offsets[i + 1]). */
export function mappedFromOffsets(text: string, offsets: number[]): MappedText {
  const runs: MappedRun[] = [];
  for (let i = 0; i < text.length; i++) {
    const start = offsets[i];
    const end = offsets[i + 1];
    pushRun(runs, end === start + 1 ? { len: 1, start, end, literal: true } : { len: 1, start, end, literal: false });
  }
  return { text, runs };
}

/** A value whose characters cannot be told apart in the source (a block scalar, `0x1F90`): all map to the whole node. */
export function opaqueMapped(text: string, span: Span): MappedText {
  return { text, runs: text.length > 0 ? [{ len: text.length, start: span.start, end: span.end, literal: false }] : [] };
}

/** The source span of character i, undefined past the end. */
export function spanAt(m: MappedText, i: number): Span | undefined {
  if (i < 0) return undefined;
  let at = 0;
  for (const run of m.runs) {
    if (i < at + run.len) return run.literal ? { start: run.start + (i - at), end: run.start + (i - at) + 1 } : { start: run.start, end: run.end };
    at += run.len;
  }
  return undefined;
}

/** The source span of characters [from, to) of a mapped text; an empty slice maps to where it would start. */
export function spanOf(m: MappedText, from: number, to: number, fallback: Span): Span {
  const length = m.text.length;
  if (from >= to || from >= length) {
    const at = spanAt(m, Math.min(from, length - 1));
    return at ? { start: at.start, end: at.start } : fallback;
  }
  let start = Infinity;
  let end = -Infinity;
  let at = 0;
  const last = Math.min(to, length);
  for (const run of m.runs) {
    const lo = Math.max(from, at);
    const hi = Math.min(last, at + run.len);
    if (lo < hi) {
      start = Math.min(start, run.literal ? run.start + (lo - at) : run.start);
      end = Math.max(end, run.literal ? run.start + (hi - at) : run.end);
    }
    at += run.len;
    if (at >= last) break;
  }
  return { start, end };
}

/** Characters [from, to) of a mapped text, with their sources. */
export function sliceMapped(m: MappedText, from: number, to: number): MappedText {
  const runs: MappedRun[] = [];
  let at = 0;
  for (const run of m.runs) {
    const lo = Math.max(from, at);
    const hi = Math.min(to, at + run.len);
    if (lo < hi) {
      if (lo === at && hi === at + run.len) runs.push(run);
      else if (run.literal) runs.push({ len: hi - lo, start: run.start + (lo - at), end: run.start + (hi - at), literal: true });
      else runs.push({ len: hi - lo, start: run.start, end: run.end, literal: false });
    }
    at += run.len;
    if (at >= to) break;
  }
  return { text: m.text.slice(from, to), runs };
}

/** Variable values; a value may contain UNKNOWN where it depends on the shell. */
export type Environment = ReadonlyMap<string, string>;

export interface InterpolationIssue {
  span: Span;
  /** 'unset': compose needs a variable nobody here sets; 'invalid': compose rejects the template. */
  kind: 'unset' | 'invalid';
  variable?: string;
  message: string;
}

export interface Interpolated {
  value: MappedText;
  issues: InterpolationIssue[];
}

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;
const OPERATORS = [':?', '?', ':-', '-', ':+', '+'] as const;

/** Index of the `}` closing the `${` that starts at `open`, counting nested `${...}`; -1 if none. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Replaces `$$`, `$VAR` and `${VAR...}` in `input` as compose does, keeping the source of every character. */
export function interpolate(input: MappedText, env: Environment): Interpolated {
  const issues: InterpolationIssue[] = [];
  const value = expand(input, env, issues, 0);
  return { value, issues };
}

const slice = sliceMapped;

function expand(input: MappedText, env: Environment, issues: InterpolationIssue[], depth: number): MappedText {
  const text = input.text;
  // Nothing to replace (most values): the input as it is.
  if (!text.includes('$')) return input;
  let outText = '';
  const runs: MappedRun[] = [];
  const push = (value: string, span: Span) => {
    outText += value;
    pushRun(runs, { len: value.length, start: span.start, end: span.end, literal: false });
  };
  const pushMapped = (m: MappedText) => {
    outText += m.text;
    for (const run of m.runs) pushRun(runs, run);
  };
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      pushMapped(slice(input, i, text.length));
      break;
    }
    pushMapped(slice(input, i, dollar));
    const next = text[dollar + 1];
    if (next === '$') {
      push('$', spanOf(input, dollar, dollar + 2, spanAt(input, dollar)!));
      i = dollar + 2;
      continue;
    }
    if (next === '{') {
      const close = closingBrace(text, dollar);
      const exprSpan = spanOf(input, dollar, close < 0 ? text.length : close + 1, spanAt(input, dollar)!);
      if (close < 0) {
        issues.push({ span: exprSpan, kind: 'invalid', message: `Invalid interpolation "${text.slice(dollar)}": no closing "}".` });
        return { text: outText, runs };
      }
      const body = text.slice(dollar + 2, close);
      const name = NAME.exec(body)?.[0];
      const rest = name ? body.slice(name.length) : '';
      const operator = OPERATORS.find((op) => rest.startsWith(op));
      if (!name || (rest !== '' && !operator)) {
        issues.push({
          span: exprSpan,
          kind: 'invalid',
          message: `Invalid interpolation "\${${body}}": compose accepts \${VAR}, \${VAR:-default}, \${VAR-default}, \${VAR:?error}, \${VAR?error}, \${VAR:+alt}, \${VAR+alt}.`,
        });
        i = close + 1;
        continue;
      }
      const argument = () =>
        depth > 16 ? { text: '', runs: [] } : expand(slice(input, dollar + 2 + name.length + operator!.length, close), env, issues, depth + 1);
      const set = env.has(name);
      const current = env.get(name) ?? '';
      const useArg = (m: MappedText) => pushMapped(m);
      const useValue = () => push(current, exprSpan);
      switch (operator) {
        case undefined:
          if (set) useValue();
          else unset(name, exprSpan, issues, push);
          break;
        case ':-':
          if (set && current !== '') useValue();
          else useArg(argument());
          break;
        case '-':
          if (set) useValue();
          else useArg(argument());
          break;
        case ':+':
          if (set && current !== '') useArg(argument());
          else if (set) useValue();
          break;
        case '+':
          if (set) useArg(argument());
          break;
        case ':?':
        case '?':
          if (set && (operator === '?' || current !== '')) useValue();
          else {
            const reason = argument().text;
            unset(name, exprSpan, issues, push, reason);
          }
          break;
      }
      i = close + 1;
      continue;
    }
    const name = NAME.exec(text.slice(dollar + 1))?.[0];
    if (name) {
      const exprSpan = spanOf(input, dollar, dollar + 1 + name.length, spanAt(input, dollar)!);
      if (env.has(name)) push(env.get(name)!, exprSpan);
      else unset(name, exprSpan, issues, push);
      i = dollar + 1 + name.length;
      continue;
    }
    // A lone '$' (before a digit, a space, the end) stays as written.
    pushMapped(slice(input, dollar, dollar + 1));
    i = dollar + 1;
  }
  return { text: outText, runs };
}

function unset(name: string, span: Span, issues: InterpolationIssue[], push: (text: string, span: Span) => void, reason?: string): void {
  issues.push({
    span,
    kind: 'unset',
    variable: name,
    message: `${name} is not set in .env${reason ? ` (compose stops with "${reason}" unless the shell sets it)` : ''}: its value comes from the shell that runs docker compose.`,
  });
  push(UNKNOWN, span);
}

export interface DotenvIssue {
  span: Span;
  message: string;
}

export interface Dotenv {
  vars: Map<string, string>;
  issues: DotenvIssue[];
}

const isBlank = (ch: string) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v';
const DOUBLE_QUOTE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '"': '"', '\\': '\\', $: '$$' };

/**
 * compose-go's .env dialect: `KEY=value`, `KEY: value`, `export KEY=value`, `# comments`,
 * unquoted values cut at " #" and expanded, 'single quotes' literal, "double quotes" with
 * escapes and expansion, quoted values across lines; a bare `KEY` takes the shell's value.
 */
export function parseDotenv(text: string): Dotenv {
  const vars = new Map<string, string>();
  const issues: DotenvIssue[] = [];
  let i = 0;
  const lineEnd = (from: number) => {
    const nl = text.indexOf('\n', from);
    return nl < 0 ? text.length : nl;
  };
  while (i < text.length) {
    while (i < text.length && (isBlank(text[i]) || text[i] === '\n')) i++;
    if (i >= text.length) break;
    if (text[i] === '#') {
      i = lineEnd(i) + 1;
      continue;
    }
    const statementStart = i;
    const exported = /^export[ \t]+/.exec(text.slice(i, i + 64));
    if (exported) i += exported[0].length;
    let j = i;
    while (j < text.length && /[\p{L}\p{N}_.\-[\]]/u.test(text[j])) j++;
    const key = text.slice(i, j);
    let k = j;
    while (k < text.length && isBlank(text[k])) k++;
    const sep = text[k];
    if (key === '' || (sep !== '=' && sep !== ':' && sep !== '\n' && sep !== undefined)) {
      const end = lineEnd(statementStart);
      issues.push({
        span: { start: statementStart, end },
        message: `Unexpected character ${JSON.stringify(text[k] ?? '')} in variable name: compose refuses this .env file.`,
      });
      i = end + 1;
      continue;
    }
    if (sep === '\n' || sep === undefined) {
      // `KEY` alone: the shell's value, unknown here.
      vars.set(key, UNKNOWN);
      i = k + 1;
      continue;
    }
    i = k + 1;
    while (i < text.length && isBlank(text[i])) i++;
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      let value = '';
      let closed = -1;
      for (let q = i + 1; q < text.length; q++) {
        const ch = text[q];
        if (ch === '\\' && q + 1 < text.length) {
          const escaped = text[q + 1];
          if (quote === '"') value += escaped in DOUBLE_QUOTE_ESCAPES ? DOUBLE_QUOTE_ESCAPES[escaped] : `\\${escaped}`;
          else value += escaped === "'" ? "'" : `\\${escaped}`;
          q++;
          continue;
        }
        if (ch === quote) {
          closed = q;
          break;
        }
        value += ch;
      }
      if (closed < 0) {
        const end = lineEnd(statementStart);
        issues.push({ span: { start: statementStart, end }, message: `Unterminated quoted value for ${key}: compose refuses this .env file.` });
        break;
      }
      vars.set(key, quote === '"' ? expandEnvValue(value, vars) : value);
      i = lineEnd(closed) + 1;
      continue;
    }
    const end = lineEnd(i);
    let raw = text.slice(i, end);
    const comment = raw.indexOf(' #');
    if (comment >= 0) raw = raw.slice(0, comment);
    vars.set(key, expandEnvValue(raw.replace(/\s+$/, ''), vars));
    i = end + 1;
  }
  return { vars, issues };
}

/** Expansion inside .env values: earlier variables of the file; anything else is the shell's (unknown). */
function expandEnvValue(value: string, vars: Map<string, string>): string {
  if (!value.includes('$')) return value;
  const zero = { start: 0, end: 0 };
  return interpolate(opaqueMapped(value, zero), vars).value.text;
}
