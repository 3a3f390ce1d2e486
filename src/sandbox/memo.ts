// A small time-limited memo: the result of an expensive lookup is reused for a few seconds. One
// lives on each Policy value (the bounded scan for nested `.git` entries), so it goes away with the
// roots it was computed for, and one on the ExecHost (the host paths the sandbox hides); nothing is
// kept at module level.

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
}
