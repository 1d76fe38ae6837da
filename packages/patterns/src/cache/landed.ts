/**
 * Wakes the loads of this process that wait on another process's stampede
 * lock, when that process's value lands in Redis, instead of leaving them to
 * poll. The holder's write-back script publishes `w<key>` on the cache's
 * `landed` channel in the same step as the write; a holder that releases
 * the lock without writing (its factory failed, the write was refused, the
 * result was not to be cached) publishes `r<key>`, so waiters try the lock
 * at once. A woken waiter still reads Redis and judges what it finds as any
 * read does: the message only says when to look.
 *
 * Pub/sub delivers nothing while the subscriber is away, so waiters keep a
 * timer as well (a slower poll while the subscription is up, the old fast
 * one while it is not): a lost message costs time, never a wrong value.
 */
import type { PubSub, StrataRedis, Subscription } from '@stratacache/core-client';

/** Why a waiter woke. */
export type Wake = 'written' | 'released' | 'timeout';

/** A wait armed before the read it follows, so a message during the read is not missed. */
export interface ArmedWait {
  readonly woke: Promise<Wake>;
  cancel(): void;
}

interface Waiter {
  wake(why: Wake): void;
}

/** The landed channel of one cache (its root namespace and children share it). */
export class LandedSignal {
  /** The channel the write-back script publishes on. */
  readonly channel: string;
  private readonly pubsub: PubSub;
  private readonly waiters = new Map<string, Set<Waiter>>();
  private subscription: Promise<Subscription> | undefined;
  private subscribed = false;

  constructor(redis: StrataRedis, namespace: string) {
    this.pubsub = redis.pubsub(namespace);
    this.channel = this.pubsub.channelOf('landed');
  }

  /** Subscribes (once; the cache starts it at creation). Rejects when the subscription fails. */
  start(): Promise<void> {
    this.subscription ??= this.pubsub.subscribe<Buffer>('landed', (message) => this.deliver(message), {
      binary: true,
    });
    return this.subscription.then(() => {
      this.subscribed = true;
    });
  }

  /** True while messages can arrive: waiters may then poll slowly. */
  get live(): boolean {
    return this.subscribed && this.pubsub.connected;
  }

  /** Resolves when `rk` is announced, or after `ms`. */
  arm(rk: string, ms: number): ArmedWait {
    let timer: NodeJS.Timeout | undefined;
    let waiter!: Waiter;
    const woke = new Promise<Wake>((resolve) => {
      waiter = {
        wake: (why) => {
          clearTimeout(timer);
          this.forget(rk, waiter);
          resolve(why);
        },
      };
    });
    let set = this.waiters.get(rk);
    if (!set) {
      set = new Set();
      this.waiters.set(rk, set);
    }
    set.add(waiter);
    timer = setTimeout(() => waiter.wake('timeout'), ms);
    return { woke, cancel: () => waiter.wake('timeout') };
  }

  /** Tells the other processes that `rk`'s lock was released without a value written. */
  released(rk: string): Promise<unknown> {
    return this.pubsub.publish('landed', Buffer.from(`r${rk}`));
  }

  /** Wakes every waiter (they fall back to reading Redis) and unsubscribes. */
  close(): void {
    this.subscribed = false;
    for (const set of [...this.waiters.values()]) for (const waiter of [...set]) waiter.wake('timeout');
    void this.subscription?.then((s) => s.unsubscribe()).catch(() => {});
  }

  private deliver(message: Buffer): void {
    const kind = message[0];
    const set = this.waiters.get(message.toString('utf8', 1));
    if (!set) return;
    const why: Wake = kind === 0x77 /* w */ ? 'written' : 'released';
    for (const waiter of [...set]) waiter.wake(why);
  }

  private forget(rk: string, waiter: Waiter): void {
    const set = this.waiters.get(rk);
    if (!set) return;
    set.delete(waiter);
    if (set.size === 0) this.waiters.delete(rk);
  }
}
