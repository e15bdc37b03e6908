/**
 * nftables rulesets (`nftables.conf`, `*.nft`): a tokenizer and a small recursive parser for the part of
 * the nft language that configs use (tables, chains, sets, maps, define, include, add/insert rule),
 * and an evaluator that follows the input hook's base chains through jump/goto into what they let in.
 * Anything else is skipped to the end of its statement. Checked against nft 1.0.6 (`nft -c -f`,
 * `nft -j list ruleset`) in test/oracle/nftables.test.ts.
 */
import { MAX_PORT, rangeText } from '../../core/portRanges';
import { findJumpLoops, findTooDeep, NFT_JUMP_DEPTH, walkCapNote } from '../../core/jumpLoops';
import { swapRangeFix, withSwap } from '../../core/reversedRange';
import { looksLikeServiceName, UNKNOWN_SERVICE_MESSAGES, unknownService, type ServiceLookup } from '../../core/serviceNames';
import type {
  FileParse,
  Finding,
  FirewallAction,
  FirewallFacts,
  FirewallForward,
  FirewallHook,
  FirewallRule,
  FormatModule,
  IncludeRef,
  InstanceInput,
  InstanceOutput,
  IpFamily,
  PortFact,
  PortRange,
  Protocol,
  Span,
} from '../../core/types';
import { nftablesWriter } from './writer';

// ---------------------------------------------------------------------------------------------
// Tokens

export type TokKind = 'word' | 'num' | 'str' | 'var' | 'ref' | 'p' | 'nl';

export interface Tok {
  k: TokKind;
  /** Text without quotes, `$` or `@`. */
  t: string;
  s: number;
  e: number;
  file: string;
}

const FAMILIES = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);
const TWO_CHAR_PUNCT = new Set(['==', '!=', '<=', '>=', '<<', '>>']);
const WORD_START = /[A-Za-z_]/;
const WORD_CHAR = /[A-Za-z0-9_/\-.]/;

/** Splits nft source into tokens the way nft's scanner does for the constructs we read. Linear. */
export function tokenize(text: string, file: string, findings: Finding[]): Tok[] {
  const toks: Tok[] = [];
  const n = text.length;
  let i = 0;
  const push = (k: TokKind, t: string, s: number, e: number) => toks.push({ k, t, s, e, file });
  while (i < n) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if (c === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) {
      i += text[i + 1] === '\n' ? 2 : 3; // line continuation
    } else if (c === '\n') {
      push('nl', '\n', i, i + 1);
      i++;
    } else if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '"') {
      // nft's quoted string is "[^"]*": it may span lines and has no escapes.
      const close = text.indexOf('"', i + 1);
      if (close < 0) {
        const eol = text.indexOf('\n', i);
        const end = eol < 0 ? n : eol;
        findings.push(syntaxError(file, { start: i, end }, 'Unterminated string: nft finds no closing quote (syntax error, unexpected junk).'));
        i = end;
      } else {
        push('str', text.slice(i + 1, close), i, close + 1);
        i = close + 1;
      }
    } else if ((c === '$' || c === '@') && i + 1 < n && /[A-Za-z0-9_.]/.test(text[i + 1])) {
      let j = i + 1;
      while (j < n && WORD_CHAR.test(text[j])) j++;
      push(c === '$' ? 'var' : 'ref', text.slice(i + 1, j), i, j);
      i = j;
    } else {
      const addr = addressAt(text, i);
      if (addr > i) {
        push('word', text.slice(i, addr), i, addr);
        i = addr;
      } else if (c >= '0' && c <= '9') {
        let j = i;
        const hex = /^0[xX][0-9a-fA-F]+/.exec(text.slice(i, i + 20));
        if (hex) j = i + hex[0].length;
        else while (j < n && text[j] >= '0' && text[j] <= '9') j++;
        if (j < n && /[A-Za-z]/.test(text[j]) && !hex) {
          // Times and sizes (1h30m, 10mbytes) are one word.
          while (j < n && /[A-Za-z0-9]/.test(text[j])) j++;
          push('word', text.slice(i, j), i, j);
        } else push('num', text.slice(i, j), i, j);
        i = j;
      } else if (WORD_START.test(c)) {
        let j = i + 1;
        while (j < n && WORD_CHAR.test(text[j])) j++;
        if (text[j] === '*') j++; // interface wildcard eth*
        push('word', text.slice(i, j), i, j);
        i = j;
      } else {
        const two = text.slice(i, i + 2);
        if (TWO_CHAR_PUNCT.has(two)) {
          push('p', two, i, i + 2);
          i += 2;
        } else {
          push('p', c, i, i + 1);
          i++;
        }
      }
    }
  }
  return toks;
}

/** End of an IPv4, IPv6 or MAC address starting at `i` (i itself when there is none). */
function addressAt(text: string, i: number): number {
  const v4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w.])/.exec(text.slice(i, i + 16));
  if (v4) return i + v4[0].length;
  let j = i;
  while (j < text.length && /[0-9A-Fa-f:]/.test(text[j])) j++;
  if (j < text.length && text[j] === '.' && /\d/.test(text[j + 1] ?? '')) {
    while (j < text.length && /[0-9.]/.test(text[j])) j++; // ::ffff:1.2.3.4
  }
  const run = text.slice(i, j);
  const colons = run.split(':').length - 1;
  if ((run.includes('::') || colons >= 5) && !/[\w-]/.test(text[j] ?? '')) return j;
  return i;
}

function syntaxError(file: string, span: Span, message: string): Finding {
  return { file, span, severity: 'error', code: 'syntax', message };
}

function portError(file: string, span: Span, message: string): Finding {
  return { file, span, severity: 'error', code: 'invalid-port', message };
}

// ---------------------------------------------------------------------------------------------
// Syntax: commands of one file

export type Expr =
  | { k: 'atom'; tok: Tok }
  | { k: 'range'; from: Tok; to: Tok }
  | { k: 'set'; elems: Expr[]; open: Tok }
  | { k: 'list'; items: Expr[] }
  | { k: 'var'; tok: Tok }
  | { k: 'ref'; tok: Tok }
  | { k: 'map'; key: Expr; value: Tok[] }
  | { k: 'other'; toks: Tok[] };

export interface NftRuleSyntax {
  toks: Tok[];
  span: Span;
}

export interface NftSetSyntax {
  name: Tok;
  isMap: boolean;
  typeText: string;
  interval: boolean;
  autoMerge: boolean;
  elements: Expr[];
}

export interface NftChainSyntax {
  name: Tok;
  type?: string;
  hook?: string;
  priority?: number;
  policy?: { action: 'accept' | 'drop'; span: Span } | { variable: Tok };
  /** Rules and the defines between them, in order. */
  items: ChainItem[];
}

type ChainItem = { kind: 'rule'; rule: NftRuleSyntax } | ScopeItem;
type ScopeItem = { kind: 'define'; name: Tok; value: Expr; redefine: boolean } | { kind: 'undefine'; name: Tok } | { kind: 'include'; ref: IncludeRef };
type TableItem = { kind: 'chain'; chain: NftChainSyntax } | { kind: 'set'; set: NftSetSyntax } | ScopeItem;

export type NftCommand =
  | ScopeItem
  | { kind: 'flush-ruleset' }
  | { kind: 'table'; family: string; name: Tok; items: TableItem[]; op: 'add' | 'delete' | 'flush' }
  | { kind: 'chain'; family: string; table: Tok; chain: NftChainSyntax; op: 'add' | 'delete' | 'flush' }
  | { kind: 'rule'; family: string; table: Tok; chain: Tok; rule: NftRuleSyntax; insert: boolean }
  | { kind: 'set'; family: string; table: Tok; set: NftSetSyntax }
  | { kind: 'element'; family: string; table: Tok; set: Tok; elements: Expr[] };

export interface NftSyntax {
  file: string;
  commands: NftCommand[];
  /** The text looks like a complete ruleset (shebang, flush ruleset, nftables.conf) rather than a fragment. */
  looksComplete: boolean;
}

const TOP_COMMANDS = new Set([
  'add',
  'create',
  'insert',
  'replace',
  'delete',
  'destroy',
  'flush',
  'list',
  'reset',
  'rename',
  'describe',
  'monitor',
  'export',
  'import',
  'get',
]);
const OBJECTS = new Set([
  'table',
  'chain',
  'rule',
  'set',
  'map',
  'element',
  'flowtable',
  'counter',
  'quota',
  'ct',
  'limit',
  'secmark',
  'synproxy',
  'ruleset',
  'counters',
  'quotas',
  'tables',
  'chains',
  'sets',
  'maps',
  'flowtables',
  'meters',
  'meter',
  'limits',
  'hooks',
]);
const TABLE_BLOCK_OBJECTS = new Set(['flowtable', 'counter', 'quota', 'ct', 'limit', 'secmark', 'synproxy']);

