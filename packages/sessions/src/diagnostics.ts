/**
 * Events on `node:diagnostics_channel`, named `stratacache:sessions:<event>`.
 * Messages never carry a session id, a value or a user agent: at most the
 * namespace, the user id and counts.
 */
import { defineChannels } from '@stratacache/core-client';
import type { SessionEventsByKey } from './events.js';

const sessions = defineChannels('sessions', {
  /** `{ namespace, userId }`: a session was created. */
  created: 'created',
  /** `{ namespace, userId?, count }`: sessions were destroyed (logout, destroyAllForUser, revoke). */
  destroyed: 'destroyed',
  /** `{ namespace, count }`: sessions were found expired (by a read, an index cleanup or a sweep). */
  expired: 'expired',
  /** `{ namespace, userId, count }`: sessions were evicted by the per-user limit ('evict-oldest'). */
  evicted: 'evicted',
  /** `{ namespace, userId, limit }`: a new session was refused by the per-user limit ('reject'). */
  rejected: 'rejected',
  /** `{ namespace, userId }`: a session got a new id. */
  regenerated: 'regenerated',
  /** `{ namespace, userId, kind: 'ip' | 'ua', enforced }`: a request did not match the session's binding. */
  bindingMismatch: 'binding-mismatch',
  /** `{ namespace, cause }`: a stored value failed authentication or could not be decoded. */
  tampered: 'tampered',
  /** `{ namespace, reason }`: the express/fastify store refused to write a session id it did not issue, or one that ended. */
  refused: 'refused',
});

/** Channel names published by @stratacache/sessions. */
export const SessionChannels = sessions.names;

type ChannelName = keyof typeof SessionChannels;

/** Publishes `message` on the named sessions channel when anyone listens (typed by `events.ts`). */
export function publish<K extends ChannelName>(name: K, message: SessionEventsByKey[K]): void {
  sessions.publish(name, message);
}
