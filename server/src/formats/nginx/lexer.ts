/**
 * nginx configuration syntax, tokenized the way nginx's ngx_conf_read_token() does it (checked
 * against `nginx -t` in test/oracle/nginx.test.ts): words end at whitespace, ';' or '{'; quotes
 * only open a word at its start; '#' only starts a comment at a word start; '\' escapes the next
 * character; '{' right after '$' belongs to the word (`${var}`); '}' only closes a block where a
 * word could start. nginx stops at the first error; we report it and keep going so that the rest
 * of the file is still analysed. Linear in the text length and never throws.
 */
import { drain } from '../../core/steps';
import { intern } from '../../core/strings';
import type { Span } from '../../core/types';

export interface NginxWord {
  /** The value nginx sees: quotes removed, escapes applied. */
  text: string;
  /** The word as written, quotes included. */
  span: Span;
  quoted: boolean;
}

export interface NginxDirective {
  name: NginxWord;
  args: NginxWord[];
  /** From the name to the ';' that ends it, or to the '}' that closes its block. */
  span: Span;
  /** Present for block directives (`server { ... }`). */
  block?: NginxDirective[];
  blockOpen?: Span;
  /** Missing when the block is never closed. */
  blockClose?: Span;
}

export interface NginxSyntaxError {
  span: Span;
  message: string;
}