/** Named chain priorities (nft(8), "PRIORITY") for the ip, ip6 and inet families. */
const PRIORITY_NAMES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100, out: 100 };

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly file: string,
    private readonly findings: Finding[],
    private readonly eofOffset: number,
  ) {}

  private peek(o = 0): Tok | undefined {
    return this.toks[this.i + o];
  }

  private isP(tok: Tok | undefined, p: string): boolean {
    return tok !== undefined && tok.k === 'p' && tok.t === p;
  }

  private isSep(tok: Tok | undefined): boolean {
    return tok !== undefined && (tok.k === 'nl' || (tok.k === 'p' && tok.t === ';'));
  }

  private skipSeps(): void {
    while (this.isSep(this.peek())) this.i++;
  }

  private error(span: Span, message: string): void {
    this.findings.push(syntaxError(this.file, span, message));
  }

  /** Tokens up to the end of the statement (newline or ';' outside braces); stops before an unmatched '}'. */
  private statement(): Tok[] {
    const out: Tok[] = [];
    let depth = 0;
    while (this.i < this.toks.length) {
      const t = this.toks[this.i];
      if (depth === 0 && this.isSep(t)) break;
      if (this.isP(t, '{')) depth++;
      else if (this.isP(t, '}')) {
        if (depth === 0) break;
        depth--;
      }
      out.push(t);
      this.i++;
    }
    return out;
  }

  /** After a block's '}' nft wants a newline or ';' (or, at top level, the end of the file). */
  private expectSeparator(after: Tok, topLevel: boolean): void {
    const next = this.peek();
    if (next === undefined ? topLevel : this.isSep(next)) return;
    const at = next ?? after;
    this.error(
      { start: at.s, end: at.e },
      `nft expects a newline or ';' after the block closed at '}' (syntax error, unexpected ${next ? describeTok(next) : 'end of file'}).`,
    );
  }

  /** Consumes '{', runs `item` until the matching '}', reports a missing '}'. Returns the closing token. */
  private block(open: Tok, item: () => void): Tok | undefined {
    this.i++; // '{'
    for (;;) {
      this.skipSeps();
      const t = this.peek();
      if (t === undefined) {
        this.error({ start: open.s, end: open.e }, "This '{' is never closed (nft: syntax error, unexpected end of file).");
        return undefined;
      }
      if (this.isP(t, '}')) {
        this.i++;
        return t;
      }
      const before = this.i;
      item();
      if (this.i === before) this.i++; // never stall
    }
  }

  /** All tokens as the items of a chain body (an inline `jump { ... }` chain). */
  chainBody(name: Tok): NftChainSyntax {
    const chain: NftChainSyntax = { name, items: [] };
    for (;;) {
      this.skipSeps();
      if (this.i >= this.toks.length) return chain;
      const before = this.i;
      this.chainItem(chain);
      if (this.i === before) this.i++;
    }
  }

  parseFile(): NftCommand[] {
    const commands: NftCommand[] = [];
    while (this.i < this.toks.length) {
      this.skipSeps();
      const t = this.peek();
      if (!t) break;
      const before = this.i;
      if (this.isP(t, '}')) {
        this.error({ start: t.s, end: t.e }, "Unexpected '}': no block is open here (nft: syntax error).");
        this.i++;
        continue;
      }
      const scoped = this.scopeItem();
      if (scoped) commands.push(scoped);
      else if (this.i !== before)
        continue; // a define/include that scopeItem reported and skipped
      else if (t.k === 'word') this.topCommand(commands);
      else {
        this.error({ start: t.s, end: t.e }, `nft does not accept ${describeTok(t)} at the start of a command (syntax error).`);
        while (this.i < this.toks.length && this.toks[this.i].k !== 'nl') this.i++; // resynchronise at the next line
      }
      if (this.i === before) this.i++;
    }
    return commands;
  }

  /** define / redefine / undefine / include, allowed at top level and inside blocks. */
  private scopeItem(): ScopeItem | undefined {
    const t = this.peek();
    if (!t || t.k !== 'word') return undefined;
    if (t.t === 'include') {
      this.i++;
      const arg = this.peek();
      if (!arg || arg.k !== 'str') {
        this.error({ start: t.s, end: arg?.e ?? t.e }, 'include needs a quoted file name (nft: syntax error).');
        this.statement();
        return undefined;
      }
      this.i++;
      return { kind: 'include', ref: includeRef(arg) };
    }
    if (t.t === 'define' || t.t === 'redefine') {
      this.i++;
      const name = this.peek();
      const eq = this.peek(1);
      if (!name || name.k !== 'word' || !this.isP(eq, '=')) {
        this.error({ start: t.s, end: (eq ?? name ?? t).e }, `${t.t} needs NAME = VALUE (nft: syntax error).`);
        this.statement();
        return undefined;
      }
      this.i += 2;
      const valueToks = this.statement();
      if (valueToks.length === 0) {
        this.error({ start: t.s, end: eq!.e }, `define ${name.t} has no value (nft: syntax error).`);
        return undefined;
      }
      return { kind: 'define', name, value: parseExpr(valueToks, 0, valueToks.length).expr, redefine: t.t === 'redefine' };
    }
    if (t.t === 'undefine') {
      this.i++;
      const name = this.peek();
      this.statement();
      return name && name.k === 'word' ? { kind: 'undefine', name } : undefined;
    }
    return undefined;
  }

  private topCommand(commands: NftCommand[]): void {
    const first = this.peek()!;
    let op: 'add' | 'insert' | 'delete' | 'flush' | 'other' = 'add';
    if (TOP_COMMANDS.has(first.t)) {
      op =
        first.t === 'add' || first.t === 'create'
          ? 'add'
          : first.t === 'insert'
            ? 'insert'
            : first.t === 'delete' || first.t === 'destroy'
              ? 'delete'
              : first.t === 'flush'
                ? 'flush'
                : 'other';
      this.i++;
    }
    const obj = this.peek();
    if (!obj || obj.k !== 'word' || !OBJECTS.has(obj.t)) {
      if (first.t === 'flush' && obj?.t === 'ruleset') return;
      const at = obj && TOP_COMMANDS.has(first.t) ? obj : first;
      this.error({ start: at.s, end: at.e }, `nft does not know the command "${at.t}" (syntax error).`);
      this.statement();
      return;
    }
    this.i++;
    if (obj.t === 'ruleset') {
      if (op === 'flush') commands.push({ kind: 'flush-ruleset' });
      this.statement();
      return;
    }
    if (op === 'other') {
      this.skipStatementWithBlocks();
      return;
    }
    const family = this.family(obj.t === 'table');
    if (obj.t === 'table') {
      const name = this.peek();
      if (!name || name.k !== 'word') {
        this.tableNameError(name ?? obj);
        return;
      }
      this.i++;
      const items: TableItem[] = [];
      const open = this.peek();
      if (this.isP(open, '{')) {
        const close = this.block(open!, () => this.tableItem(items));
        if (close) this.expectSeparator(close, true);
      } else if (open && !this.isSep(open)) {
        this.error(
          { start: open.s, end: open.e },
          `nft expects '{' or the end of the line after "table ${name.t}" (syntax error, unexpected ${describeTok(open)}).`,
        );
        this.skipStatementWithBlocks();
      }
      commands.push({ kind: 'table', family, name, items, op: op === 'delete' ? 'delete' : op === 'flush' ? 'flush' : 'add' });
      return;
    }
    const table = this.peek();
    if (!table || table.k !== 'word') {
      this.skipStatementWithBlocks();
      return;
    }
    this.i++;
    if (obj.t === 'chain') {
      const name = this.peek();
      if (!name || name.k !== 'word') {
        this.skipStatementWithBlocks();
        return;
      }
      this.i++;
      const chain: NftChainSyntax = { name, items: [] };
      const open = this.peek();
      if (this.isP(open, '{')) {
        const close = this.block(open!, () => this.chainItem(chain));
        if (close) this.expectSeparator(close, true);
      } else this.statement();
      commands.push({ kind: 'chain', family, table, chain, op: op === 'delete' ? 'delete' : op === 'flush' ? 'flush' : 'add' });
      return;
    }
    if (obj.t === 'rule') {
      const chain = this.peek();
      if (!chain || chain.k !== 'word' || op === 'delete') {
        this.statement();
        return;
      }
      this.i++;
      // `add rule ... position N` / `index N` / `handle N` place the rule; we keep file order.
      while (this.peek()?.k === 'word' && ['position', 'index', 'handle'].includes(this.peek()!.t) && this.peek(1)?.k === 'num') this.i += 2;
      const toks = this.statement();
      if (toks.length > 0) commands.push({ kind: 'rule', family, table, chain, rule: ruleOf(toks), insert: op === 'insert' });
      return;
    }
    if (obj.t === 'set' || obj.t === 'map') {
      const name = this.peek();
      if (!name || name.k !== 'word' || op !== 'add') {
        this.skipStatementWithBlocks();
        return;
      }
      this.i++;
      const set = this.setBody(name, obj.t === 'map');
      if (set) commands.push({ kind: 'set', family, table, set });
      return;
    }
    if (obj.t === 'element') {
      const name = this.peek();
      const toks = this.statement();
      if (!name || name.k !== 'word' || op !== 'add') return;
      const open = toks.findIndex((t) => this.isP(t, '{'));
      if (open >= 0) {
        const parsed = parseExpr(toks, open, toks.length);
        if (parsed.expr.k === 'set') commands.push({ kind: 'element', family, table, set: name, elements: parsed.expr.elems });
      }
      return;
    }
    this.skipStatementWithBlocks();
  }

  private tableNameError(at: Tok): void {
    this.error({ start: at.s, end: at.e }, 'table needs a name (nft: syntax error).');
    this.skipStatementWithBlocks();
  }

  /** An optional address family; `table foo bar` with an unknown family is an error. */
  private family(isTable: boolean): string {
    const a = this.peek();
    const b = this.peek(1);
    if (a?.k === 'word' && FAMILIES.has(a.t) && b?.k === 'word') {
      this.i++;
      return a.t;
    }
    if (
      isTable &&
      a?.k === 'word' &&
      b?.k === 'word' &&
      (this.isP(this.peek(2), '{') || this.isSep(this.peek(2)) || this.peek(2) === undefined) &&
      !FAMILIES.has(a.t)
    ) {
      // `table FAMILY NAME {`: a second word before the block must be a family.
      this.error({ start: a.s, end: a.e }, `"${a.t}" is not an nftables family: use ip, ip6, inet, arp, bridge or netdev (nft: syntax error).`);
      this.i++;
    }
    return 'ip';
  }

  private skipStatementWithBlocks(): void {
    this.statement();
  }

  private tableItem(items: TableItem[]): void {
    const before = this.i;
    const scoped = this.scopeItem();
    if (scoped) {
      items.push(scoped);
      return;
    }
    // A define/include that scopeItem reported and skipped may have used up the tokens.
    if (this.i !== before) return;
    const t = this.peek();
    if (!t) return;
    if (t.k === 'word' && t.t === 'chain') {
      this.i++;
      const name = this.peek();
      if (!name || (name.k !== 'word' && name.k !== 'str')) {
        this.error({ start: t.s, end: t.e }, 'chain needs a name (nft: syntax error).');
        this.statement();
        return;
      }
      this.i++;
      const open = this.peek();
      if (!this.isP(open, '{')) {
        this.error({ start: (open ?? name).s, end: (open ?? name).e }, `nft expects '{' after "chain ${name.t}" inside a table (syntax error).`);
        this.statement();
        return;
      }
      const chain: NftChainSyntax = { name, items: [] };
      const close = this.block(open!, () => this.chainItem(chain));
      if (close) this.expectSeparator(close, false);
      items.push({ kind: 'chain', chain });
      return;
    }
    if (t.k === 'word' && (t.t === 'set' || t.t === 'map')) {
      this.i++;
      const name = this.peek();
      if (!name || (name.k !== 'word' && name.k !== 'str')) {
        this.statement();
        return;
      }
      this.i++;
      const set = this.setBody(name, t.t === 'map');
      if (set) items.push({ kind: 'set', set });
      return;
    }
    if (t.k === 'word' && (t.t === 'flags' || t.t === 'comment')) {
      this.statement();
      return;
    }
    if (t.k === 'word' && TABLE_BLOCK_OBJECTS.has(t.t)) {
      this.statement(); // `counter NAME { ... }`: the braces are consumed with the statement
      const close = this.toks[this.i - 1];
      if (close && this.isP(close, '}')) this.expectSeparator(close, false);
      return;
    }
    this.error(
      { start: t.s, end: t.e },
      `nft does not accept ${describeTok(t)} in a table body: expected chain, set, map, flowtable, counter, quota, ct, limit, flags, comment, define or include (syntax error).`,
    );
    this.statement();
  }

  private chainItem(chain: NftChainSyntax): void {
    const before = this.i;
    const scoped = this.scopeItem();
    if (scoped) {
      chain.items.push(scoped);
      return;
    }
    // A define/include that scopeItem reported and skipped may have used up the tokens.
    if (this.i !== before) return;
    const t = this.peek();
    if (!t) return;
    if (t.k === 'word' && t.t === 'type' && this.peek(1)?.k === 'word' && this.peek(2)?.t === 'hook') {
      const toks = this.statement();
      this.requireSeparator(toks);
      chain.type = toks[1].t;
      const hookAt = toks.findIndex((x) => x.k === 'word' && x.t === 'hook');
      chain.hook = toks[hookAt + 1]?.t;
      const prioAt = toks.findIndex((x) => x.k === 'word' && x.t === 'priority');
      if (prioAt >= 0) chain.priority = priorityValue(toks.slice(prioAt + 1));
      return;
    }
    if (t.k === 'word' && t.t === 'policy') {
      const toks = this.statement();
      this.requireSeparator(toks);
      const v = toks[1];
      if (v && v.k === 'word' && (v.t === 'accept' || v.t === 'drop') && toks.length === 2) chain.policy = { action: v.t, span: { start: v.s, end: v.e } };
      else if (v && v.k === 'var' && toks.length === 2) chain.policy = { variable: v };
      else {
        const at = v ?? t;
        this.error({ start: at.s, end: at.e }, `A chain policy is accept or drop (nft: syntax error, unexpected ${v ? describeTok(v) : 'end of statement'}).`);
      }
      return;
    }
    if (t.k === 'word' && (t.t === 'comment' || t.t === 'flags' || t.t === 'devices')) {
      this.requireSeparator(this.statement());
      return;
    }
    const toks = this.statement();
    if (toks.length === 0) return;
    this.requireSeparator(toks);
    chain.items.push({ kind: 'rule', rule: ruleOf(toks) });
  }

  /** A statement inside a chain or set ends with a newline or ';' before the block's '}'. */
  private requireSeparator(toks: Tok[]): void {
    const next = this.peek();
    if (toks.length > 0 && this.isP(next, '}')) {
      this.error(
        { start: next!.s, end: next!.e },
        "nft wants a newline or ';' before this '}' (syntax error, unexpected '}', expecting newline or semicolon).",
      );
    }
  }

  private setBody(name: Tok, isMap: boolean): NftSetSyntax | undefined {
    const set: NftSetSyntax = { name, isMap, typeText: '', interval: false, autoMerge: false, elements: [] };
    const open = this.peek();
    if (!this.isP(open, '{')) {
      this.statement();
      return set;
    }
    const close = this.block(open!, () => {
      const t = this.peek()!;
      const toks = this.statement();
      this.requireSeparator(toks);
      if (t.k !== 'word') return;
      if (t.t === 'type' || t.t === 'typeof')
        set.typeText = toks
          .slice(1)
          .map((x) => x.t)
          .join(' ');
      else if (t.t === 'flags') set.interval = toks.some((x) => x.t === 'interval');
      else if (t.t === 'auto-merge') set.autoMerge = true;
      else if (t.t === 'elements') {
        const eq = toks.findIndex((x) => x.k === 'p' && x.t === '{');
        if (eq >= 0) {
          const parsed = parseExpr(toks, eq, toks.length);
          if (parsed.expr.k === 'set') set.elements = parsed.expr.elems;
        }
      }
    });
    if (close) this.expectSeparator(close, false);
    return set;
  }
}

function describeTok(t: Tok): string {
  if (t.k === 'nl') return 'newline';
  if (t.k === 'str') return 'quoted string';
  if (t.k === 'p') return `'${t.t}'`;
  return `"${t.t}"`;
}

