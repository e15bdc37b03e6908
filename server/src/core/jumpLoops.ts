/**
 * Jump loops in a firewall's chains (nftables jump/goto, iptables user chains). The kernel refuses a
 * ruleset in which a chain reached from a base chain can jump back to itself ("Too many links"):
 * nft -f and iptables-restore fail on the jump that closes the loop. Iterative (no recursion), each
 * edge looked at once.
 */

import type { Finding, Span } from './types';

/** The Information a chain walk gives when one of its bounds stopped it (never a hang, never silence). */
export function walkCapNote(file: string, span: Span | undefined, chain: string, why: string): Finding {
  return {
    file,
    span: span ?? { start: 0, end: 0 },
    severity: 'information',
    code: 'syntax',
    messageId: 'walk-capped',
    message: `Portolan stopped following ${chain}'s jumps at ${why}: what the firewall does past that point is not checked.`,
  };
}

export interface JumpEdge<C> {
  to: C;
  /** Position used to pick the jump that closes a loop: the last one the program reads. */
  order: number;
}

export interface JumpLoop<C, E extends JumpEdge<C>> {
  /** The jump that closes the loop (read last of the loop's jumps). */
  edge: E;
  /** The chains of the loop, starting at the chain `edge` jumps to. */
  cycle: C[];
}

export function findJumpLoops<C, E extends JumpEdge<C>>(roots: C[], edgesOf: (c: C) => E[]): JumpLoop<C, E>[] {
  const done = new Set<C>();
  const onPath = new Map<C, number>();
  const loops: JumpLoop<C, E>[] = [];
  const reported = new Set<E>();
  for (const root of roots) {
    if (done.has(root)) continue;
    const path: { chain: C; edges: E[]; next: number; via?: E }[] = [{ chain: root, edges: edgesOf(root), next: 0 }];
    onPath.set(root, 0);
    while (path.length > 0) {
      const top = path[path.length - 1];
      if (top.next >= top.edges.length) {
        path.pop();
        onPath.delete(top.chain);
        done.add(top.chain);
        continue;
      }
      const edge = top.edges[top.next++];
      const at = onPath.get(edge.to);
      if (at !== undefined) {
        const frames = path.slice(at);
        const inLoop = [...frames.slice(1).map((f) => f.via!), edge];
        const last = inLoop.reduce((a, b) => (b.order > a.order ? b : a));
        if (!reported.has(last)) {
          reported.add(last);
          loops.push({ edge: last, cycle: frames.map((f) => f.chain) });
        }
        continue;
      }
      if (done.has(edge.to)) continue;
      onPath.set(edge.to, path.length);
      path.push({ chain: edge.to, edges: edgesOf(edge.to), next: 0, via: edge });
    }
  }
  return loops;
}

/**
 * The kernel's nf_tables validation walks every jump from a base chain and refuses a ruleset in which
 * a chain would be entered 16 jumps (or gotos) deep ("Too many links", NFT_JUMP_STACK_SIZE): nft -f
 * fails on the jump that reaches that depth. Returns, per root, the first such jump in the order the
 * rules are read, with the chains from the root to it. Linear: each chain's height (the most jumps
 * below it) is computed once, iteratively; chains in a loop count as height 0 (loops are reported
 * by findJumpLoops).
 */
export const NFT_JUMP_DEPTH = 16;

export function findTooDeep<C, E extends JumpEdge<C>>(roots: C[], edgesOf: (c: C) => E[], limit = NFT_JUMP_DEPTH): { root: C; edge: E; path: C[] }[] {
  const edgeCache = new Map<C, E[]>();
  const edges = (c: C): E[] => {
    let list = edgeCache.get(c);
    if (!list) edgeCache.set(c, (list = edgesOf(c)));
    return list;
  };
  const height = new Map<C, number>();
  const onStack = new Set<C>();
  for (const root of roots) {
    if (height.has(root)) continue;
    const stack: { chain: C; next: number }[] = [{ chain: root, next: 0 }];
    onStack.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const list = edges(top.chain);
      if (top.next < list.length) {
        const to = list[top.next++].to;
        if (!height.has(to) && !onStack.has(to)) {
          onStack.add(to);
          stack.push({ chain: to, next: 0 });
        }
        continue;
      }
      let h = 0;
      for (const e of list) h = Math.max(h, 1 + (height.get(e.to) ?? 0));
      height.set(top.chain, Math.min(h, limit));
      onStack.delete(top.chain);
      stack.pop();
    }
  }
  const out: { root: C; edge: E; path: C[] }[] = [];
  for (const root of roots) {
    if ((height.get(root) ?? 0) < limit) continue;
    // Down the first path that reaches the limit: at each level, the first edge whose height still does.
    const path = [root];
    let at = root;
    for (let level = 0; level < limit; level++) {
      const edge = edges(at).find((e) => level + 1 >= limit || level + 1 + (height.get(e.to) ?? 0) >= limit);
      if (!edge) break;
      if (level + 1 >= limit) {
        out.push({ root, edge, path });
        break;
      }
      at = edge.to;
      path.push(at);
    }
  }
  return out;
}
