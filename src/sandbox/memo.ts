// A small time-limited memo: the result of an expensive lookup (the bounded scan for nested `.git`
// entries) is reused for a few seconds. One lives on each Policy value, so it goes away with the
// roots it was computed for; nothing is kept at module level.

export class TtlMemo<V> {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { at: number; value: Promise<V> }>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  /** The value for `key`, computed by `compute` unless a value younger than the TTL is at hand. */
  get(key: string, compute: () => Promise<V>, now = performance.now()): Promise<V> {
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < this.#ttlMs) return hit.value;
    const value = compute();
    this.#entries.set(key, { at: now, value });
    // A failed lookup is not remembered.
    value.catch(() => this.#entries.delete(key));
    return value;
  }

  /** Forgets every value (e.g. after a change the memo cannot see, such as a new worktree). */
  clear(): void {
    this.#entries.clear();
  }
}