function ruleOf(toks: Tok[]): NftRuleSyntax {
  return { toks, span: { start: toks[0].s, end: toks[toks.length - 1].e } };
}

function priorityValue(toks: Tok[]): number | undefined {
  let i = 0;
  let sign = 1;
  if (toks[i]?.t === '-') {
    sign = -1;
    i++;
  }
  const first = toks[i];
  if (!first) return undefined;
  let base = first.k === 'num' ? sign * parseNumber(first.t)! : PRIORITY_NAMES[first.t];
  if (base === undefined) return undefined;
  const op = toks[i + 1];
  const off = toks[i + 2];
  if (op && off?.k === 'num' && (op.t === '+' || op.t === '-')) base += (op.t === '+' ? 1 : -1) * parseNumber(off.t)!;
  return base;
}

/** nft reads numbers with strtoull(base 0): 0x1f is hex, 010 octal; 080 is not a number but a service "080". */
export function parseNumber(text: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return parseInt(text.slice(2), 16);
  if (/^0[0-7]+$/.test(text)) return parseInt(text, 8);
  if (/^\d+$/.test(text)) return Number(text);
  return undefined;
}

function includeRef(arg: Tok): IncludeRef {
  const pattern = arg.t.endsWith('/') ? `${arg.t}*` : arg.t;
  // nft searches plain relative names in its include path (/etc by default); "./x" is relative to
  // nft's working directory, which we take to be the including file's directory.
  const relativeTo = pattern.startsWith('./') || pattern.startsWith('../') ? 'including-file-dir' : '/etc';
  return { span: { start: arg.s, end: arg.e }, pattern, relativeTo };
}

/** Parses one value expression from toks[i..end): a set, a variable, @set, a value, a range, a list. */
export function parseExpr(toks: Tok[], i: number, end: number): { expr: Expr; next: number } {
  const first = parsePrimary(toks, i, end);
  let next = first.next;
  if (toks[next]?.k === 'p' && toks[next].t === ',' && next < end && first.expr.k !== 'set') {
    const items: Expr[] = [first.expr];
    while (next < end && toks[next]?.k === 'p' && toks[next].t === ',') {
      const item = parsePrimary(toks, next + 1, end);
      if (item.next === next + 1) break;
      items.push(item.expr);
      next = item.next;
    }
    return { expr: { k: 'list', items }, next };
  }
  return { expr: first.expr, next };
}

function parsePrimary(toks: Tok[], i: number, end: number): { expr: Expr; next: number } {
  const t = toks[i];
  if (!t || i >= end) return { expr: { k: 'other', toks: [] }, next: i };
  if (t.k === 'p' && t.t === '{') {
    const elems: Expr[] = [];
    let j = i + 1;
    for (;;) {
      while (j < end && (toks[j].k === 'nl' || (toks[j].k === 'p' && toks[j].t === ','))) j++;
      if (j >= end) break;
      if (toks[j].k === 'p' && toks[j].t === '}') {
        j++;
        break;
      }
      const before = j;
      const el = parseElement(toks, j, end);
      elems.push(el.expr);
      j = Math.max(el.next, before + 1);
    }
    return { expr: { k: 'set', elems, open: t }, next: j };
  }
  if (t.k === 'var') return { expr: { k: 'var', tok: t }, next: i + 1 };
  if (t.k === 'ref') return { expr: { k: 'ref', tok: t }, next: i + 1 };
  if (t.k === 'num' || t.k === 'word' || t.k === 'str') {
    const dash = toks[i + 1];
    const to = toks[i + 2];
    if (dash?.k === 'p' && dash.t === '-' && i + 2 < end && to && (to.k === 'num' || to.k === 'word' || to.k === 'str') && dash.s === t.e && to.s === dash.e) {
      return { expr: { k: 'range', from: t, to }, next: i + 3 };
    }
    if (dash?.k === 'p' && dash.t === '-' && i + 2 < end && to && (to.k === 'num' || to.k === 'word')) {
      return { expr: { k: 'range', from: t, to }, next: i + 3 };
    }
    if (dash?.k === 'p' && dash.t === '/' && i + 2 < end && to?.k === 'num') {
      return { expr: { k: 'other', toks: [t, dash, to] }, next: i + 3 }; // an address prefix: 10.0.0.0/8
    }
    return { expr: { k: 'atom', tok: t }, next: i + 1 };
  }
  return { expr: { k: 'other', toks: [t] }, next: i + 1 };
}

/** A set element: a value, then maybe `: value` (maps), `. value` (concatenations) or element options. */
function parseElement(toks: Tok[], i: number, end: number): { expr: Expr; next: number } {
  const first = parsePrimary(toks, i, end);
  let j = first.next;
  let expr = first.expr;
  const stop = (t: Tok | undefined) => !t || (t.k === 'p' && (t.t === ',' || t.t === '}'));
  const rest: Tok[] = [];
  let depth = 0;
  while (j < end && (depth > 0 || !stop(toks[j]))) {
    if (toks[j].k === 'p' && toks[j].t === '{') depth++;
    if (toks[j].k === 'p' && toks[j].t === '}') depth--;
    rest.push(toks[j]);
    j++;
  }
  if (rest.length > 0) {
    if (rest[0].k === 'p' && rest[0].t === ':') expr = { k: 'map', key: expr, value: rest.slice(1).filter((t) => t.k !== 'nl') };
    else if (rest[0].k === 'p' && rest[0].t === '.') expr = { k: 'other', toks: [...exprToks(expr), ...rest] };
    // Element options (timeout, expires, comment, counter) leave the value as it is.
  }
  return { expr, next: j };
}

function exprToks(e: Expr): Tok[] {
  switch (e.k) {
    case 'atom':
    case 'var':
    case 'ref':
      return [e.tok];
    case 'range':
      return [e.from, e.to];
    case 'set':
      return [e.open, ...e.elems.flatMap(exprToks)];
    case 'list':
      return e.items.flatMap(exprToks);
    case 'map':
      return [...exprToks(e.key), ...e.value];
    case 'other':
      return e.toks;
  }
}

export function parseNftSyntax(text: string, file: string): { syntax: NftSyntax; findings: Finding[] } {
  const findings: Finding[] = [];
  const toks = tokenize(text, file, findings);
  const commands = new Parser(toks, file, findings, text.length).parseFile();
  const looksComplete = /(^|\/)nftables\.conf$/.test(file) || /^#!.*\bnft\b/.test(text) || commands.some((c) => c.kind === 'flush-ruleset');
  return { syntax: { file, commands, looksComplete }, findings };
}

// ---------------------------------------------------------------------------------------------
// Evaluation: the ruleset the commands build, and what reaches the input hook

type L4 = Protocol | 'dccp' | 'udplite';
const L4_NAMES: Record<string, L4> = {
  tcp: 'tcp',
  udp: 'udp',
  sctp: 'sctp',
  dccp: 'dccp',
  udplite: 'udplite',
  '6': 'tcp',
  '17': 'udp',
  '132': 'sctp',
  '33': 'dccp',
  '136': 'udplite',
};
const ALL_L4: L4[] = ['tcp', 'udp', 'sctp', 'dccp', 'udplite'];
/** Headers of protocols that are not TCP/UDP/SCTP/DCCP/UDP-Lite: a rule matching one never matches a port. */
const OTHER_L4_HEADERS = new Set(['icmp', 'icmpv6', 'igmp', 'ah', 'esp', 'comp', 'gre']);
/**
 * Selectors whose matches Portolan reads but does not evaluate (the ones it evaluates — ports,
 * addresses, interfaces, l4proto, nfproto, ct state — are read before these).
 */
const MATCH_SELECTORS = new Set([
  'ip',
  'ip6',
  'tcp',
  'udp',
  'sctp',
  'dccp',
  'udplite',
  'th',
  'meta',
  'ct',
  'fib',
  'socket',
  'rt',
  'osf',
  'ipsec',
  'ether',
  'vlan',
  'arp',
  'exthdr',
  'frag',
  'hbh',
  'mh',
  'dst',
  'srh',
  'tcpopt',
  'mark',
  'pkttype',
  'numgen',
  'jhash',
  'symhash',
  'skuid',
  'skgid',
  'cgroup',
]);

interface Binding {
  value: Expr;
}

class Scope {
  private readonly vars = new Map<string, Binding>();
  constructor(readonly parent?: Scope) {}
  lookup(name: string): Binding | undefined {
    return this.vars.get(name) ?? this.parent?.lookup(name);
  }
  define(name: string, value: Expr): void {
    this.vars.set(name, { value });
  }
  undefine(name: string): void {
    this.vars.delete(name);
  }
}

interface EvalRule {
  rule: NftRuleSyntax;
  /** Variables the rule uses, bound when the rule was read (nft expands them while parsing). */
  vars: Map<Tok, Expr | undefined>;
}

interface EvalChain {
  key: string;
  family: string;
  table: string;
  name: string;
  file: string;
  nameSpan: Span;
  type?: string;
  hook?: string;
  priority: number;
  policy?: { action: 'accept' | 'drop'; span: Span; file: string };
  rules: EvalRule[];
}

interface EvalSet {
  family: string;
  table: string;
  syntax: NftSetSyntax;
  elements: { expr: Expr; vars: Map<Tok, Expr | undefined> }[];
}

/** One base chain on the input hook and the rules a packet meets in it (jumps expanded). */
export interface NftInputChain {
  family: string;
  table: string;
  chain: string;
  priority: number;
  policy: 'accept' | 'drop';
  policySpan?: Span;
  policyFile?: string;
  rules: FirewallRule[];
}

export interface NftEvaluation {
  facts: PortFact[];
  findings: Finding[];
  inputChains: NftInputChain[];
  forwards: FirewallForward[];
  firewall: FirewallFacts;
}

interface PortMention {
  /** Effective ranges this mention stands for. */
  ranges: PortRange[];
  span: Span;
  file: string;
  /** The value as written, for details ("other than 22"). */
  negated: boolean;
}

interface PortMatch {
  mentions: PortMention[];
  /** Effective destination ranges of the whole match (after negation/comparison). */
  ranges: PortRange[];
  unresolved: boolean;
}

interface Verdict {
  kind: 'accept' | 'drop' | 'reject' | 'return' | 'jump' | 'goto' | 'queue' | 'continue';
  target?: string;
  /** An inline chain: `jump { ... }`. */
  chain?: EvalChain;
  /** `jump NAME` as written (named targets outside verdict maps). */
  span?: Span;
  file?: string;
}

interface RuleMeaning {
  protos?: Set<L4>;
  dport?: PortMatch;
  sport?: PortMatch;
  iface?: string;
  source?: string;
  destination?: string;
  /** false: `ct state` admits no new connection. */
  matchesNew?: boolean;
  family?: IpFamily;
  notes: string[];
  /** Conditions read but not evaluated (FirewallRule.unmodelled). */
  unmodelled: string[];
  verdict?: Verdict;
  log: boolean;
  limit: boolean;
  vmap?: { key: 'dport' | 'other'; keyLabel: string; protos?: Set<L4>; entries: { key: Expr; verdict?: Verdict; valueToks: Tok[] }[] };
  nat?: { kind: 'dnat' | 'redirect'; address?: string; port?: PortMention };
}

const OPS: Record<string, string> = {
  '==': '==',
  eq: '==',
  '!=': '!=',
  ne: '!=',
  '<': '<',
  lt: '<',
  '>': '>',
  gt: '>',
  '<=': '<=',
  le: '<=',
  '>=': '>=',
  ge: '>=',
};
/** Tokens after a selector that make it part of a larger expression instead of a match. */
const EXPRESSION_OPERATORS = new Set(['mod', 'and', 'or', 'xor', 'map', '.', '&', '|', '^', '<<', '>>', 'set']);
const VERDICTS = new Set(['accept', 'drop', 'reject', 'return', 'jump', 'goto', 'queue', 'continue']);
/**
 * What a ruleset lets in: the files are read as nft reads them (RulesetLoader), the rules' meanings
 * read once each (RuleInterpreter), the input hook's base chains walked through their jumps
 * (InputChainWalker), and every port mention described as a fact (describeRules).
 */
