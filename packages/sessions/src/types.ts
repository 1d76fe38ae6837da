/**
 * The types of what the session manager takes and returns: sessions, their
 * times, invalid results (as data), analytics, and the options of its calls.
 */
import type { Duration } from '@stratacache/core-client';

/** Why a session id did not yield a session. */
export type InvalidReason = 'expired' | 'ip-mismatch' | 'ua-mismatch' | 'unknown' | 'tampered';

/** A session id that did not yield a session, as data. */
export interface InvalidSession {
  readonly valid: false;
  readonly reason: InvalidReason;
}

/** A binding that did not match in `'detect'` mode: reported, not enforced. */
export type BindingWarning = 'ip-mismatch' | 'ua-mismatch';

/** Times of a session, in ms since the epoch, on the Redis server's clock. */
export interface SessionTimes {
  /** When it was created (kept by `regenerate`). */
  readonly createdAt: number;
  /** The last `get`, `touch`, `update` or save. */
  readonly lastSeenAt: number;
  /** When it ends unless used again: the idle timeout from `lastSeenAt`, capped by `absoluteExpiresAt`. */
  readonly expiresAt: number;
  /** When it ends however active it is. Never moves. */
  readonly absoluteExpiresAt: number;
}

/** A live session. */
export interface Session<T = unknown> extends SessionTimes {
  readonly valid: true;
  /** The session id (what the cookie carries). */
  readonly id: string;
  /** The user it belongs to; `null` for an anonymous session (express/fastify before login). */
  readonly userId: string | null;
  /** The application's data. */
  readonly data: T;
  /** The address it was created (or last regenerated) from, when one was given. */
  readonly ip: string | undefined;
  /** Bindings that did not match in `'detect'` mode. Empty when all matched or none is on. */
  readonly warnings: readonly BindingWarning[];
}

/** A session as `list()` shows it: a `ref` instead of the id, which the store does not know. */
export interface SessionInfo<T = unknown> extends SessionTimes {
  /** An opaque reference (the HMAC of the id), for `revoke(userId, ref)`. */
  readonly ref: string;
  readonly userId: string | null;
  readonly data: T;
  readonly ip: string | undefined;
}

/** What `create` returns: the new session, or a refusal by the per-user limit. */
export type CreateResult<T = unknown> =
  | { readonly created: true; readonly id: string; readonly session: Session<T>; readonly evicted: number }
  | { readonly created: false; readonly reason: 'limit'; readonly limit: number };

/** The request a session is created for or read by. */
export interface RequestContext {
  /** The client's address as you trust it (behind a proxy: the address your proxy reports). */
  ip?: string;
  /** The User-Agent header. */
  userAgent?: string;
}

/** Options of `get`. */
export interface GetOptions extends RequestContext {
  /** Slide the idle timeout (counts as activity). @default true */
  touch?: boolean;
}

/** Options of `regenerate`. */
export interface RegenerateOptions extends RequestContext {}

/** Options of `put`, the low-level save used by the express/fastify stores. */
export interface PutOptions {
  /** Idle timeout of this session (express: the cookie's maxAge), never past the absolute timeout. @default the manager's idleTimeout */
  idleTimeout?: Duration;
}

/** What `put` did. */
export type PutResult = 'saved' | 'created' | 'rejected' | 'refused';

/** Cross-instance analytics, from Redis. */
export interface SessionStats {
  /** Live sessions now. */
  readonly active: number;
  /** Live sessions used within `windowMs`. */
  readonly activeWithin: { readonly windowMs: number; readonly count: number };
  /** Sessions created since the namespace was cleared. */
  readonly created: number;
  /** Sessions ended by `destroy`, `destroyAllForUser` or `revoke`. */
  readonly destroyed: number;
  /** Sessions that ran out of time (counted when found). */
  readonly expired: number;
  /** Sessions destroyed by the per-user limit (`'evict-oldest'`). */
  readonly evicted: number;
  /** New sessions refused by the per-user limit (`'reject'`). */
  readonly rejected: number;
  /** Sessions given a new id. */
  readonly regenerated: number;
  /** Reads refused because the IP or user agent did not match (enforced bindings). */
  readonly bindingMismatches: number;
  /** How long ended sessions lived: count, sum and a cumulative histogram (`le` in ms, last is Infinity). */
  readonly durations: {
    readonly count: number;
    readonly sumMs: number;
    readonly averageMs: number;
    readonly buckets: readonly { readonly le: number; readonly count: number }[];
  };
}
