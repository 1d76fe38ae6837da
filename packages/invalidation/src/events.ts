/**
 * The payload of every invalidation channel, as types: what a subscriber
 * receives on `stratacache:invalidation:<event>`. `InvalidationEvents` maps each
 * full channel name to its payload. The publishing side is checked against the
 * same types (`diagnostics.ts`), so they cannot drift from what is published.
 * Every field is bounded (label-worthy); messages never carry keys or tags.
 */
import type { InvalidationChannels } from './diagnostics.js';
import type { InvalidationStrategy } from './invalidator.js';

/** An operation as events name it (the wire's short codes spelled out). */
export type InvalidationOpName =
  | 'delete-keys'
  | 'expire-keys'
  | 'delete-prefixes'
  | 'delete-tags'
  | 'expire-tags'
  | 'clear'
  | 'event';

/** `published`: this instance published an invalidation. */
export type BusPublishedEvent = {
  /** The bus topic. */
  channel: string;
  /** The cache namespace (`'*'`: every namespace). */
  namespace: string;
  op: InvalidationOpName;
  /** How many keys, prefixes or tags the message carries. */
  items: number;
};

/** `received`: a message from another instance arrived. */
export type BusReceivedEvent = BusPublishedEvent & {
  /** From the sender's send time to now, by the sender's and this process's clocks (0 when negative). */
  delayMs: number;
};

/** `gap`: messages were lost (a sequence number jumped, or the subscriber reconnected). */
export type BusGapEvent = {
  channel: string;
  reason: 'sequence' | 'resubscribed';
  /** With `reason: 'sequence'`: how many messages went missing. */
  missed?: number;
  /** With `reason: 'resubscribed'`: how long the subscriber was away. */
  downtimeMs?: number;
};

/** `clear`: local memory tiers were cleared. */
export type BusClearEvent = {
  channel: string;
  namespace: string;
  reason: 'gap' | 'resubscribed' | 'message';
};

/** `connected`: the bus is subscribed (at start, and again after a reconnect). */
export type BusConnectedEvent = {
  channel: string;
};

/** `disconnected`: the bus stopped hearing messages. */
export type BusDisconnectedEvent = {
  channel: string;
  reason: 'connection-lost' | 'stopped';
};

/** `publish-failed`: a publish failed and was queued for a retry. */
export type BusPublishFailedEvent = {
  channel: string;
  namespace: string;
  op: InvalidationOpName;
  /** Messages queued now. */
  queued: number;
};

/** `dropped`: queued messages were given up. */
export type BusDroppedEvent = {
  channel: string;
  count: number;
  reason: 'stopped' | 'queue-full';
};

/** What an invalidator call acted on. */
export type InvalidationTarget = 'key' | 'prefix' | 'pattern' | 'tag' | 'namespace';

/** `invalidated`: an invalidator call ended. */
export type InvalidatedEvent = {
  namespace: string;
  strategy: InvalidationStrategy;
  target: InvalidationTarget;
  /** As the call returns it (tags: how many tags). */
  count: number;
};

/** Payloads by the short event keys of `InvalidationChannels` (`published`, `publishFailed`, ...). */
export interface InvalidationEventsByKey {
  published: BusPublishedEvent;
  received: BusReceivedEvent;
  gap: BusGapEvent;
  clear: BusClearEvent;
  connected: BusConnectedEvent;
  disconnected: BusDisconnectedEvent;
  publishFailed: BusPublishFailedEvent;
  dropped: BusDroppedEvent;
  invalidated: InvalidatedEvent;
}

/**
 * Payloads by full channel name: `InvalidationEvents[typeof InvalidationChannels.gap]` is
 * `BusGapEvent`.
 */
export type InvalidationEvents = {
  [K in keyof InvalidationEventsByKey as (typeof InvalidationChannels)[K]]: InvalidationEventsByKey[K];
};

/** A channel set whose `publish` takes each event's own payload type (a type over core-client's `defineChannels`; internal). */
export type TypedPublisher<M> = {
  publish<K extends keyof M & string>(event: K, message: M[K]): void;
  listening(event: keyof M & string): boolean;
};