export function evaluateNftables(
  files: NftSyntax[],
  edges: Map<IncludeRef, NftSyntax[]>,
  serviceToPort: ServiceLookup,
  opts: { reportUnknownVariables: boolean },
): NftEvaluation {
  const loader = new RulesetLoader(edges);
  if (files[0]) loader.runFile(files[0], new Scope());
  const ev = new RulesetEvaluation(loader.chains, loader.sets, serviceToPort);
  ev.checkNamedSets();
  const baseChains = [...ev.chains.values()].filter((c) => c.hook).sort((a, b) => a.priority - b.priority);
  const reach = reachFromBaseChains(ev, baseChains);
  reportJumpLoops(
    baseChains,
    (r, c) => ev.meaningOf(r, c),
    (from, name) => ev.chainIn(from, name),
    (f) => ev.report(f),
  );
  const walker = new InputChainWalker(ev);
  const inputChains: NftInputChain[] = [];
  for (const base of baseChains) {
    if (base.hook !== 'input' || !['ip', 'ip6', 'inet'].includes(base.family) || (base.type && base.type !== 'filter')) continue;
    inputChains.push({
      family: base.family,
      table: base.table,
      chain: base.name,
      priority: base.priority,
      policy: base.policy?.action ?? 'accept',
      policySpan: base.policy?.span,
      policyFile: base.policy?.file ?? base.file,
      rules: walker.walkBase(base),
    });
  }
  const forwards = describeRules(ev, reach);
  const firewall = firewallOf(inputChains, forwards);
  if (opts.reportUnknownVariables) for (const f of loader.unknownVars) ev.report(f);
  return { facts: ev.facts, findings: ev.findings, inputChains, forwards, firewall };
}

/**
 * The ruleset as nft builds it from the files' commands, in order: chains and sets by
 * "family table name", defines in nested scopes (file, table, chain), includes read where they stand.
 */
class RulesetLoader {
  readonly chains = new Map<string, EvalChain>();
  readonly sets = new Map<string, EvalSet>();
  /** $variables nothing defines; reported only for a complete ruleset (a fragment's defines may come from elsewhere). */
  readonly unknownVars: Finding[] = [];
  /** Files being read now: an include that leads back is not read again. */
  private readonly visiting = new Set<string>();

  constructor(private readonly edges: Map<IncludeRef, NftSyntax[]>) {}

  runFile(f: NftSyntax, scope: Scope): void {
    if (this.visiting.has(f.file)) return;
    this.visiting.add(f.file);
    for (const cmd of f.commands) (COMMAND_LOADERS[cmd.kind] as CommandLoader<NftCommand['kind']>)(this, cmd, f.file, scope);
    this.visiting.delete(f.file);
  }

  /** The variables of a rule's tokens, bound as they are now (nft expands them while parsing). */
  bindVars(toks: Tok[], scope: Scope): Map<Tok, Expr | undefined> {
    const vars = new Map<Tok, Expr | undefined>();
    for (const t of toks) {
      if (t.k !== 'var') continue;
      const b = scope.lookup(t.t);
      vars.set(t, b ? b.value : undefined);
      if (!b)
        this.unknownVars.push(
          syntaxError(t.file, { start: t.s, end: t.e }, `Unknown variable $${t.t}: nft stops with "unknown identifier '${t.t}'" (define it before this line).`),
        );
    }
    return vars;
  }

  /** Define values are expanded when read: replace their $vars by what they are bound to now. */
  private expandDefine(e: Expr, scope: Scope): Expr {
    switch (e.k) {
      case 'var': {
        const b = scope.lookup(e.tok.t);
        if (!b)
          this.unknownVars.push(
            syntaxError(e.tok.file, { start: e.tok.s, end: e.tok.e }, `Unknown variable $${e.tok.t}: nft stops with "unknown identifier '${e.tok.t}'".`),
          );
        return b ? b.value : e;
      }
      case 'set':
        return { ...e, elems: e.elems.map((x) => this.expandDefine(x, scope)) };
      case 'list':
        return { ...e, items: e.items.map((x) => this.expandDefine(x, scope)) };
      default:
        return e;
    }
  }

  chainFor(family: string, table: string, name: Tok, file: string): EvalChain {
    const key = `${family} ${table} ${name.t}`;
    let c = this.chains.get(key);
    if (!c) this.chains.set(key, (c = { key, family, table, name: name.t, file, nameSpan: { start: name.s, end: name.e }, priority: 0, rules: [] }));
    return c;
  }

  applyChain(family: string, table: string, syn: NftChainSyntax, file: string, scope: Scope): void {
    const c = this.chainFor(family, table, syn.name, file);
    if (syn.hook) {
      c.type = syn.type;
      c.hook = syn.hook;
      c.priority = syn.priority ?? 0;
      c.file = file;
      c.nameSpan = { start: syn.name.s, end: syn.name.e };
    }
    if (syn.policy) {
      if ('action' in syn.policy) c.policy = { ...syn.policy, file };
      else {
        const v = scope.lookup(syn.policy.variable.t)?.value;
        if (v?.k === 'atom' && (v.tok.t === 'accept' || v.tok.t === 'drop'))
          c.policy = { action: v.tok.t, span: { start: syn.policy.variable.s, end: syn.policy.variable.e }, file };
      }
    }
    const inner = new Scope(scope);
    for (const item of syn.items) {
      if (item.kind === 'rule') c.rules.push({ rule: item.rule, vars: this.bindVars(item.rule.toks, inner) });
      else this.applyScopeItem(item, inner);
    }
  }

  applySet(family: string, table: string, syntax: NftSetSyntax, scope: Scope): void {
    const key = `${family} ${table} ${syntax.name.t}`;
    const known = this.sets.get(key);
    const entry = known ?? { family, table, syntax, elements: [] };
    if (!known) this.sets.set(key, entry);
    for (const el of syntax.elements) entry.elements.push({ expr: el, vars: this.bindVars(exprToks(el), scope) });
  }

  applyScopeItem(item: ScopeItem, scope: Scope): void {
    if (item.kind === 'define') scope.define(item.name.t, this.expandDefine(item.value, scope));
    else if (item.kind === 'undefine') scope.undefine(item.name.t);
    else for (const target of this.edges.get(item.ref) ?? []) this.runFile(target, scope);
  }
}

type CommandLoader<K extends NftCommand['kind']> = (loader: RulesetLoader, cmd: Extract<NftCommand, { kind: K }>, file: string, scope: Scope) => void;

/** What each top-level command does to the ruleset being loaded. */
const COMMAND_LOADERS: { [K in NftCommand['kind']]: CommandLoader<K> } = {
  define: (loader, cmd, _file, scope) => loader.applyScopeItem(cmd, scope),
  undefine: (loader, cmd, _file, scope) => loader.applyScopeItem(cmd, scope),
  include: (loader, cmd, _file, scope) => loader.applyScopeItem(cmd, scope),
  'flush-ruleset': (loader) => {
    loader.chains.clear();
    loader.sets.clear();
  },
  table: (loader, cmd, file, scope) => {
    const prefix = `${cmd.family} ${cmd.name.t} `;
    if (cmd.op !== 'add') {
      // `delete table` / `flush table`: every chain and set of that table goes or is emptied.
      for (const [k, c] of loader.chains) {
        if (!k.startsWith(prefix)) continue;
        if (cmd.op === 'delete') loader.chains.delete(k);
        else c.rules = [];
      }
      for (const [k, s] of loader.sets) {
        if (!k.startsWith(prefix)) continue;
        if (cmd.op === 'delete') loader.sets.delete(k);
        else s.elements = [];
      }
      return;
    }
    const tableScope = new Scope(scope);
    for (const item of cmd.items) {
      if (item.kind === 'chain') loader.applyChain(cmd.family, cmd.name.t, item.chain, file, tableScope);
      else if (item.kind === 'set') loader.applySet(cmd.family, cmd.name.t, item.set, tableScope);
      else loader.applyScopeItem(item, tableScope);
    }
  },
  chain: (loader, cmd, file, scope) => {
    const key = `${cmd.family} ${cmd.table.t} ${cmd.chain.name.t}`;
    if (cmd.op === 'delete') loader.chains.delete(key);
    else if (cmd.op === 'flush') {
      const c = loader.chains.get(key);
      if (c) c.rules = [];
    } else loader.applyChain(cmd.family, cmd.table.t, cmd.chain, file, scope);
  },
  rule: (loader, cmd, file, scope) => {
    const c = loader.chainFor(cmd.family, cmd.table.t, cmd.chain, file);
    const r = { rule: cmd.rule, vars: loader.bindVars(cmd.rule.toks, scope) };
    if (cmd.insert) c.rules.unshift(r);
    else c.rules.push(r);
  },
  set: (loader, cmd, _file, scope) => loader.applySet(cmd.family, cmd.table.t, cmd.set, scope),
  element: (loader, cmd, _file, scope) => {
    const s = loader.sets.get(`${cmd.family} ${cmd.table.t} ${cmd.set.t}`);
    if (s) for (const el of cmd.elements) s.elements.push({ expr: el, vars: loader.bindVars(exprToks(el), scope) });
  },
};

/**
 * The loaded ruleset under evaluation: its chains and sets, the findings and facts found so far
 * (each reported once, however many walks meet it) and each rule's meaning (read once).
 */
class RulesetEvaluation {
  readonly findings: Finding[] = [];
  readonly facts: PortFact[] = [];
  private readonly factKeys = new Set<string>();
  private readonly reported = new Set<string>();
  private readonly meanings = new Map<EvalRule, RuleMeaning>();

  constructor(
    readonly chains: Map<string, EvalChain>,
    readonly sets: Map<string, EvalSet>,
    private readonly serviceToPort: ServiceLookup,
  ) {}

  addFact(f: PortFact): void {
    const key = `${f.file}|${f.span.start}|${f.span.end}|${f.protocol}|${f.port}|${f.portEnd}|${f.role}|${f.detail}`;
    if (this.factKeys.has(key)) return;
    this.factKeys.add(key);
    this.facts.push(f);
  }

