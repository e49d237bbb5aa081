/**
 * A small per-instance cache whose entries expire after `ttlMs`, for rows that are read on hot paths
 * and change rarely (API keys, inboxes, automation rules). At `maxEntries` it starts over rather than
 * tracking recency: the caches it serves are small, and a miss only costs one read.
 */
export class ExpiringCache<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 1_000,
  ) {}

  /** The value if present and fresh. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    return entry && entry.until > Date.now() ? entry.value : undefined;
  }

  set(key: K, value: V): void {
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) this.entries.clear();
    this.entries.set(key, { value, until: Date.now() + this.ttlMs });
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
