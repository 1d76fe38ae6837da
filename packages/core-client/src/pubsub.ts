/**
 * Pub/sub on a dedicated subscriber connection: namespaced channels, pattern
 * subscriptions, handlers routed by topic with an optional filter, JSON or
 * binary payloads.
 *
 * After a reconnect it resubscribes every channel itself and then emits
 * `resubscribed` with how long it was away: messages published meanwhile are
 * lost (Redis pub/sub keeps nothing), so layers with local state must
 * reconcile on that event (the invalidation bus clears its memory tiers).
 *
 * On Cluster, sharded channels (SSUBSCRIBE) live on the connection ioredis
 * keeps to the master owning their slot, not on the client as a whole: when
 * that connection is lost (the master failed over, the connection was
 * killed), the client stays "ready". The loss is seen on the `-node` event
 * for the owner of one of our shard channels; once ioredis has a subscriber
 * for the slot again (`subscribersReady`, or a retry every second), the
 * channels are subscribed again here and `resubscribed` is emitted, as after
 * any reconnect.
 */
import { EventEmitter } from 'node:events';
import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import { publishDiagnostic } from './diagnostics.js';
import { assertWellFormed, escapeGlob, type KeyBuilder } from './keys.js';

/** Who sent a message, as handlers see it. */
export interface MessageMeta {
  /** The topic (the channel without its namespace). */
  topic: string;
  /** The full channel name. */
  channel: string;
  /** The pattern that matched, for pattern subscriptions. */
  pattern?: string;
}

/** A message handler; `T` is the JSON payload type (or Buffer in binary mode). */
export type MessageHandler<T> = (payload: T, meta: MessageMeta) => void;

/** Options of `subscribe` and `psubscribe`. */
export interface SubscribeOptions<T> {
  /**
   * Sharded pub/sub (SSUBSCRIBE, Redis 7): on Cluster the channel lives on the
   * shard that owns its slot instead of being broadcast to every node. Publish
   * with `{ sharded: true }` too. `subscribe` only.
   * @default false
   */
  sharded?: boolean;
  /** Deliver the payload as a Buffer instead of parsing JSON. @default false */
  binary?: boolean;
  /** Called before the handler; a message it rejects is not delivered. */
  filter?: (payload: T, meta: MessageMeta) => boolean;
}

/** A live subscription; `unsubscribe()` removes its handler (and the channel when it was the last). */
export interface Subscription {
  unsubscribe(): Promise<void>;
}

/** What `resubscribed` carries. */
export interface ResubscribedEvent {
  /** How long the subscriber was disconnected, in ms: messages of that window are lost. */
  downtimeMs: number;
  channels: string[];
  patterns: string[];
}

interface Entry {
  handler: MessageHandler<unknown>;
  binary: boolean;
  filter?: (payload: unknown, meta: MessageMeta) => boolean;
}

/** Handlers of one channel (or pattern), and the SUBSCRIBE every caller awaits. */
interface Channel {
  entries: Set<Entry>;
  subscribed: Promise<void>;
}

const KEY_ESCAPES: Readonly<Record<string, string>> = { '%25': '%', '%3A': ':', '%7B': '{', '%7D': '}' };

/**
 * Pub/sub for one namespace. Every namespace of a client shares one
 * subscriber connection; each routes only its own channels.
 * Events: `resubscribed`, `disconnected` (`{ since }`, once per outage), `message-error`.
 */
export class PubSub extends EventEmitter {
  private subscriber: Redis | Cluster | undefined;
  private readonly channels = new Map<string, Channel>();
  private readonly patterns = new Map<string, Channel>();
  private downSince: number | undefined;
  /** When the connection carrying a shard channel was lost (Cluster), until they are subscribed again. */
  private shardDownSince: number | undefined;
  private closed = false;
  private readonly topicStart: string;
  private detach: (() => void) | undefined;

  constructor(
    private readonly publisher: Redis | Cluster,
    private readonly sharedSubscriber: () => Redis | Cluster,
    private readonly keys: KeyBuilder,
    private readonly name = 'stratacache',
  ) {
    super();
    this.topicStart = keys.channel('x').slice(0, -1);
  }

  private readonly shardChannels = new Map<string, Channel>();

  /** The channel name of `topic` in this namespace. */
  channelOf(topic: string): string {
    return this.keys.channel(topic);
  }

  /**
   * Publishes `payload` (JSON, or a Buffer as is) on `topic`; resolves to the
   * number of receivers. `sharded` publishes with SPUBLISH.
   */
  async publish(topic: string, payload: unknown, options: { sharded?: boolean } = {}): Promise<number> {
    const data = Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    const channel = this.channelOf(topic);
    return options.sharded
      ? Number(await this.publisher.spublish(channel, data))
      : this.publisher.publish(channel, data);
  }

  /** Subscribes `handler` to `topic`. */
  async subscribe<T = unknown>(
    topic: string,
    handler: MessageHandler<T>,
    options: SubscribeOptions<T> = {},
  ): Promise<Subscription> {
    return options.sharded
      ? this.add(this.shardChannels, this.channelOf(topic), handler, options, 'shard')
      : this.add(this.channels, this.channelOf(topic), handler, options, 'channel');
  }

