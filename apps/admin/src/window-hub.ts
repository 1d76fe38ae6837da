/**
 * Live window updates for the windows view: one pub/sub subscription per
 * series (through the streams reader's `subscribe`), shared by every open
 * Server-Sent Events stream of that series and dropped with the last one.
 * Updates are notifications (`{ name, start, final }`, at most once, as the
 * streams package says); the page reads the windows again when one arrives.
 */
import type { StrataRedis, Subscription } from '@stratacache/core-client';
import type { WindowUpdate } from '@stratacache/streams';
import { type FoundSeries, readerFor } from './windows-read.js';

interface Shared {
  listeners: Set<(update: WindowUpdate) => void>;
  subscription: Promise<Subscription>;
}

/** The open streams of window updates, by series. */
export class WindowHub {
  private readonly series = new Map<string, Shared>();
  private count = 0;

  constructor(private readonly redis: StrataRedis) {}

  /** How many streams are open. */
  get open(): number {
    return this.count;
  }

  /**
   * Adds `listener` to the updates of `series`; resolves, once subscribed, the
   * function that removes it. Rejects when Redis cannot subscribe.
   */
  async listen(series: FoundSeries, listener: (update: WindowUpdate) => void): Promise<() => void> {
    const id = `${series.namespace}\u0000${series.name}`;
    let shared = this.series.get(id);
    if (!shared) {
      const listeners = new Set<(update: WindowUpdate) => void>();
      const subscription = readerFor(this.redis, series).subscribe(series.name, (update) => {
        for (const l of listeners) l(update);
      });
      shared = { listeners, subscription };
      this.series.set(id, shared);
      // A failed subscribe is forgotten, so the next page tries again.
      subscription.catch(() => {
        if (this.series.get(id) === shared) this.series.delete(id);
      });
    }
    const current = shared;
    current.listeners.add(listener);
    this.count++;
    try {
      await current.subscription;
    } catch (error) {
      current.listeners.delete(listener);
      this.count--;
      throw error;
    }
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.count--;
      current.listeners.delete(listener);
      if (current.listeners.size === 0 && this.series.get(id) === current) {
        this.series.delete(id);
        void current.subscription.then((s) => s.unsubscribe()).catch(() => {});
      }
    };
  }

  /** Drops every subscription. */
  async close(): Promise<void> {
    const all = [...this.series.values()];
    this.series.clear();
    this.count = 0;
    await Promise.all(all.map((s) => s.subscription.then((sub) => sub.unsubscribe()).catch(() => {})));
  }
}
