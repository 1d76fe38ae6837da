/**
 * The payload of every sessions channel, as types: what a subscriber receives
 * on `stratacache:sessions:<event>`. `SessionEvents` maps each full channel
 * name to its payload. The publishing side is checked against the same types
 * (`diagnostics.ts`), so they cannot drift from what is published. Messages
 * never carry a session id, a value or a user agent; `userId` is the
 * application's user id (`null` for anonymous sessions): not for labels.
 */
import type { SessionChannels } from './diagnostics.js';

/** `created`: a session was created. */
export type SessionCreatedEvent = { namespace: string; userId: string | null };

/** `destroyed`: sessions were destroyed (logout, destroyAllForUser, revoke). */
export type SessionDestroyedEvent = { namespace: string; userId?: string | null; count: number };

/** `expired`: sessions were found expired (by a read, an index cleanup or a sweep). */
export type SessionExpiredEvent = { namespace: string; count: number };

/** `evicted`: sessions were evicted by the per-user limit (`'evict-oldest'`). */
export type SessionEvictedEvent = { namespace: string; userId: string | null; count: number };

/** `rejected`: a new session was refused by the per-user limit (`'reject'`). */
export type SessionRejectedEvent = { namespace: string; userId: string | null; limit: number };

/** `regenerated`: a session got a new id. */
export type SessionRegeneratedEvent = { namespace: string; userId: string | null };

/** `binding-mismatch`: a request did not match the session's IP or user-agent binding. */
export type SessionBindingMismatchEvent = {
  namespace: string;
  /** Present when the session could be read (detect mode), absent when an enforced binding refused it. */
  userId?: string | null;
  kind: 'ip' | 'ua';
  /** `true`: the request was refused; `false`: detect mode, reported only. */
  enforced: boolean;
};

/** `tampered`: a stored value failed authentication or could not be decoded. */
export type SessionTamperedEvent = { namespace: string; cause: string };

/** `refused`: a framework store refused to write a session (`'not-issued'`, `'ended'`, `'malformed-id'`). */
export type SessionRefusedEvent = { namespace: string; reason: string };

/** Payloads by the short event keys of `SessionChannels` (`created`, `bindingMismatch`, ...). */
export interface SessionEventsByKey {
  created: SessionCreatedEvent;
  destroyed: SessionDestroyedEvent;
  expired: SessionExpiredEvent;
  evicted: SessionEvictedEvent;
  rejected: SessionRejectedEvent;
  regenerated: SessionRegeneratedEvent;
  bindingMismatch: SessionBindingMismatchEvent;
  tampered: SessionTamperedEvent;
  refused: SessionRefusedEvent;
}

/** Payloads by full channel name: `SessionEvents[typeof SessionChannels.created]` is `SessionCreatedEvent`. */
export type SessionEvents = {
  [K in keyof SessionEventsByKey as (typeof SessionChannels)[K]]: SessionEventsByKey[K];
};
