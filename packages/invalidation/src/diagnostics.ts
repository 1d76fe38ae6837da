/**
 * Events on `node:diagnostics_channel`, named `stratacache:invalidation:<event>`.
 * Metrics (and anyone) subscribe by name, so invalidation never depends on
 * metrics. Label-worthy fields are bounded: the bus `channel` (topic), the
 * cache `namespace`, the operation, strategy and reason. Messages never carry
 * the invalidated keys or tags, only how many there were.
 */
import { defineChannels } from '@stratacache/core-client';
import type { InvalidationEventsByKey, InvalidationOpName, TypedPublisher } from './events.js';
import type { InvalidationOp } from './wire.js';

const invalidation = defineChannels('invalidation', {
  /** `{ channel, namespace, op, items }`: this instance published an invalidation. */
  published: 'published',
  /** `{ channel, namespace, op, items, delayMs }`: a message from another instance arrived (`delayMs` by the sender's clock). */
  received: 'received',
  /** `{ channel, reason: 'sequence' | 'resubscribed', missed?, downtimeMs? }`: messages were lost. */
  gap: 'gap',
  /** `{ channel, namespace, reason: 'gap' | 'resubscribed' | 'message' }`: local memory tiers were cleared. */
  clear: 'clear',
  /** `{ channel }`: the bus is subscribed (at start, and again after a reconnect). */
  connected: 'connected',
  /** `{ channel, reason: 'connection-lost' | 'stopped' }`: the bus stopped hearing messages. */
  disconnected: 'disconnected',
  /** `{ channel, namespace, op, queued }`: a publish failed and was queued for a retry. */
  publishFailed: 'publish-failed',
  /** `{ channel, count, reason }`: queued messages were given up. */
  dropped: 'dropped',
  /** `{ namespace, strategy, target, count }`: an invalidator call ended (see the README for the values). */
  invalidated: 'invalidated',
});

/** Channel names published by @stratacache/invalidation. */
export const InvalidationChannels = invalidation.names;

/** `publish` and `listening` of the invalidation channels, each payload checked against its type (`events.ts`). */
export const diagnostics: TypedPublisher<InvalidationEventsByKey> = invalidation;

const OP_NAMES: Readonly<Record<InvalidationOp, InvalidationOpName>> = {
  dk: 'delete-keys',
  ek: 'expire-keys',
  dp: 'delete-prefixes',
  dt: 'delete-tags',
  et: 'expire-tags',
  c: 'clear',
  ev: 'event',
};

/** The readable name of a wire operation, as events carry it. */
export function opName(op: InvalidationOp): InvalidationOpName {
  return OP_NAMES[op];
}
