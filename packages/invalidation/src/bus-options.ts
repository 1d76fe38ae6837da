/** Options of the invalidation bus, resolved once. */
import { check, type Duration, failOption } from '@stratacache/core-client';

/** Options of `createInvalidationBus`. */
export interface InvalidationBusOptions {
  /** Channel (topic) name. @default 'invalidation' */
  channel?: string;
  /** Pub/sub namespace of the channel. @default 'events' */
  pubsubNamespace?: string;
  /** Most messages kept for retry while publishing fails; past it they collapse into one clear. @default 1000 */
  maxRetryQueue?: number;
  /** How often the retry queue is flushed while it holds messages (ms, or `'1s'`). @default '1s' */
  retryInterval?: Duration;
  /**
   * The same as `retryInterval`, in ms.
   * @deprecated Use `retryInterval`; this name goes in the next major version.
   */
  retryIntervalMs?: number;
  /** This instance's id. @default random */
  instanceId?: string;
  /**
   * Sharded pub/sub (SSUBSCRIBE / SPUBLISH, Redis 7): the channel lives on the
   * one master owning its slot, so every message of a sender reaches every
   * receiver in the order it was sent. Plain PUBLISH on Cluster goes through
   * any node and is forwarded over the cluster bus, so consecutive messages
   * can arrive out of order. Every instance of a channel must use the same
   * setting (a sharded and a plain instance do not hear each other).
   * @default true on Cluster, false on standalone and Sentinel
   */
  sharded?: boolean;
}

/** {@link InvalidationBusOptions} with defaults applied. */
export interface ResolvedInvalidationBusOptions {
  readonly channel: string;
  readonly pubsubNamespace: string;
  readonly maxRetryQueue: number;
  readonly retryIntervalMs: number;
  /** Undefined when a random id is to be drawn. */
  readonly instanceId: string | undefined;
  /** Undefined: decided by the client's topology (sharded on Cluster). */
  readonly sharded: boolean | undefined;
}

/** Resolves the bus's options; a bad one throws `ConfigError` naming it. */
export function resolveInvalidationBusOptions(options: InvalidationBusOptions = {}): ResolvedInvalidationBusOptions {
  const o = check.object<InvalidationBusOptions>(options, 'options');
  if (o.retryInterval !== undefined && o.retryIntervalMs !== undefined) {
    failOption('retryIntervalMs', 'cannot be combined with retryInterval (its new name)', o.retryIntervalMs);
  }
  return Object.freeze({
    channel: check.name(o.channel ?? 'invalidation', 'channel'),
    pubsubNamespace: check.namespace(o.pubsubNamespace ?? 'events', 'pubsubNamespace'),
    maxRetryQueue: check.positiveInt(o.maxRetryQueue ?? 1000, 'maxRetryQueue'),
    // A zero interval would retry in a tight loop while Redis is down.
    retryIntervalMs:
      o.retryIntervalMs !== undefined
        ? check.positiveDuration(checkMs(o.retryIntervalMs, 'retryIntervalMs'), 'retryIntervalMs')
        : check.positiveDuration(o.retryInterval ?? '1s', 'retryInterval'),
    instanceId: o.instanceId === undefined ? undefined : check.name(o.instanceId, 'instanceId'),
    sharded: o.sharded === undefined ? undefined : check.boolean(o.sharded, 'sharded'),
  });
}

/** An option whose name says milliseconds takes a number only (not `'1s'`). */
function checkMs(value: unknown, option: string): number {
  if (typeof value !== 'number') failOption(option, 'must be a number of milliseconds', value);
  return value;
}
