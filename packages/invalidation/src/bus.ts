/**
 * The invalidation bus: every instance's memory tiers hear about every
 * invalidation, and nothing is silently dropped.
 *
 * - Messages carry the sender's instance id (an instance ignores its own) and
 *   a sequence number, so a receiver detects a gap even without a reconnect.
 * - A failed publish goes to a bounded retry queue, deduplicated per key (the
 *   newest kept); when the queue overflows it collapses into one `clear`.
 * - On core-client's `resubscribed` event (messages sent while the subscriber
 *   was away are gone) or on a sequence gap, every target clears.
 * - On Cluster the channel is sharded (SSUBSCRIBE / SPUBLISH): one master
 *   carries it, so a sender's messages arrive in order and a jump in its
 *   sequence is a real loss. With plain PUBLISH, which any node accepts and
 *   forwards, 1,000 quick invalidations from one instance arrived out of order
 *   often enough to be taken for dozens of gaps, each clearing every memory tier.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { check, type PubSub, type StrataRedis, type Subscription } from '@stratacache/core-client';
import {
  type InvalidationBusOptions,
  type ResolvedInvalidationBusOptions,
  resolveInvalidationBusOptions,
} from './bus-options.js';
import { diagnostics, opName } from './diagnostics.js';
import type { LocalTarget } from './targets.js';
import { checkOutgoing, type InvalidationOp, parseWire, WIRE_VERSION, type WireMessage } from './wire.js';

export type { InvalidationBusOptions } from './bus-options.js';

/** An incoming (or local) invalidation, as `onInvalidation` handlers see it. */
export interface InvalidationEvent {
  op: InvalidationOp;
  namespace: string;
  items: string[];
  /** Application payload of `ev` messages. */
  payload?: unknown;
  from: string;
  local: boolean;
  at: number;
}

/**
 * The bus. Events: `gap` ({ from, expected, got } or { downtimeMs }),
 * `publish-error`, `message-error`, `dropped` ({ count, reason }).
 */
export class InvalidationBus extends EventEmitter {
  readonly instanceId: string;
  private seq = 0;
  private readonly lastSeen = new Map<string, number>();
  private readonly targets = new Set<LocalTarget>();
  private readonly handlers = new Set<(event: InvalidationEvent) => void>();
  private readonly retry = new Map<string, WireMessage>();
  private retryTimer: NodeJS.Timeout | undefined;
  private subscription: Subscription | undefined;
  private readonly topic: string;
  private readonly maxRetry: number;
  private readonly retryIntervalMs: number;
  private onResubscribed: ((e: { downtimeMs: number }) => void) | undefined;
  private onDisconnected: (() => void) | undefined;
  private pubsub: PubSub | undefined;
  /** The resolved options (frozen). */
  readonly options: ResolvedInvalidationBusOptions;
  /** Whether the channel is sharded (SSUBSCRIBE / SPUBLISH): `options.sharded`, or true on Cluster. */
  readonly sharded: boolean;
  private readonly redis: StrataRedis;

  constructor(redis: StrataRedis, options: InvalidationBusOptions = {}) {
    super();
    this.redis = check.strataRedis(redis, 'redis');
    this.options = resolveInvalidationBusOptions(options);
    this.instanceId = this.options.instanceId ?? randomBytes(9).toString('base64url');
    this.topic = this.options.channel;
    this.maxRetry = this.options.maxRetryQueue;
    this.retryIntervalMs = this.options.retryIntervalMs;
    this.sharded = this.options.sharded ?? redis.mode === 'cluster';
  }

  private starting: Promise<void> | undefined;