  report(f: Finding): void {
    const key = `${f.file}|${f.span.start}|${f.message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.findings.push(f);
  }

  chainIn(from: EvalChain, name: string): EvalChain | undefined {
    return this.chains.get(`${from.family} ${from.table} ${name}`);
  }

  meaningOf(r: EvalRule, c: EvalChain): RuleMeaning {
    let m = this.meanings.get(r);
    if (!m) this.meanings.set(r, (m = new RuleInterpreter(this, r, c).read()));
    return m;
  }

  /** One port value (number or service name) as nft's inet_service type reads it. */
  portValue(tok: Tok): number | undefined {
    const n = tok.k === 'num' ? parseNumber(tok.t) : /^\d+$/.test(tok.t) ? Number(tok.t) : undefined;
    if (n !== undefined) {
      if (n > MAX_PORT) {
        this.report(portError(tok.file, { start: tok.s, end: tok.e }, `Port ${tok.t} is out of range 0-65535 (nft: Service out of range).`));
        return undefined;
      }
      return n;
    }
    if (tok.k === 'word' || tok.k === 'str') {
      const p = /^[A-Za-z][A-Za-z0-9_.+-]*$/.test(tok.t) ? this.serviceToPort(tok.t) : undefined;
      if (p !== undefined) return p;
      const span = { start: tok.s, end: tok.e };
      const message = `"${tok.t}" is not a port number or a known service name (nft: Could not resolve service).`;
      this.report(
        looksLikeServiceName(tok.t)
          ? unknownService(tok.file, span, tok.t, message, {
              messageId: UNKNOWN_SERVICE_MESSAGES.portName,
              program: 'nft',
              known: this.serviceToPort.known?.(),
              rewritable: tok.k === 'word',
            })
          : portError(tok.file, span, message),
      );
    }
    return undefined;
  }

  /** The port ranges an expression stands for; mentions carry the span where each value is written. */
  portsOf(e: Expr, vars: Map<Tok, Expr | undefined>, out: PortMatch, depth: number, setTable?: { family: string; table: string }): void {
    if (depth > 16) return;
    switch (e.k) {
      case 'atom': {
        const p = this.portValue(e.tok);
        if (p === undefined) out.unresolved = true;
        else out.mentions.push({ ranges: [{ from: p, to: p }], span: { start: e.tok.s, end: e.tok.e }, file: e.tok.file, negated: false });
        break;
      }
      case 'range': {
        const a = this.portValue(e.from);
        const b = this.portValue(e.to);
        if (a === undefined || b === undefined) out.unresolved = true;
        else if (a > b) {
          const span = { start: e.from.s, end: e.to.e };
          const written = `${e.from.t}-${e.to.t}`;
          const swap = e.from.k !== 'str' && e.to.k !== 'str' ? swapRangeFix(e.from.file, span, written, '-') : undefined;
          this.report(withSwap(portError(e.from.file, span, `Range ${written} is reversed (nft: Range has zero or negative size).`), swap));
          out.unresolved = true;
        } else out.mentions.push({ ranges: [{ from: a, to: b }], span: { start: e.from.s, end: e.to.e }, file: e.from.file, negated: false });
        break;
      }
      case 'set':
        for (const el of e.elems) this.portsOf(el.k === 'map' ? el.key : el, vars, out, depth + 1, setTable);
        break;
      case 'list':
        this.report(
          portError(
            fileOfExpr(e),
            spanOfExpr(e),
            'nft does not take a comma list of ports without braces: write { 22, 80 } (nft: Basetype of type internet network service is not bitmask).',
          ),
        );
        out.unresolved = true;
        break;
      case 'var': {
        const bound = vars.get(e.tok);
        if (bound) this.portsOf(bound, vars, out, depth + 1, setTable);
        else out.unresolved = true;
        break;
      }
      case 'ref': {
        const s = setTable && this.sets.get(`${setTable.family} ${setTable.table} ${e.tok.t}`);
        if (!s || !isServiceSet(s.syntax)) {
          out.unresolved = true;
          break;
        }
        for (const el of s.elements) this.portsOf(el.expr.k === 'map' ? el.expr.key : el.expr, el.vars, out, depth + 1, setTable);
        break;
      }
      case 'map':
        this.portsOf(e.key, vars, out, depth + 1, setTable);
        break;
      case 'other':
        out.unresolved = true;
        break;
    }
  }

  /** The merged port ranges a vmap key or set element stands for. */
  portMatchOfKey(key: Expr, vars: Map<Tok, Expr | undefined>, c: EvalChain): PortMatch {
    const pm: PortMatch = { mentions: [], ranges: [], unresolved: false };
    this.portsOf(key, vars, pm, 0, c);
    pm.ranges = mergeRanges(pm.mentions.flatMap((x) => x.ranges));
    return pm;
  }

  /** Named sets of ports are checked where they are declared, used or not (nft does). */
  checkNamedSets(): void {
    for (const s of this.sets.values()) {
      if (!isServiceSet(s.syntax)) continue;
      const seen: { range: PortRange; span: Span; file: string }[] = [];
      for (const el of s.elements) {
        const m: PortMatch = { mentions: [], ranges: [], unresolved: false };
        this.portsOf(el.expr.k === 'map' ? el.expr.key : el.expr, el.vars, m, 0, s);
        for (const mention of m.mentions) {
          const r = mention.ranges[0];
          if (s.syntax.interval && !s.syntax.autoMerge) {
            const clash = seen.find((x) => x.range.from <= r.to && r.from <= x.range.to && !(x.range.from === r.from && x.range.to === r.to));
            if (clash)
              this.report(
                portError(
                  mention.file,
                  mention.span,
                  `Overlaps ${clash.range.from}-${clash.range.to} in interval set ${s.syntax.name.t} (nft: conflicting intervals specified; add auto-merge or fix the range).`,
                ),
              );
          }
          seen.push({ range: r, span: mention.span, file: mention.file });
        }
      }
    }
  }
}

/**
 * One rule's words read into what it means (RuleMeaning): at each position the first handler of
 * MATCH_READERS whose test holds reads its match and moves `i` past it; words no handler takes are skipped.
 */
class RuleInterpreter {
  readonly toks: Tok[];
  readonly m: RuleMeaning = { notes: [], unmodelled: [], log: false, limit: false };
  /** The table whose named sets the rule's @refs name. */
  readonly table: { family: string; table: string };
  /** The position of the next word to read. */
  i = 0;

  constructor(
    readonly ev: RulesetEvaluation,
    readonly r: EvalRule,
    readonly chain: EvalChain,
  ) {
    this.toks = r.rule.toks;
    this.table = { family: chain.family, table: chain.table };
  }

  read(): RuleMeaning {
    while (this.i < this.toks.length) {
      const w = this.word();
      const next = this.word(1);
      const reader = MATCH_READERS.find((x) => x.test(this, w, next));
      if (reader) reader.read(this, w!, next);
      else this.i++;
    }
    return this.m;
  }

  /** A condition we keep for the hover and tell consumers we do not evaluate. */
  unmodelled(text: string): void {
    this.m.notes.push(text);
    this.m.unmodelled.push(text);
  }

  word(o = 0): string | undefined {
    return this.toks[this.i + o]?.k === 'word' ? this.toks[this.i + o].t : undefined;
  }

  isPunct(p: string, o = 0): boolean {
    const t = this.toks[this.i + o];
    return t?.k === 'p' && t.t === p;
  }

  /** A relational operator at i (taken), '==' when none is written. */
  op(): string {
    const t = this.toks[this.i];
    const o = t && (t.k === 'p' || t.k === 'word') ? OPS[t.t] : undefined;
    if (o) {
      this.i++;
      return o;
    }
    return '==';
  }

  /** The value expression at i (taken). */
  value(): Expr {
    const parsed = parseExpr(this.toks, this.i, this.toks.length);
    this.i = Math.max(parsed.next, this.i + 1);
    return parsed.expr;
  }

  /** A value as text, variables replaced by what they are bound to. */
  textOf(e: Expr, depth = 0): string {
    if (depth > 16) return '';
    switch (e.k) {
      case 'var': {
        const bound = this.r.vars.get(e.tok);
        return bound ? this.textOf(bound, depth + 1) : `$${e.tok.t}`;
      }
      case 'set':
        return `{ ${e.elems.map((x) => this.textOf(x, depth + 1)).join(', ')} }`;
      case 'list':
        return e.items.map((x) => this.textOf(x, depth + 1)).join(',');
      case 'range':
        return `${e.from.t}-${e.to.t}`;
      case 'ref':
        return `@${e.tok.t}`;
      default:
        return exprToks(e)
          .map((t) => t.t)
          .join('');
    }
  }

  /** The layer-4 protocols a value names (tcp, { tcp, udp }, $protos). */
  protoSet(e: Expr): Set<L4> {
    const out = new Set<L4>();
    const walk = (x: Expr, d: number) => {
      if (d > 16) return;
      if (x.k === 'atom' && L4_NAMES[x.tok.t]) out.add(L4_NAMES[x.tok.t]);
      else if (x.k === 'set') x.elems.forEach((y) => walk(y, d + 1));
      else if (x.k === 'list') x.items.forEach((y) => walk(y, d + 1));
      else if (x.k === 'var') {
        const b = this.r.vars.get(x.tok);
        if (b) walk(b, d + 1);
      }
    };
    walk(e, 0);
    return out;
  }

  /** The verdict at i (taken); `jump { ... }` becomes an inline chain of its own. */
  verdictAt(): Verdict | undefined {
    const { toks, chain } = this;
    const w = this.word();
    if (!w || !VERDICTS.has(w)) return undefined;
    const verdictTok = toks[this.i];
    this.i++;
    if (w === 'jump' || w === 'goto') {
      const t = toks[this.i];
      if (t?.k === 'p' && t.t === '{') {
        const close = matchingBrace(toks, this.i);
        const body = new Parser(toks.slice(this.i + 1, close), chain.file, [], 0).chainBody(t);
        const anon: EvalChain = {
          ...chain,
          key: `${chain.key} {${t.s}}`,
          name: `${chain.name} (inline chain)`,
          hook: undefined,
          policy: undefined,
          rules: [],
        };
        for (const item of body.items) if (item.kind === 'rule') anon.rules.push({ rule: item.rule, vars: this.r.vars });
        this.ev.chains.set(anon.key, anon);
        this.i = close + 1;
        return { kind: w, chain: anon };
      }
      if (t && (t.k === 'word' || t.k === 'str')) {
        this.i++;
        return { kind: w, target: t.t, span: { start: verdictTok.s, end: t.e }, file: t.file };
      }
      return { kind: w };
    }
    if (w === 'reject' || w === 'queue') {
      // `reject with tcp reset`, `queue num 1 bypass`: options up to the end of the rule
      while (this.i < toks.length && !(toks[this.i].k === 'word' && (toks[this.i].t === 'comment' || toks[this.i].t === 'counter'))) this.i++;
    }
    return { kind: w as Verdict['kind'] };
  }

  /** The entries of a verdict map (written inline, in a variable or a named map). */
  vmapEntries(e: Expr): VmapEntry[] {
    const resolved = e.k === 'var' ? this.r.vars.get(e.tok) : e;
    let elems: Expr[] | undefined;
    if (resolved?.k === 'set') elems = resolved.elems;
    else if (resolved?.k === 'ref') elems = this.ev.sets.get(`${this.chain.family} ${this.chain.table} ${resolved.tok.t}`)?.elements.map((x) => x.expr);
    if (!elems) return [];
    return elems
      .filter((x): x is Extract<Expr, { k: 'map' }> => x.k === 'map')
      .map((x) => {
        const v = x.value.filter((t) => t.k !== 'nl');
        if (v[0]?.k === 'word' && (v[0].t === 'reject' || v[0].t === 'queue')) {
          this.ev.report(
            syntaxError(
              v[0].file,
              { start: v[0].s, end: v[0].e },
              `A verdict map takes accept, drop, continue, return, jump or goto, not ${v[0].t} (nft: syntax error, unexpected ${v[0].t}).`,
            ),
          );
        }
        const kind = v[0]?.k === 'word' && VERDICTS.has(v[0].t) ? (v[0].t as Verdict['kind']) : undefined;
        return { key: x.key, valueToks: v, verdict: kind ? { kind, target: kind === 'jump' || kind === 'goto' ? v[1]?.t : undefined } : undefined };
      });
  }

  /** A port match's effective ranges under its operator (`!= 22`, `< 1024`). */
  portMatch(e: Expr, o: string): PortMatch {
    const pm: PortMatch = { mentions: [], ranges: [], unresolved: false };
    this.ev.portsOf(e, this.r.vars, pm, 0, this.table);
    const written = mergeRanges(pm.mentions.flatMap((x) => x.ranges));
    pm.ranges = applyOp(written, o);
    if (o === '!=') for (const x of pm.mentions) x.negated = true;
    else if (o !== '==') for (const x of pm.mentions) x.ranges = pm.ranges;
    return pm;
  }

  /** `SELECTOR OP vmap { ... }` at i (taken) as the rule's verdict map on a key other than the port; false when no vmap is written here. */
  readVmap(keyLabel: string): boolean {
    if (this.word() !== 'vmap') return false;
    this.i++;
    const e = this.value();
    this.m.vmap = { key: 'other', keyLabel, entries: this.vmapEntries(e) };
    return true;
  }

  /** `SELECTOR OP vmap { ... }` at i (taken) that we do not follow; false when no vmap is written here. */
  skipVmap(label: string): boolean {
    if (this.word() !== 'vmap') return false;
    this.i++;
    this.value();
    this.unmodelled(label);
    return true;
  }
}

type VmapEntry = { key: Expr; verdict?: Verdict; valueToks: Tok[] };

/** `OP VALUE` as written for a note: "10.0.0.0/8", "!= eth0". */
function condWords(o: string, v: string): string {
  return `${o === '==' ? '' : `${o} `}${v}`;
}

/**
 * The matches a rule is read for, in the order they are tried at each position (the first whose
 * test holds reads its words). Each reads what it evaluates into the RuleMeaning and moves past it.
 */
const MATCH_READERS: { name: string; test: (ri: RuleInterpreter, w: string | undefined, next: string | undefined) => boolean; read: MatchReader }[] = [
  { name: 'port', test: (_ri, w, next) => !!w && (!!L4_NAMES[w] || w === 'th') && (next === 'dport' || next === 'sport'), read: readPortMatch },
  {
    name: 'meta prefix',
    // `meta l4proto`, `meta iifname`, ...: the same match as without `meta`.
    test: (_ri, w, next) => w === 'meta' && !!next && ['l4proto', 'nfproto', 'iif', 'iifname', 'oif', 'oifname'].includes(next),
    read: (ri) => {
      ri.i++;
    },
  },
  {
    name: 'l4 protocol',
    test: (_ri, w, next) => w === 'l4proto' || (w === 'ip' && next === 'protocol') || (w === 'ip6' && next === 'nexthdr'),
    read: readProtocolMatch,
  },
  {
    name: 'nfproto',
    test: (_ri, w) => w === 'nfproto',
    read: (ri) => {
      ri.i++;
      const o = ri.op();
      const v = ri.textOf(ri.value());
      if (o === '==' && (v === 'ipv4' || v === 'ipv6')) ri.m.family = v;
      else ri.unmodelled(`nfproto ${condWords(o, v)}`);
    },
  },
  { name: 'interface', test: (_ri, w) => w === 'iif' || w === 'iifname' || w === 'oif' || w === 'oifname', read: readInterfaceMatch },
  { name: 'address', test: (_ri, w, next) => (w === 'ip' || w === 'ip6') && (next === 'saddr' || next === 'daddr'), read: readAddressMatch },
  { name: 'ct state', test: (_ri, w, next) => w === 'ct' && next === 'state', read: readCtStateMatch },
  {
    name: 'nat',
    // `ct status dnat` is a match on the connection, not a NAT statement.
    test: (ri, w) => (w === 'dnat' || w === 'redirect') && !(ri.toks[ri.i - 1]?.k === 'word' && ri.toks[ri.i - 1].t === 'status'),
    read: (ri, w) => {
      ri.i++;
      ri.m.nat = natTarget(w as 'dnat' | 'redirect', ri.toks, ri.i, ri.r.vars, (t) => ri.ev.portValue(t));
      if (!ri.m.nat) ri.m.notes.push(`${w} to a computed target`);
      ri.i = ri.toks.length;
    },
  },
  {
    name: 'log',
    test: (_ri, w) => w === 'log',
    read: (ri) => {
      ri.m.log = true;
      ri.i++;
      while (ri.word() && ['prefix', 'level', 'group', 'snaplen', 'queue-threshold', 'flags'].includes(ri.word()!)) ri.i += 2;
    },
  },
  {
    name: 'limit',
    test: (_ri, w, next) => w === 'limit' && next === 'rate',
    read: (ri) => {
      ri.m.limit = true;
      ri.i += 2;
      const over = ri.word() === 'over';
      if (over) {
        ri.m.notes.push('rate over limit');
        ri.i++;
      }
      ri.m.unmodelled.push(over ? 'rate over limit' : 'rate limit');
    },
  },
  {
    name: 'comment',
    test: (_ri, w) => w === 'comment',
    read: (ri) => {
      ri.i += 2;
    },
  },
  {
    name: 'other protocol header',
    // `icmp type echo-request`, `icmpv6 type ...`, `esp spi 1`: a header only packets of another protocol carry.
    test: (ri, w, next) => !!w && OTHER_L4_HEADERS.has(w) && !!next && ri.toks[ri.i + 1]?.k === 'word',
    read: (ri) => {
      ri.m.protos = new Set();
      ri.i += 2;
      ri.op();
      ri.value();
    },
  },
  {
    name: 'unevaluated match',
    // A match we read but do not evaluate (ip ttl, tcp flags, meta pkttype, meta mark, fib, ...).
    test: (ri, w, next) =>
      !!w && MATCH_SELECTORS.has(w) && !!next && ri.toks[ri.i + 1]?.k === 'word' && ri.word(2) !== 'set' && !(w === 'ct' && next === 'helper'),
    read: (ri, w, next) => {
      ri.i += 2;
      const o = ri.op();
      const v = ri.textOf(ri.value());
      ri.unmodelled(`${w} ${next} ${condWords(o, v)}`.trim());
    },
  },
  {
    name: 'verdict',
    test: (_ri, w) => !!w && VERDICTS.has(w),
    read: (ri) => {
      ri.m.verdict = ri.verdictAt();
    },
  },
  {
    name: 'block',
    // A `{ ... }` no match took (an anonymous set after a selector we skipped): skipped whole.
    test: (ri) => ri.isPunct('{'),
    read: (ri) => {
      ri.i = matchingBrace(ri.toks, ri.i) + 1;
    },
  },
];

type MatchReader = (ri: RuleInterpreter, w: string, next: string | undefined) => void;

/** `tcp dport 22`, `udp sport { 53, 123 }`, `th dport 80-90`, `tcp dport vmap { ... }`. */
function readPortMatch(ri: RuleInterpreter, w: string, next: string | undefined): void {
  const { m, toks } = ri;
  const prev = toks[ri.i - 1];
  ri.i += 2;
  const after = toks[ri.i];
  if ((prev?.k === 'p' && prev.t === '.') || (after && EXPRESSION_OPERATORS.has(after.t) && after.k !== 'str')) {
    // Part of a concatenation, a hash or a map lookup (`ip saddr . tcp dport`, `tcp sport mod 2`): not a match on its own.
    ri.unmodelled(`${w} ${next} in an expression`);
    return;
  }
  const o = ri.op();
  const sel = w === 'th' ? undefined : L4_NAMES[w];
  if (sel) m.protos = intersect(m.protos, new Set([sel]));
  if (ri.word() === 'vmap') {
    ri.i++;
    const e = ri.value();
    m.vmap = { key: next === 'dport' ? 'dport' : 'other', keyLabel: `${w} ${next}`, protos: m.protos, entries: ri.vmapEntries(e) };
    return;
  }
  if (ri.word() === 'map') {
    ri.i++;
    ri.value();
    return;
  }
  if (ri.isPunct('-')) {
    ri.ev.report(syntaxError(toks[ri.i].file, { start: toks[ri.i].s, end: toks[ri.i].e }, 'A port cannot be negative (nft: syntax error, unexpected -).'));
    ri.i++;
    return;
  }
  const e = ri.value();
  if (ri.isPunct('.')) {
    // `tcp dport . ip saddr { 22 . 10.0.0.1 }`: a concatenation we do not model
    while (ri.isPunct('.')) ri.i = parsePrimary(toks, ri.i + 1, toks.length).next;
    ri.unmodelled(`${w} ${next} in a concatenation`);
    return;
  }
  const pm = ri.portMatch(e, o);
  if (next === 'dport') m.dport = pm;
  else m.sport = pm;
}

/** `meta l4proto tcp`, `ip protocol { tcp, udp }`, `ip6 nexthdr != udp`. */
function readProtocolMatch(ri: RuleInterpreter, w: string): void {
  const m = ri.m;
  if (w !== 'l4proto') {
    m.family = w === 'ip' ? 'ipv4' : 'ipv6';
    ri.i++;
  }
  ri.i++;
  const o = ri.op();
  if (ri.skipVmap(`${w} vmap`)) return;
  const ps = ri.protoSet(ri.value());
  m.protos = intersect(m.protos, o === '!=' ? new Set(ALL_L4.filter((p) => !ps.has(p))) : ps);
}

/** `iifname "eth0"`, `iif lo`, `oifname != "wg0"`, `iifname vmap { ... }`: only an input interface with == is evaluated. */
function readInterfaceMatch(ri: RuleInterpreter, w: string): void {
  ri.i++;
  const o = ri.op();
  if (ri.readVmap(w)) return;
  const v = ri.textOf(ri.value());
  if (w.startsWith('i') && o === '==') ri.m.iface = v;
  else ri.unmodelled(`${w} ${condWords(o, v)}`);
}

/** `ip saddr 10.0.0.0/8`, `ip6 daddr != ::1`, `ip saddr and 255.255.0.0 == ...`. */
function readAddressMatch(ri: RuleInterpreter, w: string, next: string | undefined): void {
  const m = ri.m;
  m.family = w === 'ip' ? 'ipv4' : 'ipv6';
  ri.i += 2;
  // `ip saddr and 255.255.0.0 == ...`: a masked address we do not evaluate
  const masked = ri.word() === 'and';
  if (masked) ri.i += 2;
  const o = ri.op();
  if (ri.skipVmap(`${w} ${next} vmap`)) return;
  const v = ri.textOf(ri.value());
  if (masked) m.unmodelled.push(`${w} ${next} masked`);
  if (next === 'saddr' && o === '==') m.source = v;
  else if (next === 'daddr' && o === '==' && !masked) {
    m.notes.push(`${w} ${next} ${v}`);
    m.destination = v;
  } else ri.unmodelled(`${w} ${next} ${condWords(o, v)}`);
}

/** `ct state established,related`, `ct state new`, `ct state vmap { ... }`. */
function readCtStateMatch(ri: RuleInterpreter): void {
  const m = ri.m;
  ri.i += 2;
  const o = ri.op();
  if (ri.readVmap('ct state')) return;
  const v = ri.textOf(ri.value());
  m.notes.push(`ct state ${condWords(o, v)}`);
  const admitsNew = ctStateAdmitsNew(v, o);
  if (admitsNew === false) m.matchesNew = false;
  else if (admitsNew === undefined) m.unmodelled.push(`ct state ${condWords(o, v)}`);
}

/** Each chain's first base chain, following jumps, gotos and verdict maps (the hook that reaches a rule). */
function reachFromBaseChains(ev: RulesetEvaluation, baseChains: EvalChain[]): Map<EvalChain, EvalChain> {
  const reach = new Map<EvalChain, EvalChain>();
  for (const base of baseChains) {
    const stack: EvalChain[] = [base];
    while (stack.length) {
      const c = stack.pop()!;
      if (reach.has(c)) continue;
      reach.set(c, base);
      for (const r of c.rules) {
        const m = ev.meaningOf(r, c);
        for (const v of [m.verdict, ...(m.vmap?.entries.map((e) => e.verdict) ?? [])]) {
          const next = v?.chain ?? (v?.target ? ev.chainIn(c, v.target) : undefined);
          if (next && !reach.has(next)) stack.push(next);
        }
      }
    }
  }
  return reach;
}

/** The conditions a packet carries into a chain: those of the jumps that brought it there. */
interface EntryConditions {
  protos?: Set<L4>;
  ports?: PortRange[];
  notes: string[];
  iface?: string;
  source?: string;
  sourcePorts?: PortRange[];
  destination?: string;
  matchesNew?: boolean;
  /** Reached through a vmap entry on the loopback interface. */
  loopback?: boolean;
  unmodelled: string[];
  /** The call frame (FirewallRule.frame). */
  frame?: string;
}

function familyOfRule(c: EvalChain, m: RuleMeaning): IpFamily | 'both' | undefined {
  return m.family ?? (c.family === 'ip' ? 'ipv4' : c.family === 'ip6' ? 'ipv6' : c.family === 'inet' ? 'both' : undefined);
}

/**
 * The walk of the input hook's base chains: every rule a packet meets, under the conditions of the
 * jumps that reach it, as FirewallRules. Bounded: rules emitted over all walks, chain visits per walk,
 * distinct entry states per chain.
 */
class InputChainWalker {
  /** FirewallRules all walks together may still emit. */
  private budget = 20000;
  /** Chain visits all walks together have made (WALK_STEPS bounds them). */
  private steps = 0;
  // Each chain is walked once per entry state: reached again in the same state, it adds no rule a
  // packet could still meet (the first copy already decided them), so a jump diamond stays linear.
  private walked = new Set<string>();
  private statesOf = new Map<EvalChain, number>();

  constructor(private readonly ev: RulesetEvaluation) {}

  /** Why a bound stopped the current walk, if one did. */
  private capped: string | undefined;

  walkBase(base: EvalChain): FirewallRule[] {
    const rules: FirewallRule[] = [];
    this.walked = new Set();
    this.statesOf = new Map();
    this.capped = undefined;
    this.walkChain(rules, base, { notes: [], unmodelled: [] }, 0, new Set());
    if (this.capped) this.ev.report(walkCapNote(base.file, base.nameSpan, base.name, this.capped));
    return rules;
  }

  private walkChain(out: FirewallRule[], c: EvalChain, ctx: EntryConditions, depth: number, path: Set<EvalChain>): void {
    // Deeper than the kernel allows is a syntax error (reportJumpLoops); a loop is cut.
    if (depth > NFT_JUMP_DEPTH || path.has(c)) return;
    if (this.steps++ > WALK_STEPS) {
      this.capped ??= `${WALK_STEPS.toLocaleString('en')} chain visits`;
      return;
    }
    const state = `${c.key}\u0000${ctxKey(ctx)}`;
    if (this.walked.has(state)) return;
    const states = this.statesOf.get(c) ?? 0;
    if (states >= STATES_PER_CHAIN) {
      this.capped ??= `${STATES_PER_CHAIN} different entry conditions into chain ${c.name}`;
      return;
    }
    this.statesOf.set(c, states + 1);
    this.walked.add(state);
    path.add(c);
    for (const r of c.rules) {
      const m = this.ev.meaningOf(r, c);
      const span = r.rule.span;
      if (m.vmap) {
        for (const entry of m.vmap.entries) {
          const ports = m.vmap.key === 'dport' ? this.ev.portMatchOfKey(entry.key, r.vars, c) : undefined;
          const label =
            m.vmap.key === 'dport'
              ? undefined
              : `${m.vmap.keyLabel} ${exprToks(entry.key)
                  .map((t) => t.t)
                  .join('')}`;
          const protos = m.vmap.key === 'dport' ? (m.vmap.protos ?? m.protos) : m.protos;
          this.followVerdict(out, { span, c, m, ctx }, entry.verdict, ports?.ranges, protos, label, depth, path);
        }
        continue;
      }
      if (!m.verdict && m.log) this.emitRules(out, { span, c, m, ctx }, 'log', m.dport?.ranges, m.protos);
      else if (m.verdict) this.followVerdict(out, { span, c, m, ctx }, m.verdict, m.dport?.ranges, m.protos, undefined, depth, path);
    }
    path.delete(c);
  }

  /** A verdict of a rule (or of one vmap entry): a jump or goto is walked into, the others end in a FirewallRule. */
  private followVerdict(
    out: FirewallRule[],
    at: RuleAt,
    v: Verdict | undefined,
    ports: PortRange[] | undefined,
    protos: Set<L4> | undefined,
    note: string | undefined,
    depth: number,
    path: Set<EvalChain>,
  ): void {
    if (!v) return;
    const { span, c, m, ctx } = at;
    if (v.kind === 'jump' || v.kind === 'goto') {
      const target = v.target ? this.ev.chainIn(c, v.target) : undefined;
      const inner: EntryConditions = {
        protos: intersect(ctx.protos, protos),
        ports: intersectRanges(ctx.ports, ports),
        notes: [...ctx.notes, ...m.notes, ...(note ? [note] : [])],
        iface: m.iface ?? ctx.iface,
        source: m.source ?? ctx.source,
        ...conditionsOf(m, ctx, note),
        frame: `${ctx.frame ?? ''}>${span.start}`,
      };
      if ((inner.ports && inner.ports.length === 0) || (inner.protos && inner.protos.size === 0)) return;
      const next = v.chain ?? target;
      if (next) this.walkChain(out, next, inner, depth + 1, path);
      // goto: when that chain ends or returns, the packet returns from this chain too.
      if (next && v.kind === 'goto') this.emitRules(out, at, 'return', ports, protos, note ? `${note}; after goto` : 'after goto');
      return;
    }
    const action: FirewallAction = v.kind === 'accept' || v.kind === 'drop' || v.kind === 'reject' || v.kind === 'return' ? v.kind : 'other';
    this.emitRules(out, at, m.limit && action === 'accept' ? 'limit' : action, ports, protos, note);
  }

  /** The FirewallRules of one rule (one per protocol), unless its conditions leave no port or protocol. */
  private emitRules(
    out: FirewallRule[],
    at: RuleAt,
    action: FirewallAction,
    ports: PortRange[] | undefined,
    protos: Set<L4> | undefined,
    extraNote?: string,
  ): void {
    const { span, c, m, ctx } = at;
    const allPorts = intersectRanges(ctx.ports, ports);
    if (allPorts && allPorts.length === 0) return;
    const ps = intersect(ctx.protos, protos);
    if (ps && ps.size === 0) return;
    const notes = [...ctx.notes, ...m.notes, ...(extraNote ? [extraNote] : [])];
    if (m.sport) notes.push(`source port ${m.sport.ranges.map(rangeText).join(',')}`);
    const protoList: (Protocol | 'any')[] = ps ? [...ps].filter((p): p is Protocol => p === 'tcp' || p === 'udp' || p === 'sctp') : ['any'];
    if (ps && protoList.length === 0) return; // dccp/udplite only: outside what PortFact can say
    const cond = conditionsOf(m, ctx, extraNote);
    for (const protocol of protoList) {
      if (this.budget-- <= 0) {
        this.capped ??= 'its first 20,000 rules';
        return;
      }
      const fr: FirewallRule = {
        span,
        protocol,
        ports: allPorts,
        source: m.source ?? ctx.source,
        iface: m.iface ?? ctx.iface,
        action,
        family: familyOfRule(c, m),
        note: notes.length ? notes.join('; ') : undefined,
      };
      if (cond.sourcePorts) fr.sourcePorts = cond.sourcePorts;
      if (cond.destination) fr.destination = cond.destination;
      if (cond.matchesNew === false) fr.matchesNew = false;
      if (cond.loopback || (fr.iface !== undefined && isLoopback(fr.iface))) fr.loopbackOnly = true;
      fr.chain = `${c.family} ${c.table} ${c.name}`;
      if (cond.unmodelled.length > 0) fr.unmodelled = cond.unmodelled;
      fr.file = c.file;
      fr.frame = ctx.frame ?? '';
      out.push(fr);
    }
  }
}

/** A rule met on a walk: where it is written, its chain, its meaning and the conditions it was reached under. */
interface RuleAt {
  span: Span;
  c: EvalChain;
  m: RuleMeaning;
  ctx: EntryConditions;
}

/** The structured conditions of a rule under the conditions of the jumps that reach it; `label` names a vmap entry. */
function conditionsOf(m: RuleMeaning, ctx: EntryConditions, label: string | undefined): Omit<EntryConditions, 'notes'> {
  const unmodelledHere = [...ctx.unmodelled, ...m.unmodelled];
  let matchesNew = ctx.matchesNew === false || m.matchesNew === false ? false : undefined;
  let loopback = ctx.loopback ?? false;
  if (label && m.vmap && m.vmap.key === 'other') {
    const key = label.slice(m.vmap.keyLabel.length + 1);
    if (m.vmap.keyLabel === 'ct state' && ctStateAdmitsNew(key, '==') !== undefined) {
      if (ctStateAdmitsNew(key, '==') === false) matchesNew = false;
    } else if ((m.vmap.keyLabel === 'iif' || m.vmap.keyLabel === 'iifname') && isLoopback(key)) loopback = true;
    else unmodelledHere.push(label);
  }
  if (m.sport?.unresolved) unmodelledHere.push('source port from a set or variable not resolved');
  const sourcePorts = m.sport ? intersectRanges(ctx.sourcePorts, m.sport.ranges) : ctx.sourcePorts;
  if (ctx.destination && m.destination && ctx.destination !== m.destination) unmodelledHere.push(`also daddr ${ctx.destination}`);
  return { sourcePorts, destination: m.destination ?? ctx.destination, matchesNew, unmodelled: [...new Set(unmodelledHere)], loopback };
}

/** Where a chain's rules apply, in words: the hook of the first base chain that reaches it. */
function whereWords(c: EvalChain, hook: string | undefined): string {
  if (hook === 'input') return 'inbound';
  if (hook === 'output') return 'outbound';
  if (hook === 'forward') return 'forwarded';
  return hook ? `at ${hook}` : `in chain ${c.name} (no base chain reaches it)`;
}

/** Facts for every port mention in every rule, described by the hook that reaches it; returns the NAT forwards. */
function describeRules(ev: RulesetEvaluation, reach: Map<EvalChain, EvalChain>): FirewallForward[] {
  const forwards: FirewallForward[] = [];
  // The chains an inbound packet can meet before routing: those a prerouting base chain of ip/ip6/inet reaches.
  const prerouting = reachFromBaseChains(
    ev,
    [...ev.chains.values()].filter((c) => c.hook === 'prerouting' && ['ip', 'ip6', 'inet'].includes(c.family)),
  );
  for (const c of ev.chains.values()) {
    const where = whereWords(c, reach.get(c)?.hook);
    const context = `chain ${c.family} ${c.table} ${c.name}`;
    for (const r of c.rules) {
      const m = ev.meaningOf(r, c);
      const protos = m.protos ? [...m.protos] : undefined;
      const protoList = (protos ?? ['tcp', 'udp']).filter((p): p is Protocol => p === 'tcp' || p === 'udp' || p === 'sctp');
      const say = (v: Verdict | undefined, what: string) => describeVerdict(v, m.log, m.limit, `${what} ${where}`);
      const add = (mention: PortMention, detail: (p: Protocol) => string, role: 'firewall' | 'forward' = 'firewall') => {
        for (const p of protoList) {
          for (const range of mention.ranges) {
            ev.addFact({
              role,
              file: mention.file,
              span: mention.span,
              protocol: p,
              port: range.from,
              portEnd: range.to,
              program: 'nftables',
              context,
              detail: detail(p),
            });
          }
        }
      };
      const portText = (mention: PortMention, p: Protocol) =>
        `${p.toUpperCase()} ${mention.negated ? 'ports other than ' : ''}${mention.ranges.map(rangeText).join(', ')}`;
      if (m.nat) {
        const target = natText(m.nat);
        for (const mention of m.dport?.mentions ?? []) add(mention, (p) => `forwards ${portText(mention, p)} to ${target}`);
        if (m.nat.port)
          add(
            m.nat.port,
            (p) =>
              `${m.nat!.kind === 'dnat' ? 'DNAT' : 'redirect'} target: ${m.dport ? `${p.toUpperCase()} ${m.dport.ranges.map(rangeText).join(', ')}` : 'traffic'} is forwarded to ${target}`,
            'forward',
          );
        forwards.push(natForward(r.rule.span, c, prerouting.has(c), m, protoList));
        continue;
      }
      for (const mention of m.dport?.mentions ?? []) add(mention, (p) => say(m.verdict, portText(mention, p)));
      for (const mention of m.sport?.mentions ?? [])
        add(mention, (p) => say(m.verdict, `${p.toUpperCase()} from source port ${mention.ranges.map(rangeText).join(', ')}`));
      if (m.vmap?.key === 'dport') {
        for (const entry of m.vmap.entries) {
          const pm: PortMatch = { mentions: [], ranges: [], unresolved: false };
          ev.portsOf(entry.key, r.vars, pm, 0, c);
          for (const mention of pm.mentions) add(mention, (p) => describeVerdict(entry.verdict, false, false, `${portText(mention, p)} ${where}`));
        }
      }
    }
  }
  return forwards;
}

/**
 * A dnat/redirect rule as a forward, with what keeps a packet out of it: the family (the table's, a
 * match's, or the target address's in an inet table), the rule's own `iifname`/`ip saddr` (a jump's
 * conditions only narrow it further), and whether a prerouting hook reaches its chain.
 */
function natForward(span: Span, c: EvalChain, inbound: boolean, m: RuleMeaning, protoList: Protocol[]): FirewallForward {
  const nat = m.nat!;
  // One interface name (a set or a variable left unresolved may name any: the forward may apply).
  const iface = m.iface?.replace(/^"(.*)"$/, '$1').replace(/\*$/, '+');
  const family: IpFamily | undefined =
    m.family ?? (c.family === 'ip' ? 'ipv4' : c.family === 'ip6' ? 'ipv6' : nat.address ? (nat.address.includes(':') ? 'ipv6' : 'ipv4') : undefined);
  return {
    span,
    protocol: protoList.length === 1 ? protoList[0] : 'any',
    ports: m.dport?.ranges,
    toAddress: nat.address,
    toPorts: nat.port?.ranges[0],
    kind: nat.kind,
    ...(family ? { family } : {}),
    ...(iface !== undefined && /^[\w.@:-]+\+?$/.test(iface) ? { iface } : {}),
    ...(m.source !== undefined ? { source: m.source } : {}),
    ...(inbound ? {} : { inbound: false }),
  };
}

/** The firewall the input chains make: one hook per chain, the inbound policy (drop when any chain drops). */
function firewallOf(inputChains: NftInputChain[], forwards: FirewallForward[]): FirewallFacts {
  let inboundPolicy: FirewallFacts['inboundPolicy'];
  const hooks: FirewallHook[] = inputChains.map((c) => ({
    label: `${c.family} ${c.table} ${c.chain}`,
    family: c.family === 'ip' ? 'ipv4' : c.family === 'ip6' ? 'ipv6' : 'both',
    priority: c.priority,
    policy: { action: c.policy, span: c.policySpan, file: c.policyFile },
    rules: c.rules,
  }));
  if (inputChains.length > 0) {
    const dropping = inputChains.find((c) => c.policy === 'drop');
    const fams = new Set(inputChains.map((c) => c.family));
    const family: IpFamily | 'both' = fams.has('inet') || (fams.has('ip') && fams.has('ip6')) ? 'both' : fams.has('ip6') ? 'ipv6' : 'ipv4';
    inboundPolicy = dropping
      ? { action: 'drop', span: dropping.policySpan, family, file: dropping.policyFile }
      : { action: 'accept', span: inputChains[0].policySpan, family, file: inputChains[0].policyFile };
  }
  return { tool: 'nftables', inboundPolicy, inputRules: inputChains.flatMap((c) => c.rules), forwards, hooks };
}

/** Chain visits one base chain's walk may make (a diamond of distinct entry states stays under it). */
const WALK_STEPS = 200_000;
/** Distinct entry states walked per chain (each path's conditions can differ: fanout^depth paths). */
const STATES_PER_CHAIN = 64;

/** A walk state as a string: the conditions a packet carries into a chain. */
function ctxKey(ctx: object): string {
  return JSON.stringify(ctx, (_k, v: unknown) => (v instanceof Set ? [...(v as Set<string>)].sort() : v));
}

/** Jump loops reached from a base chain: the kernel refuses them, nft -f fails on the jump that closes one. */
function reportJumpLoops(
  baseChains: EvalChain[],
  meaningOf: (r: EvalRule, c: EvalChain) => RuleMeaning,
  chainIn: (from: EvalChain, name: string) => EvalChain | undefined,
  report: (f: Finding) => void,
): void {
  type Edge = { to: EvalChain; order: number; span: Span; file: string; kind: string };
  const order = new Map<string, number>();
  const edgesOf = (c: EvalChain): Edge[] => {
    const edges: Edge[] = [];
    for (const r of c.rules) {
      const m = meaningOf(r, c);
      for (const v of [m.verdict, ...(m.vmap?.entries.map((e) => e.verdict) ?? [])]) {
        if (!v || (v.kind !== 'jump' && v.kind !== 'goto')) continue;
        const to = v.chain ?? (v.target ? chainIn(c, v.target) : undefined);
        if (!to) continue;
        const file = v.file ?? c.file;
        if (!order.has(file)) order.set(file, order.size);
        const span = v.span ?? r.rule.span;
        edges.push({ to, order: order.get(file)! * 2 ** 32 + span.start, span, file, kind: v.kind });
      }
    }
    return edges;
  };
  for (const { edge, cycle } of findJumpLoops<EvalChain, Edge>(baseChains, edgesOf)) {
    const names = [...cycle, cycle[0]].map((c) => c.name).join(' → ');
    report({
      file: edge.file,
      span: edge.span,
      severity: 'error',
      code: 'syntax',
      message: `Jump loop: ${names}. The kernel refuses it: nft -f fails here with "Too many links" (nft -c does not check this).`,
    });
  }
  for (const { edge, path } of findTooDeep<EvalChain, Edge>(baseChains, edgesOf)) {
    report({
      file: edge.file,
      span: edge.span,
      severity: 'error',
      code: 'syntax',
      message: `Jump ${NFT_JUMP_DEPTH} levels deep from base chain ${path[0].name}; the kernel allows ${NFT_JUMP_DEPTH - 1}: nft -f fails here with "Too many links" (nft -c does not check this).`,
    });
  }
}

/** "allows TCP 443 inbound", "sends TCP 22 inbound to chain ssh". */
function describeVerdict(v: Verdict | undefined, log: boolean, limit: boolean, what: string): string {
  switch (v?.kind) {
    case 'accept':
      return `allows ${what}${limit ? ' (rate-limited)' : ''}`;
    case 'drop':
      return `drops ${what}`;
    case 'reject':
      return `rejects ${what}`;
    case 'return':
      return `returns early for ${what}`;
    case 'jump':
    case 'goto':
      return `sends ${what} to ${v.target ? `chain ${v.target}` : 'an inline chain'}`;
    case 'queue':
      return `queues ${what} to user space`;
    default:
      return `${log ? 'logs' : 'matches'} ${what}`;
  }
}

/** Words that start a computed NAT target (`dnat to ip saddr map @m`, `dnat to numgen inc mod 2 map {...}`). */
const COMPUTED_TARGET = new Set([
  'ip',
  'ip6',
  'tcp',
  'udp',
  'sctp',
  'th',
  'meta',
  'ct',
  'numgen',
  'jhash',
  'symhash',
  'iif',
  'iifname',
  'oif',
  'oifname',
  'ether',
  'map',
]);
const ADDRESS = /^[0-9A-Fa-f:.]+$/;

/**
 * The target of `dnat [ip|ip6] [to] ADDR[:PORT[-PORT]]` or `redirect [to] [:]PORT[-PORT]`.
 * undefined when the target is computed (maps, hashes), which we do not model.
 */
function natTarget(
  kind: 'dnat' | 'redirect',
  toks: Tok[],
  i: number,
  vars: Map<Tok, Expr | undefined>,
  portValue: (t: Tok) => number | undefined,
): RuleMeaning['nat'] {
  const nat: NonNullable<RuleMeaning['nat']> = { kind };
  const at = (j: number): Tok | undefined => {
    const t = toks[j];
    if (t?.k !== 'var') return t;
    const v = vars.get(t);
    return v?.k === 'atom' ? v.tok : undefined;
  };
  const isP = (t: Tok | undefined, p: string) => t?.k === 'p' && t.t === p;
  if (kind === 'dnat' && (at(i)?.t === 'ip' || at(i)?.t === 'ip6') && at(i + 1)?.t === 'to') i++;
  if (at(i)?.t === 'to') i++;
  const first = at(i);
  if (!first) return nat; // `redirect` alone: to the same port on this host
  if (first.k === 'word' && COMPUTED_TARGET.has(first.t)) return undefined;
  if (kind === 'dnat') {
    if (isP(first, '[')) {
      const addr = at(i + 1);
      if (!addr || !isP(at(i + 2), ']')) return undefined;
      nat.address = addr.t;
      i += 3;
    } else if (first.k === 'word' && ADDRESS.test(first.t)) {
      nat.address = first.t;
      i++;
    } else if (!isP(first, ':')) return undefined;
    if (isP(at(i), '.') || isP(at(i), '-') || isP(at(i), '/')) return undefined; // concatenations, address ranges, prefixes
  }
  if (isP(at(i), ':')) i++;
  else if (!(kind === 'redirect' && at(i)?.k === 'num')) return nat; // no port: the packet keeps its port
  const a = at(i);
  if (!a || a.k !== 'num') return undefined; // `:tcp dport map {...}` computes the port
  const from = portValue(a);
  let to = from;
  let end = a.e;
  if (isP(at(i + 1), '-') && at(i + 2)?.k === 'num') {
    to = portValue(at(i + 2)!);
    end = at(i + 2)!.e;
  }
  if (from !== undefined && to !== undefined) nat.port = { ranges: [{ from, to }], span: { start: a.s, end }, file: a.file, negated: false };
  return nat;
}

function natText(nat: NonNullable<RuleMeaning['nat']>): string {
  const port = nat.port ? rangeText(nat.port.ranges[0]) : undefined;
  if (nat.address) return port ? `${nat.address.includes(':') ? `[${nat.address}]` : nat.address}:${port}` : nat.address;
  return port ? `local port ${port}` : 'this host';
}

function matchingBrace(toks: Tok[], open: number): number {
  let depth = 0;
  for (let j = open; j < toks.length; j++) {
    if (toks[j].k !== 'p') continue;
    if (toks[j].t === '{') depth++;
    else if (toks[j].t === '}' && --depth === 0) return j;
  }
  return toks.length - 1;
}

function isServiceSet(s: NftSetSyntax): boolean {
  return !s.isMap && (/^inet_service$/.test(s.typeText.trim()) || /^(tcp|udp|sctp|th|dccp|udplite) (dport|sport)$/.test(s.typeText.trim()));
}

function spanOfExpr(e: Expr): Span {
  const ts = exprToks(e);
  return ts.length ? { start: ts[0].s, end: ts[ts.length - 1].e } : { start: 0, end: 0 };
}

function fileOfExpr(e: Expr): string {
  return exprToks(e)[0]?.file ?? '';
}

export function mergeRanges(ranges: PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

/** Conntrack states only packets of an existing (or refused) connection have: a SYN to a listening port is `new`. */
const NOT_NEW_CT_STATES = new Set(['established', 'related', 'invalid']);

/**
 * Whether a `ct state` match (its value as text, its operator) admits new connections: false when it
 * cannot, true when it can, undefined when the value is not a plain list of states (a variable, a bitmask).
 */
function ctStateAdmitsNew(value: string, op: string): boolean | undefined {
  const states = value
    .replace(/[{}]/g, ' ')
    .split(/[\s,]+/)
    .filter(Boolean);
  const known = new Set([...NOT_NEW_CT_STATES, 'new', 'untracked']);
  if (states.length === 0 || !states.every((x) => known.has(x))) return undefined;
  if (op === '==') return states.every((x) => NOT_NEW_CT_STATES.has(x)) ? false : states.includes('new') ? true : undefined;
  if (op === '!=') return states.includes('new') ? false : undefined;
  return undefined;
}

/** `iif lo`, `iifname "lo"`: the loopback interface alone (a set or a wildcard is not). */
function isLoopback(iface: string): boolean {
  return iface.replace(/^"(.*)"$/, '$1') === 'lo';
}

function applyOp(ranges: PortRange[], op: string): PortRange[] {
  if (ranges.length === 0) return ranges;
  const v = ranges[0].from;
  switch (op) {
    case '!=': {
      const out: PortRange[] = [];
      let at = 0;
      for (const r of ranges) {
        if (r.from > at) out.push({ from: at, to: r.from - 1 });
        at = r.to + 1;
      }
      if (at <= MAX_PORT) out.push({ from: at, to: MAX_PORT });
      return out;
    }
    case '<':
      return v > 0 ? [{ from: 0, to: v - 1 }] : [];
    case '<=':
      return [{ from: 0, to: v }];
    case '>':
      return v < MAX_PORT ? [{ from: v + 1, to: MAX_PORT }] : [];
    case '>=':
      return [{ from: v, to: MAX_PORT }];
    default:
      return ranges;
  }
}

function intersect<T>(a: Set<T> | undefined, b: Set<T> | undefined): Set<T> | undefined {
  if (!a) return b;
  if (!b) return a;
  return new Set([...a].filter((x) => b.has(x)));
}

function intersectRanges(a: PortRange[] | undefined, b: PortRange[] | undefined): PortRange[] | undefined {
  if (!a) return b;
  if (!b) return a;
  const out: PortRange[] = [];
  for (const x of a)
    for (const y of b) {
      const from = Math.max(x.from, y.from);
      const to = Math.min(x.to, y.to);
      if (from <= to) out.push({ from, to });
    }
  return mergeRanges(out);
}

// ---------------------------------------------------------------------------------------------
// The format module

export interface NftExtra {
  syntax: NftSyntax;
  /** The input-hook base chains as this file alone defines them. */
  inputChains: NftInputChain[];
}

export function createNftablesModule(serviceToPort: ServiceLookup): FormatModule {
  function parse(text: string, file: string): FileParse {
    const { syntax, findings } = parseNftSyntax(text, file);
    const includes = syntax.commands.flatMap(collectIncludes);
    const evaluation = evaluateNftables([syntax], new Map(), serviceToPort, { reportUnknownVariables: syntax.looksComplete && includes.length === 0 });
    const extra: NftExtra = { syntax, inputChains: evaluation.inputChains };
    return {
      format: 'nftables',
      file,
      facts: evaluation.facts,
      findings: [...findings, ...evaluation.findings],
      includes,
      firewall: evaluation.firewall,
      extra,
    };
  }

  function link(instance: InstanceInput): InstanceOutput {
    const syntaxes = new Map<string, NftSyntax>();
    for (const f of instance.files) {
      const x = f.extra as NftExtra | undefined;
      if (x?.syntax) syntaxes.set(f.file, x.syntax);
    }
    const edges = new Map<IncludeRef, NftSyntax[]>();
    for (const e of instance.edges) {
      const to = syntaxes.get(e.to.file);
      if (!to) continue;
      const list = edges.get(e.ref) ?? [];
      list.push(to);
      edges.set(e.ref, list);
    }
    const root = syntaxes.get(instance.root.file);
    if (!root) return { facts: instance.files.flatMap((f) => f.facts), findings: instance.files.flatMap((f) => f.findings) };
    const allIncludesFound = instance.files.every((f) => f.includes.every((ref) => edges.has(ref)));
    const evaluation = evaluateNftables([root], edges, serviceToPort, { reportUnknownVariables: root.looksComplete && allIncludesFound });
    // Syntax findings come from each file's parse; port findings from the evaluation of the whole ruleset.
    const syntaxFindings = instance.files.flatMap((f) => f.findings.filter((x) => x.code === 'syntax' && !x.message.startsWith('Unknown variable')));
    return { facts: evaluation.facts, findings: [...syntaxFindings, ...evaluation.findings], firewall: evaluation.firewall };
  }

  return {
    id: 'nftables',
    writer: nftablesWriter,
    matchesPath: (path) => /(^|\/)nftables\.conf$/.test(path) || /\.nft$/.test(path) || /(^|\/)nftables\.d\/[^/]+\.conf$/.test(path),
    matchesContent: (text) => /^#!.*\bnft\b.*-f/.test(text) || /^[^\S\n]*table\s+(inet|ip6?|arp|bridge|netdev)\s+[\w.-]+\s*\{/m.test(text),
    parse,
    link,
  };
}

function collectIncludes(cmd: NftCommand): IncludeRef[] {
  if (cmd.kind === 'include') return [cmd.ref];
  if (cmd.kind === 'table')
    return cmd.items.flatMap((it) =>
      it.kind === 'include' ? [it.ref] : it.kind === 'chain' ? it.chain.items.flatMap((c) => (c.kind === 'include' ? [c.ref] : [])) : [],
    );
  if (cmd.kind === 'chain') return cmd.chain.items.flatMap((c) => (c.kind === 'include' ? [c.ref] : []));
  return [];
}