  /**
   * Subscribes `handler` to every topic matching `topicGlob` (`'user.*'`):
   * the namespace part is escaped, the glob is used as written.
   */
  async psubscribe<T = unknown>(
    topicGlob: string,
    handler: MessageHandler<T>,
    options: SubscribeOptions<T> = {},
  ): Promise<Subscription> {
    assertWellFormed(topicGlob, 'A topic glob');
    return this.add(this.patterns, `${escapeGlob(this.topicStart)}${topicGlob}`, handler, options, 'pattern');
  }

  /**
   * True while the subscriber connection is up and not waiting to resubscribe
   * (false before the first subscribe, after a disconnect, and once closed).
   */
  get connected(): boolean {
    return (
      !this.closed &&
      this.subscriber?.status === 'ready' &&
      this.downSince === undefined &&
      this.shardDownSince === undefined
    );
  }

  /** Channels and patterns currently subscribed. */
  subscriptions(): { channels: string[]; patterns: string[]; shardChannels: string[] } {
    return {
      channels: [...this.channels.keys()],
      patterns: [...this.patterns.keys()],
      shardChannels: [...this.shardChannels.keys()],
    };
  }

  /**
   * Unsubscribes this namespace's channels and stops routing. The shared
   * subscriber connection closes with the client. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const subscriber = this.subscriber;
    const channels = [...this.channels.keys()];
    const patterns = [...this.patterns.keys()];
    const shards = [...this.shardChannels.keys()];
    this.channels.clear();
    this.patterns.clear();
    this.shardChannels.clear();
    this.detach?.();
    if (subscriber?.status === 'ready') {
      await Promise.all([
        channels.length ? subscriber.unsubscribe(...channels) : undefined,
        patterns.length ? subscriber.punsubscribe(...patterns) : undefined,
        ...shards.map((c) => subscriber.sunsubscribe(c)),
      ]).catch(() => {});
    }
  }

  private async add<T>(
    table: Map<string, Channel>,
    name: string,
    handler: MessageHandler<T>,
    options: SubscribeOptions<T>,
    kind: 'channel' | 'pattern' | 'shard',
  ): Promise<Subscription> {
    if (this.closed) throw new Error('PubSub is closed');
    const entry: Entry = {
      handler: handler as MessageHandler<unknown>,
      binary: options.binary ?? false,
      filter: options.filter as Entry['filter'],
    };
    let channel = table.get(name);
    if (!channel) {
      const subscriber = this.connection();
      const subscribed = (async () => {
        if (kind === 'pattern') await subscriber.psubscribe(name);
        else if (kind === 'shard') await subscriber.ssubscribe(name);
        else await subscriber.subscribe(name);
      })();
      channel = { entries: new Set(), subscribed };
      table.set(name, channel);
      // One SUBSCRIBE per channel: every caller awaits it, and a failure removes the channel for all.
      subscribed.catch(() => {
        if (table.get(name) === channel) table.delete(name);
      });
    }
    channel.entries.add(entry);
    await channel.subscribed;
    const current = channel;
    return {
      unsubscribe: async () => {
        if (!current.entries.delete(entry) || current.entries.size > 0) return;
        if (table.get(name) === current) table.delete(name);
        if (this.subscriber && this.subscriber.status === 'ready') {
          if (kind === 'pattern') await this.subscriber.punsubscribe(name);
          else if (kind === 'shard') await this.subscriber.sunsubscribe(name);
          else await this.subscriber.unsubscribe(name);
        }
      },
    };
  }

  private connection(): Redis | Cluster {
    if (this.subscriber) return this.subscriber;
    const subscriber = this.sharedSubscriber();
    this.subscriber = subscriber;
    const onMessage = (channel: Buffer, message: Buffer) => {
      const name = channel.toString();
      this.deliver(this.channels.get(name), message, { topic: this.topicOf(name), channel: name });
    };
    const onShardMessage = (channel: Buffer, message: Buffer) => {
      const name = channel.toString();
      this.deliver(this.shardChannels.get(name), message, { topic: this.topicOf(name), channel: name });
    };
    const onPatternMessage = (pattern: Buffer, channel: Buffer, message: Buffer) => {
      const name = channel.toString();
      const patternName = pattern.toString();
      this.deliver(this.patterns.get(patternName), message, {
        topic: this.topicOf(name),
        channel: name,
        pattern: patternName,
      });
    };
    const onClose = () => {
      if (this.downSince !== undefined) return;
      this.downSince = Date.now();
      this.emit('disconnected', { since: this.downSince });
    };
    const onReady = () => {
      if (this.downSince === undefined) return;
      const downtimeMs = Date.now() - this.downSince;
      this.downSince = undefined;
      void this.resubscribe(subscriber, downtimeMs);
    };
    subscriber.on('messageBuffer', onMessage);
    subscriber.on('smessageBuffer', onShardMessage);
    subscriber.on('pmessageBuffer', onPatternMessage);
    subscriber.on('close', onClose);
    subscriber.on('ready', onReady);
    const unwatchShards = (subscriber as Cluster).isCluster ? this.watchShards(subscriber as Cluster) : undefined;
    this.detach = () => {
      subscriber.off('messageBuffer', onMessage);
      subscriber.off('smessageBuffer', onShardMessage);
      subscriber.off('pmessageBuffer', onPatternMessage);
      subscriber.off('close', onClose);
      subscriber.off('ready', onReady);
      unwatchShards?.();
    };
    return subscriber;
  }

  /** On Cluster: follows the loss and return of the connections carrying our shard channels. */
  private watchShards(subscriber: Cluster): () => void {
    let retry: NodeJS.Timeout | undefined;
    const again = () => {
      clearTimeout(retry);
      retry = undefined;
      if (this.closed || this.shardDownSince === undefined) return;
      const downtimeMs = Date.now() - this.shardDownSince;
      void this.resubscribeShards(subscriber, downtimeMs).then((done) => {
        // ioredis may not have a subscriber for the slot yet (the master is still failing over).
        if (!done && !this.closed) retry = setTimeout(again, 1000).unref();
      });
    };
    const onNodeGone = (_node: unknown, key: string) => {
      if (this.shardDownSince !== undefined || !this.carriesShard(subscriber, key)) return;
      this.shardDownSince = Date.now();
      if (this.downSince === undefined) this.emit('disconnected', { since: this.shardDownSince });
      retry = setTimeout(again, 1000).unref();
    };
    subscriber.on('-node', onNodeGone);
    subscriber.on('subscribersReady', again);
    return () => {
      clearTimeout(retry);
      subscriber.off('-node', onNodeGone);
      subscriber.off('subscribersReady', again);
    };
  }

