/**
 * nginx configuration syntax, tokenized the way nginx's ngx_conf_read_token() does it (checked
 * against `nginx -t` in test/oracle/nginx.test.ts): words end at whitespace, ';' or '{'; quotes
 * only open a word at its start; '#' only starts a comment at a word start; '\' escapes the next
 * character; '{' right after '$' belongs to the word (`${var}`); '}' only closes a block where a
 * word could start. nginx stops at the first error; we report it and keep going so that the rest
 * of the file is still analysed. Linear in the text length and never throws.
 */
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

export function parseNginxTree(text: string): NginxTree {
  const errors: NginxSyntaxError[] = [];
  const top: OpenBlock = { children: [] };
  const stack: OpenBlock[] = [top];
  let words: NginxWord[] = [];
  const n = text.length;
  // Offset from which no closing quote of each kind exists (found by an earlier scan to the end).
  const noCloseAfter: Record<string, number> = { '"': Infinity, "'": Infinity };

  const current = () => stack[stack.length - 1];
  /** Ends the directive whose words are pending (the caller checked there are some). */
  const endDirective = (end: number): NginxDirective => {
    const [name, ...args] = words;
    const directive: NginxDirective = { name, args, span: { start: name.span.start, end } };
    current().children.push(directive);
    words = [];
    return directive;
  };

  let i = 0;
  while (i < n) {
    const c = text[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? n : eol + 1;
      continue;
    }
    if (c === ';') {
      if (words.length === 0) errors.push({ span: { start: i, end: i + 1 }, message: 'unexpected ";": nginx expects a directive name before it.' });
      else endDirective(i + 1);
      i++;
      continue;
    }
    if (c === '{') {
      if (words.length === 0) {
        errors.push({ span: { start: i, end: i + 1 }, message: 'unexpected "{": nginx expects a directive name before a block.' });
        // Keep the braces balanced; what is inside an anonymous block is not analysed.
        stack.push({ children: [] });
        i++;
        continue;
      }
      const directive = endDirective(i + 1);
      directive.blockOpen = { start: i, end: i + 1 };
      directive.block = [];
      if (isLuaBlock(directive.name.text)) {
        const close = skipLua(text, i + 1);
        if (close < 0) {
          errors.push({ span: directive.blockOpen, message: `This "{" is never closed (nginx: unexpected end of file, expecting "}").` });
          directive.span = { start: directive.span.start, end: n };
          i = n;
        } else {
          directive.blockClose = { start: close, end: close + 1 };
          directive.span = { start: directive.span.start, end: close + 1 };
          i = close + 1;
        }
        continue;
      }
      stack.push({ directive, children: directive.block });
      i++;
      continue;
    }
    if (c === '}') {
      if (words.length > 0) {
        errors.push({
          span: { start: words[0].span.start, end: words[words.length - 1].span.end },
          message: `unexpected "}": this directive is missing its ";".`,
        });
        endDirective(words[words.length - 1].span.end);
      }
      if (stack.length === 1) {
        errors.push({ span: { start: i, end: i + 1 }, message: 'unexpected "}": no block is open here.' });
      } else {
        const closed = stack.pop()!;
        if (closed.directive) {
          closed.directive.blockClose = { start: i, end: i + 1 };
          closed.directive.span = { start: closed.directive.span.start, end: i + 1 };
        }
      }
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let closed = false;
      if (i < noCloseAfter[c]) {
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
        noCloseAfter[c] = Math.min(noCloseAfter[c], i);
        // nginx reads to the end of the file; we end the string at the end of its line and go on.
        const eol = text.indexOf('\n', i);
        const end = eol < 0 ? n : eol;
        errors.push({
          span: { start: i, end: i + 1 },
          message: `This ${c === '"' ? 'double' : 'single'} quote is never closed (nginx: unexpected end of file).`,
        });
        words.push({ text: unescape(text.slice(i + 1, end)), span: { start: i, end }, quoted: true });
        i = end;
        continue;
      }
      words.push({ text: unescape(text.slice(i + 1, j)), span: { start: i, end: j + 1 }, quoted: true });
      i = j + 1;
      // After a closing quote nginx wants a space, ';', '{' or ')' (the end of an `if (...)` condition).
      if (i < n) {
        const after = text[i];
        if (!isSpace(after) && after !== ';' && after !== '{' && after !== ')') {
          errors.push({ span: { start: i, end: i + 1 }, message: `unexpected "${after}" right after a quoted string: nginx wants a space, ";" or "{" there.` });
        }
      }
      continue;
    }
    // An unquoted word.
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
    words.push({ text: unescape(text.slice(i, j)), span: { start: i, end: j }, quoted: false });
    i = j;
  }
  if (words.length > 0) {
    const span = { start: words[0].span.start, end: words[words.length - 1].span.end };
    errors.push({ span, message: 'This directive is missing its ";" (nginx: unexpected end of file, expecting ";" or "}").' });
    endDirective(span.end);
  }
  for (let k = stack.length - 1; k >= 1; k--) {
    const open = stack[k].directive;
    const at = open?.blockOpen ?? { start: n, end: n };
    if (open) open.span = { start: open.span.start, end: n };
    errors.push({ span: at, message: `This "{" is never closed (nginx: unexpected end of file, expecting "}").` });
  }
  return { directives: top.children, errors };
}

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
