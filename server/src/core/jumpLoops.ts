/**
 * Jump loops in a firewall's chains (nftables jump/goto, iptables user chains). The kernel refuses a
 * ruleset in which a chain reached from a base chain can jump back to itself ("Too many links"):
 * nft -f and iptables-restore fail on the jump that closes the loop. Iterative (no recursion), each
 * edge looked at once.
 */

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