  /** True when node `key` serves the slot of one of our shard channels. */
  private carriesShard(subscriber: Cluster, key: string): boolean {
    for (const channel of this.shardChannels.keys()) {
      if (subscriber.slots[calculateSlot(channel)]?.[0] === key) return true;
    }
    return false;
  }

  /** Subscribes the shard channels again; resolves whether that worked (then `resubscribed` was emitted). */
  private async resubscribeShards(subscriber: Cluster, downtimeMs: number): Promise<boolean> {
    const shardChannels = [...this.shardChannels.keys()];
    try {
      // SSUBSCRIBE is idempotent: a channel ioredis already subscribed again is confirmed here.
      for (const channel of shardChannels) await subscriber.ssubscribe(channel);
    } catch (error) {
      this.emit('message-error', error);
      return false;
    }
    if (this.shardDownSince === undefined) return true;
    this.shardDownSince = undefined;
    const event: ResubscribedEvent = { downtimeMs, channels: shardChannels, patterns: [] };
    publishDiagnostic('resubscribed', { client: this.name, ...event });
    this.emit('resubscribed', event);
    return true;
  }

  private async resubscribe(subscriber: Redis | Cluster, downtimeMs: number): Promise<void> {
    const channels = [...this.channels.keys()];
    const patterns = [...this.patterns.keys()];
    const shardChannels = [...this.shardChannels.keys()];
    try {
      // autoResubscribe is off: resubscribing here means the event fires only once it is done.
      if (channels.length > 0) await subscriber.subscribe(...channels);
      if (patterns.length > 0) await subscriber.psubscribe(...patterns);
      for (const channel of shardChannels) await subscriber.ssubscribe(channel);
    } catch (error) {
      this.emit('message-error', error);
      // A connection that is up but not subscribed would receive nothing, silently:
      // drop it so it reconnects, and this runs again on the next 'ready'.
      this.downSince = Date.now() - downtimeMs;
      subscriber.disconnect(true);
      return;
    }
    this.shardDownSince = undefined;
    const event: ResubscribedEvent = { downtimeMs, channels: [...channels, ...shardChannels], patterns };
    publishDiagnostic('resubscribed', { client: this.name, ...event });
    this.emit('resubscribed', event);
  }

  private topicOf(channel: string): string {
    if (!channel.startsWith(this.topicStart)) return channel;
    // Only the key builder's own escapes: a stray % in a foreign channel name must not throw here.
    return channel.slice(this.topicStart.length).replace(/%(25|3A|7B|7D)/g, (m) => KEY_ESCAPES[m] ?? m);
  }

  private deliver(channel: Channel | undefined, message: Buffer, meta: MessageMeta): void {
    if (!channel) return;
    const entries = channel.entries;
    let parsed: unknown;
    let parseError: unknown;
    for (const entry of entries) {
      let payload: unknown = message;
      if (!entry.binary) {
        if (parsed === undefined && parseError === undefined) {
          try {
            parsed = JSON.parse(message.toString('utf8'));
          } catch (error) {
            parseError = error;
          }
        }
        if (parseError !== undefined) {
          this.emit('message-error', parseError, meta);
          continue;
        }
        payload = parsed;
      }
      try {
        if (entry.filter && !entry.filter(payload, meta)) continue;
        entry.handler(payload, meta);
      } catch (error) {
        // A throwing handler must not stop delivery to the others.
        this.emit('message-error', error, meta);
      }
    }
  }
}