  /** Subscribes to the channel; call before relying on remote invalidations. Idempotent. */
  start(): Promise<void> {
    this.starting ??= this.subscribe().catch((error) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  private async subscribe(): Promise<void> {
    const pubsub = this.redis.pubsub(this.options.pubsubNamespace);
    this.onResubscribed = ({ downtimeMs }) => {
      // Whatever was published while we were away is gone: local state cannot be trusted.
      this.lastSeen.clear();
      diagnostics.publish('gap', { channel: this.topic, reason: 'resubscribed', downtimeMs });
      this.clearTargets('*', 'resubscribed');
      this.emit('gap', { downtimeMs });
      diagnostics.publish('connected', { channel: this.topic });
    };
    this.onDisconnected = () => diagnostics.publish('disconnected', { channel: this.topic, reason: 'connection-lost' });
    pubsub.on('resubscribed', this.onResubscribed);
    pubsub.on('disconnected', this.onDisconnected);
    try {
      this.subscription = await pubsub.subscribe(this.topic, (message) => this.receive(message), {
        sharded: this.sharded,
      });
    } catch (error) {
      pubsub.off('resubscribed', this.onResubscribed);
      pubsub.off('disconnected', this.onDisconnected);
      throw error;
    }
    this.pubsub = pubsub;
    diagnostics.publish('connected', { channel: this.topic });
  }

  /**
   * True while the bus is started and its subscriber connection is up and
   * subscribed: remote invalidations are being heard. For readiness checks.
   */
  get connected(): boolean {
    return this.subscription !== undefined && (this.pubsub?.connected ?? false);
  }

  /** Stops listening and flushing. */
  async stop(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    // Last chance for queued invalidations; what still fails is reported, not dropped silently.
    if (this.retry.size > 0 && (await this.flush().catch(() => this.retry.size)) > 0) {
      this.emit('dropped', { count: this.retry.size, reason: 'stopped with publishes still failing' });
      diagnostics.publish('dropped', { channel: this.topic, count: this.retry.size, reason: 'stopped' });
    }
    this.starting = undefined;
    if (this.onResubscribed) this.redis.pubsub(this.options.pubsubNamespace).off('resubscribed', this.onResubscribed);
    if (this.onDisconnected) this.pubsub?.off('disconnected', this.onDisconnected);
    const wasSubscribed = this.subscription !== undefined;
    await this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.pubsub = undefined;
    if (wasSubscribed) diagnostics.publish('disconnected', { channel: this.topic, reason: 'stopped' });
  }

  /** Registers an in-memory tier; returns a function that unregisters it. */
  register(target: LocalTarget): () => void {
    check.function(check.object<LocalTarget>(target, 'target').clearLocal, 'target.clearLocal');
    this.targets.add(target);
    return () => this.targets.delete(target);
  }

  /** Calls `handler` for every invalidation, remote and local (the event broker). */
  onInvalidation(handler: (event: InvalidationEvent) => void): () => void {
    check.function(handler, 'handler');
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Publishes an application-level invalidation event (`emit_invalidation` of the seeds). */
  emitInvalidation(namespace: string, payload: unknown): Promise<void> {
    return this.publish('ev', namespace, payload);
  }

  /** Messages waiting for a retry. */
  get pending(): number {
    return this.retry.size;
  }

  /**
   * Publishes an invalidation to every other instance (and tells local
   * handlers). `at` is the invalidation's time on the Redis clock (default:
   * now). A failed publish never throws: it is queued for retry. Bad arguments
   * (an unknown op, items that are not strings) throw `ConfigError` before anything is sent.
   */
  async publish(op: InvalidationOp, namespace: string, data: unknown, at?: number): Promise<void> {
    checkOutgoing(op, namespace, data);
    const message: WireMessage = {
      v: WIRE_VERSION,
      i: this.instanceId,
      s: ++this.seq,
      n: namespace,
      o: op,
      d: data,
      // On the Redis clock, as every invalidation time: receivers compare it with entries' times.
      t: at ?? this.redis.clock.now(),
    };
    this.dispatch(message, true);
    if (diagnostics.listening('published')) {
      diagnostics.publish('published', { channel: this.topic, namespace, op: opName(op), items: countOf(data) });
    }
    await this.send(message);
  }

  /** Sends queued messages now; resolves how many are still queued. */
  async flush(): Promise<number> {
    const queued = [...this.retry.values()];
    this.retry.clear();
    for (const message of queued) {
      // A retried message gets a fresh sequence number: receivers must see an unbroken count.
      await this.send({ ...message, s: ++this.seq });
    }
    return this.retry.size;
  }

  private async send(message: WireMessage): Promise<void> {
    try {
      await this.redis.run('publish', () =>
        this.redis.pubsub(this.options.pubsubNamespace).publish(this.topic, message, { sharded: this.sharded }),
      );
    } catch (error) {
      this.emit('publish-error', error);
      this.enqueue(message);
      diagnostics.publish('publishFailed', {
        channel: this.topic,
        namespace: message.n,
        op: opName(message.o),
        queued: this.retry.size,
      });
    }
  }

  private enqueue(message: WireMessage): void {
    // A queued clear of everything already covers any later invalidation.
    if (this.retry.has('c:*') && message.o !== 'ev') return;
    const items = Array.isArray(message.d) ? (message.d as string[]) : [];
    if (message.o === 'c' || message.o === 'ev' || items.length === 0) {
      this.retry.set(`${message.o}:${message.n}:${message.s}`, message);
    } else {
      // One entry per item: a newer invalidation of the same key replaces the older one.
      for (const item of items) this.retry.set(`${message.o}:${message.n}:${item}`, { ...message, d: [item] });
    }
    const invalidations = [...this.retry.keys()].filter((k) => !k.startsWith('ev:'));
    if (invalidations.length > this.maxRetry) {
      // Too much to remember: one clear of every namespace says it all for invalidations.
      for (const key of invalidations) this.retry.delete(key);
      this.retry.set('c:*', { ...message, o: 'c', n: '*', d: null });
    }
    const events = [...this.retry.keys()].filter((k) => k.startsWith('ev:'));
    if (events.length > this.maxRetry) {
      // Application events cannot be summarised: the oldest go, and the loss is reported.
      for (const key of events.slice(0, events.length - this.maxRetry)) this.retry.delete(key);
      this.emit('dropped', { count: events.length - this.maxRetry, reason: 'application event retry queue full' });
      diagnostics.publish('dropped', {
        channel: this.topic,
        count: events.length - this.maxRetry,
        reason: 'queue-full',
      });
    }
    this.retryTimer ??= setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, this.retryIntervalMs);
    this.retryTimer.unref?.();
  }

  private receive(raw: unknown): void {
    const message = parseWire(raw);
    if (!message) {
      this.emit('message-error', new Error('Malformed invalidation message ignored'));
      return;
    }
    if (message.i === this.instanceId) return;
    const last = this.lastSeen.get(message.i);
    // Never regress: with plain PUBLISH on Cluster (sharded: false) messages can arrive out of order.
    if (last === undefined || message.s > last) {
      this.lastSeen.set(message.i, message.s);
      if (this.lastSeen.size > 10_000) this.lastSeen.delete(this.lastSeen.keys().next().value as string);
    }
    if (last !== undefined && message.s > last + 1) {
      // Messages from this sender went missing: anything local may be stale.
      this.emit('gap', { from: message.i, expected: last + 1, got: message.s });
      diagnostics.publish('gap', { channel: this.topic, reason: 'sequence', missed: message.s - last - 1 });
      this.clearTargets('*', 'gap');
    }
    if (diagnostics.listening('received')) {
      diagnostics.publish('received', {
        channel: this.topic,
        namespace: message.n,
        op: opName(message.o),
        items: countOf(message.d),
        delayMs: Math.max(0, Date.now() - message.t),
      });
    }
    this.dispatch(message, false);
  }

  private dispatch(message: WireMessage, local: boolean): void {
    const items = Array.isArray(message.d) ? (message.d as string[]) : [];
    if (message.o === 'c' && this.targets.size > 0) {
      diagnostics.publish('clear', { channel: this.topic, namespace: message.n, reason: 'message' });
    }
    for (const target of this.targets) {
      if (target.namespace !== undefined && message.n !== '*' && target.namespace !== message.n) continue;
      try {
        applyTo(target, message.o, items, message.t);
      } catch (error) {
        this.emit('message-error', error);
      }
    }
    const event: InvalidationEvent = {
      op: message.o,
      namespace: message.n,
      items,
      from: message.i,
      local,
      at: message.t,
      ...(message.o === 'ev' ? { payload: message.d } : {}),
    };
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch (error) {
        this.emit('message-error', error);
      }
    }
  }

  private clearTargets(namespace: string, reason: 'gap' | 'resubscribed'): void {
    if (this.targets.size > 0) diagnostics.publish('clear', { channel: this.topic, namespace, reason });
    for (const target of this.targets) {
      if (namespace !== '*' && target.namespace !== undefined && target.namespace !== namespace) continue;
      try {
        target.clearLocal();
      } catch (error) {
        this.emit('message-error', error);
      }
    }
  }
}

/** How many keys, prefixes or tags a message names (0 for a clear or an application event). */
function countOf(data: unknown): number {
  return Array.isArray(data) ? data.length : 0;
}

function applyTo(target: LocalTarget, op: InvalidationOp, items: string[], at: number): void {
  switch (op) {
    case 'dk':
      if (target.deleteLocal) target.deleteLocal(items);
      else target.clearLocal();
      return;
    case 'ek':
      if (target.expireLocal) target.expireLocal(items, at);
      else if (target.deleteLocal) target.deleteLocal(items);
      else target.clearLocal();
      return;
    case 'dp':
      if (target.deleteLocalByPrefix) target.deleteLocalByPrefix(items);
      else target.clearLocal();
      return;
    case 'dt':
      if (target.deleteLocalByTags) target.deleteLocalByTags(items);
      else target.clearLocal();
      return;
    case 'et':
      if (target.expireLocalByTags) target.expireLocalByTags(items, at);
      else if (target.deleteLocalByTags) target.deleteLocalByTags(items);
      else target.clearLocal();
      return;
    case 'c':
      target.clearLocal();
      return;
    case 'ev':
      return;
  }
}

/** Creates a bus; call `start()` to begin receiving. */
export function createInvalidationBus(redis: StrataRedis, options?: InvalidationBusOptions): InvalidationBus {
  return new InvalidationBus(redis, options);
}
