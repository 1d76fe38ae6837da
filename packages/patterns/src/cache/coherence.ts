/**
 * Keeps the memory tier from contradicting Redis when a local read or write
 * races an invalidation from the bus.
 *
 * The race: this instance reads (or writes) a key in Redis; before the reply
 * arrives, another instance deletes or rewrites the key and its bus message
 * is handled here (dropping the memory copy, which is not there yet); then
 * our reply arrives and puts the old value in memory, where it stays while
 * Redis holds something else. Which of the two reached Redis first cannot be
 * told from here, so the safe move is not to fill memory at all: the next
 * read goes to Redis.
 *
 * Every invalidation handled (by key, or wide: prefix, tag, clear, gap) bumps
 * a sequence number; a read or write notes the number before it goes to
 * Redis and fills memory afterwards only if nothing touching its key came in
 * between. The check runs synchronously right after the reply, before this
 * instance's own broadcast is dispatched, so its own message never counts.
 * Bounded: the per-key map forgets its oldest keys, and a forgotten key
 * counts as touched at the time it was forgotten (the safe side).
 */

/** Most keys whose last invalidation is remembered. */
const MAX_KEYS = 50_000;

/** The invalidation sequence of one memory tier. */
export class Coherence {
  /** Bumped by every invalidation handled. */
  private seq = 0;
  /** The sequence of the last wide invalidation (prefix, tag, clear, gap). */
  private wide = 0;
  /** The sequence at which the oldest remembered key was forgotten. */
  private floor = 0;
  private readonly keys = new Map<string, number>();

  /** The current sequence number: note it before a read or write goes to Redis. */
  mark(): number {
    return this.seq;
  }

  /** True when an invalidation of `key` (or a wide one) was handled after `mark`. */
  touchedSince(key: string, mark: number): boolean {
    if (this.seq === mark) return false;
    if (this.wide > mark || this.floor > mark) return true;
    return (this.keys.get(key) ?? 0) > mark;
  }

  /** Records invalidations of `keys`. */
  keysInvalidated(keys: readonly string[]): void {
    const seq = ++this.seq;
    for (const key of keys) {
      this.keys.delete(key);
      this.keys.set(key, seq);
    }
    while (this.keys.size > MAX_KEYS) {
      const oldest = this.keys.keys().next().value as string;
      this.keys.delete(oldest);
      this.floor = seq;
    }
  }

  /** Records an invalidation that may cover any key (prefix, tag, clear, a gap in the bus). */
  wideInvalidation(): void {
    this.wide = ++this.seq;
  }
}
