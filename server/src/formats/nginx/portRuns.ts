/**
 * nginx keeps one entry per address and port (ngx_http_conf_port_t / its addrs). A `listen 1-65535` would
 * make 65,535 of them, and a few such servers millions (the fuzz campaign found an 810-byte file taking
 * seconds). Ports that every listen so far either covers wholly or not at all share one history, so they
 * are kept as one run: the work grows with the number of listens, not with the width of their ranges.
 */
export interface PortRun<T> {
  lo: number;
  hi: number;
  value: T;
}

/** Disjoint runs of ports of one address, in port order. Splitting a run copies its value with `clone`. */
export class PortRuns<T> {
  private readonly runs: PortRun<T>[] = [];

  constructor(private readonly clone: (value: T) => T) {}

  /** The value that holds for `port`, if any listen covered it. */
  at(port: number): T | undefined {
    const i = this.indexCovering(port);
    return i < 0 ? undefined : this.runs[i].value;
  }

  /** Makes `port` the first port of its run (if a run covers it), so that what follows can differ. */
  split(port: number): void {
    const i = this.indexCovering(port);
    if (i < 0) return;
    const run = this.runs[i];
    if (run.lo === port) return;
    this.runs.splice(i + 1, 0, { lo: port, hi: run.hi, value: this.clone(run.value) });
    run.hi = port - 1;
  }

  /** The run starting at `port` (after `split`), if one does. */
  startingAt(port: number): PortRun<T> | undefined {
    const i = this.indexCovering(port);
    return i >= 0 && this.runs[i].lo === port ? this.runs[i] : undefined;
  }

  /** Where runs begin or end inside lo..hi: the ports at which the history of the range changes. */
  boundariesWithin(lo: number, hi: number, out: Set<number>): void {
    for (let i = this.firstEndingAtOrAfter(lo); i < this.runs.length && this.runs[i].lo <= hi; i++) {
      const run = this.runs[i];
      if (run.lo > lo) out.add(run.lo);
      if (run.hi < hi) out.add(run.hi + 1);
    }
  }

  /** Records `value` for lo..hi, a span no run covers (the caller split and checked). */
  insert(lo: number, hi: number, value: T): void {
    const i = this.firstEndingAtOrAfter(lo);
    this.runs.splice(i, 0, { lo, hi, value });
  }

  private indexCovering(port: number): number {
    const i = this.firstEndingAtOrAfter(port);
    return i < this.runs.length && this.runs[i].lo <= port ? i : -1;
  }

  /** Binary search: the first run whose last port is >= port. */
  private firstEndingAtOrAfter(port: number): number {
    let lo = 0;
    let hi = this.runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.runs[mid].hi < port) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
