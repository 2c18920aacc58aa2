/** A small time-limited cache with a size bound (oldest entry out first), for SSM values and AWS keys. */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    readonly maxSize: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(key: string, value: V): void {
    if (this.maxSize <= 0 || this.ttlMs <= 0) return;
    this.entries.delete(key);
    while (this.entries.size >= this.maxSize) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * One cache per owner (a backend's ports), rebuilt when the size or lifetime asked for changes (a config
 * reloaded between runs, or tests with their own settings).
 */
export function ownedCache<V>(caches: WeakMap<object, TtlCache<V>>, owner: object, maxSize: number, ttlMs: number): TtlCache<V> {
  let cache = caches.get(owner);
  if (!cache || cache.maxSize !== maxSize || cache.ttlMs !== ttlMs) {
    cache = new TtlCache<V>(maxSize, ttlMs);
    caches.set(owner, cache);
  }
  return cache;
}
