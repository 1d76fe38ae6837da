/**
 * Events on `node:diagnostics_channel`, named `stratacache:sessions:<event>`.
 * Messages never carry a session id, a value or a user agent: at most the
 * namespace, the user id and counts.
 */
import { channel } from 'node:diagnostics_channel';

/** Channel names published by @stratacache/sessions. */
export const SessionChannels = Object.freeze({
  /** `{ namespace, userId }`: a session was created. */
  created: 'stratacache:sessions:created',
  /** `{ namespace, userId?, count }`: sessions were destroyed (logout, destroyAllForUser, revoke). */
  destroyed: 'stratacache:sessions:destroyed',
  /** `{ namespace, count }`: sessions were found expired (by a read, an index cleanup or a sweep). */
  expired: 'stratacache:sessions:expired',
  /** `{ namespace, userId, count }`: sessions were evicted by the per-user limit ('evict-oldest'). */
  evicted: 'stratacache:sessions:evicted',
  /** `{ namespace, userId, limit }`: a new session was refused by the per-user limit ('reject'). */
  rejected: 'stratacache:sessions:rejected',
  /** `{ namespace, userId }`: a session got a new id. */
  regenerated: 'stratacache:sessions:regenerated',
  /** `{ namespace, userId, kind: 'ip' | 'ua', enforced }`: a request did not match the session's binding. */
  bindingMismatch: 'stratacache:sessions:binding-mismatch',
  /** `{ namespace, cause }`: a stored value failed authentication or could not be decoded. */
  tampered: 'stratacache:sessions:tampered',
  /** `{ namespace, reason }`: the express/fastify store refused to write a session id it did not issue, or one that ended. */
  refused: 'stratacache:sessions:refused',
});

type ChannelName = keyof typeof SessionChannels;

const channels = Object.fromEntries(
  Object.entries(SessionChannels).map(([name, full]) => [name, channel(full)]),
) as Record<ChannelName, ReturnType<typeof channel>>;

/** Publishes `message` on the named sessions channel when anyone listens. */
export function publish(name: ChannelName, message: Record<string, unknown>): void {
  const target = channels[name];
  if (target.hasSubscribers) target.publish(message);
}