export interface NginxTree {
  directives: NginxDirective[];
  errors: NginxSyntaxError[];
}

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/** nginx's unescaping of a word: \" \' \\ lose the backslash, \t \r \n become controls, other pairs stay. */
function unescape(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\' && i + 1 < raw.length) {
      const n = raw[i + 1];
      if (n === '"' || n === "'" || n === '\\') {
        out += n;
        i++;
        continue;
      }
      if (n === 't' || n === 'r' || n === 'n') {
        out += n === 't' ? '\t' : n === 'r' ? '\r' : '\n';
        i++;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** Directives whose block holds Lua code (OpenResty), which nginx's own tokenizer would misread. */
const isLuaBlock = (name: string) => /_by_lua_block$/.test(name) || name === 'lua_block';

interface OpenBlock {
  directive?: NginxDirective;
  children: NginxDirective[];
}

const NEVER_CLOSED = `This "{" is never closed (nginx: unexpected end of file, expecting "}").`;

/**
 * One pass over a file's text, the state ngx_conf_read_token() keeps between characters.
 * Each character that means something to nginx has its handler in READERS; everything else
 * starts an unquoted word.
 */
class NginxTreeReader {
  readonly errors: NginxSyntaxError[] = [];
  /** The file's top level: the directives outside any block. */
  readonly top: OpenBlock = { children: [] };
  /** The blocks open at `at`, the file's top level first. */
  readonly stack: OpenBlock[] = [this.top];
  /** The words of the directive being read (its name first), waiting for its ';' or '{'. */
  words: NginxWord[] = [];
  /** Where the reader is. */
  at = 0;
  /** Offset from which no closing quote of each kind exists (found by an earlier scan to the end). */
  readonly noCloseAfter: Record<string, number> = { '"': Infinity, "'": Infinity };

  constructor(readonly text: string) {}

  get current(): OpenBlock {
    return this.stack[this.stack.length - 1];
  }

  error(start: number, end: number, message: string): void {
    this.errors.push({ span: { start, end }, message });
  }

  /** Ends the directive whose words are pending (the caller checked there are some). */
  endDirective(end: number): NginxDirective {
    const [name, ...args] = this.words;
    const directive: NginxDirective = { name, args, span: { start: name.span.start, end } };
    this.current.children.push(directive);
    this.words = [];
    return directive;
  }

  /** Reads the text, pausing every 64 KB of it (core/steps.ts). */
  *read(): Generator<void, NginxTree, void> {
    const { text } = this;
    let pause = CHARS_PER_STEP;
    while (this.at < text.length) {
      const c = text[this.at];
      if (isSpace(c)) this.at++;
      else (READERS[c] ?? readWord)(this);
      if (this.at >= pause) {
        pause = this.at + CHARS_PER_STEP;
        yield;
      }
    }
    this.finish();
    return { directives: this.top.children, errors: this.errors };
  }

  /** At the end of the text: a directive without its ';', blocks without their '}'. */
  private finish(): void {
    const n = this.text.length;
    const { words } = this;
    if (words.length > 0) {
      const end = words[words.length - 1].span.end;
      this.error(words[0].span.start, end, 'This directive is missing its ";" (nginx: unexpected end of file, expecting ";" or "}").');
      this.endDirective(end);
    }
    for (let k = this.stack.length - 1; k >= 1; k--) {
      const open = this.stack[k].directive;
      const at = open?.blockOpen ?? { start: n, end: n };
      if (open) open.span = { start: open.span.start, end: n };
      this.errors.push({ span: at, message: NEVER_CLOSED });
    }
  }
}

type CharacterReader = (r: NginxTreeReader) => void;

/** '#' at a word start: a comment to the end of the line. */
const readComment: CharacterReader = (r) => {
  const eol = r.text.indexOf('\n', r.at);
  r.at = eol < 0 ? r.text.length : eol + 1;
};

/** ';' ends a simple directive. */
const readSemicolon: CharacterReader = (r) => {
  if (r.words.length === 0) r.error(r.at, r.at + 1, 'unexpected ";": nginx expects a directive name before it.');
  else r.endDirective(r.at + 1);
  r.at++;
};

/** '{' ends a block directive's words and opens its block (a Lua block is skipped as Lua). */
const readBlockOpen: CharacterReader = (r) => {
  const i = r.at;
  if (r.words.length === 0) {
    r.error(i, i + 1, 'unexpected "{": nginx expects a directive name before a block.');
    // Keep the braces balanced; what is inside an anonymous block is not analysed.
    r.stack.push({ children: [] });
    r.at++;
    return;
  }
  const directive = r.endDirective(i + 1);
  directive.blockOpen = { start: i, end: i + 1 };
  directive.block = [];
  if (!isLuaBlock(directive.name.text)) {
    r.stack.push({ directive, children: directive.block });
    r.at++;
    return;
  }
  const close = skipLua(r.text, i + 1);
  if (close < 0) {
    r.errors.push({ span: directive.blockOpen, message: NEVER_CLOSED });
    directive.span = { start: directive.span.start, end: r.text.length };
    r.at = r.text.length;
  } else {
    directive.blockClose = { start: close, end: close + 1 };
    directive.span = { start: directive.span.start, end: close + 1 };
    r.at = close + 1;
  }
};

/** '}' closes the innermost block (a directive before it without ';' is ended there). */
const readBlockClose: CharacterReader = (r) => {
  const i = r.at;
  const { words } = r;
  if (words.length > 0) {
    const end = words[words.length - 1].span.end;
    r.error(words[0].span.start, end, `unexpected "}": this directive is missing its ";".`);
    r.endDirective(end);
  }
  if (r.stack.length === 1) {
    r.error(i, i + 1, 'unexpected "}": no block is open here.');
  } else {
    const closed = r.stack.pop()!;
    if (closed.directive) {
      closed.directive.blockClose = { start: i, end: i + 1 };
      closed.directive.span = { start: closed.directive.span.start, end: i + 1 };
    }
  }
  r.at++;
};

/** A quoted word; an unclosed quote is reported and ends at the end of its line. */
const readQuoted: CharacterReader = (r) => {
  const { text } = r;
  const n = text.length;
  const i = r.at;
  const c = text[i];
  let j = i + 1;
  let closed = false;
  if (i < r.noCloseAfter[c]) {
    while (j < n) {
      const d = text[j];
      if (d === '\\') {
        j += 2;
        continue;
      }
      if (d === c) {
        closed = true;
        break;
      }
      j++;
    }
  }
  if (!closed) {
    r.noCloseAfter[c] = Math.min(r.noCloseAfter[c], i);
    // nginx reads to the end of the file; we end the string at the end of its line and go on.
    const eol = text.indexOf('\n', i);
    const end = eol < 0 ? n : eol;
    r.error(i, i + 1, `This ${c === '"' ? 'double' : 'single'} quote is never closed (nginx: unexpected end of file).`);
    r.words.push({ text: unescape(text.slice(i + 1, end)), span: { start: i, end }, quoted: true });
    r.at = end;
    return;
  }
  r.words.push({ text: intern(unescape(text.slice(i + 1, j))), span: { start: i, end: j + 1 }, quoted: true });
  r.at = j + 1;
  // After a closing quote nginx wants a space, ';', '{' or ')' (the end of an `if (...)` condition).
  if (r.at < n) {
    const after = text[r.at];
    if (!isSpace(after) && after !== ';' && after !== '{' && after !== ')') {
      r.error(r.at, r.at + 1, `unexpected "${after}" right after a quoted string: nginx wants a space, ";" or "{" there.`);
    }
  }
};

/** An unquoted word: to whitespace, ';' or '{' (a '{' right after '$' belongs to it, `${var}`). */
const readWord: CharacterReader = (r) => {
  const { text } = r;
  const n = text.length;
  const i = r.at;
  let j = i;
  let variable = false;
  while (j < n) {
    const d = text[j];
    if (d === '\\') {
      variable = false;
      j += 2;
      continue;
    }
    if (d === '{' && variable) {
      j++;
      continue;
    }
    variable = false;
    if (d === '$') {
      variable = true;
      j++;
      continue;
    }
    if (isSpace(d) || d === ';' || d === '{') break;
    j++;
  }
  j = Math.min(j, n);
  r.words.push({ text: intern(unescape(text.slice(i, j))), span: { start: i, end: j }, quoted: false });
  r.at = j;
};

/** The characters that mean something where a word could start. */
const READERS: Record<string, CharacterReader> = {
  '#': readComment,
  ';': readSemicolon,
  '{': readBlockOpen,
  '}': readBlockClose,
  '"': readQuoted,
  "'": readQuoted,
};

export function parseNginxTree(text: string): NginxTree {
  return drain(new NginxTreeReader(text).read());
}

/** `parseNginxTree` in steps of 64 KB of text. */
export function parseNginxTreeSteps(text: string): Generator<void, NginxTree, void> {
  return new NginxTreeReader(text).read();
}

const CHARS_PER_STEP = 64 * 1024;

/**
 * The offset of the '}' that closes a Lua block whose body starts at `from`, or -1. Skips Lua strings,
 * long brackets and comments so that braces inside them do not count.
 */
function skipLua(text: string, from: number): number {
  let depth = 1;
  let i = from;
  const n = text.length;
  const longBracket = (at: number): number => {
    // [[ ... ]] or [==[ ... ]==]: returns the offset after the closing bracket, or -1 when `at` opens none.
    if (text[at] !== '[') return -1;
    let k = at + 1;
    while (text[k] === '=') k++;
    if (text[k] !== '[') return -1;
    const close = ']' + '='.repeat(k - at - 1) + ']';
    const end = text.indexOf(close, k + 1);
    return end < 0 ? n : end + close.length;
  };
  while (i < n) {
    const c = text[i];
    if (c === '-' && text[i + 1] === '-') {
      const after = longBracket(i + 2);
      if (after >= 0) {
        i = after;
        continue;
      }
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? n : eol + 1;
      continue;
    }
    if (c === '[') {
      const after = longBracket(i);
      if (after >= 0) {
        i = after;
        continue;
      }
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      i = j + 1;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
    i++;
  }
  return -1;
}
