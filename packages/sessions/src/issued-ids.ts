/**
 * The ids this process issued to the store adapters (`issueId()`, for
 * express-session's `genid` and @fastify/session's `idGenerator`) that no
 * `put` has used yet. Only such an id may create a session through `put`,
 * so a client can never pick its own session id. An id waits 10 minutes at
 * most, and at most 10,000 wait (the oldest are dropped first).
 */
import { generateSessionId } from './ids.js';

/** How long an id from `issueId()` may wait for its first `put`. */
const PENDING_TTL_MS = 10 * 60_000;
/** Most ids waiting for their first `put` (oldest dropped first). */
const PENDING_LIMIT = 10_000;

/** @internal Ids issued by this process and not used yet (see the module comment). */
export class IssuedIds {
  private readonly pending = new Map<string, number>();

  /** A new id, remembered for its first `put`. */
  issue(): string {
    const now = Date.now();
    for (const [id, at] of this.pending) {
      if (at > now && this.pending.size < PENDING_LIMIT) break;
      this.pending.delete(id); // oldest first: expired ones, and any over the limit
    }
    const id = generateSessionId();
    this.pending.set(id, now + PENDING_TTL_MS);
    return id;
  }

  /** True when `id` was issued here, has not expired and has not been used. */
  has(id: string): boolean {
    return (this.pending.get(id) ?? 0) > Date.now();
  }

  /** `id` created its session: it cannot create another. */
  used(id: string): void {
    this.pending.delete(id);
  }
}
