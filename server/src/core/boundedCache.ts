/**
 * A memo of at most `max` entries, emptied when full: a workspace's repeats are found, and a hostile file
 * of distinct keys resets it instead of growing it. For the engine's hot lookups (compiled include globs,
 * host-glob matchers, parsed addresses, interned strings).
 */
export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly max: number) {}

  /** The value for `key`, made by `make` the first time (and again after the cache was emptied). */
  get(key: K, make: (key: K) => V): V {
    const known = this.map.get(key);
    if (known !== undefined || this.map.has(key)) return known as V;
    const value = make(key);
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, value);
    return value;
  }
}
