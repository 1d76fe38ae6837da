/**
 * The live invalidation feed: every invalidation the bus hears (from any
 * instance, and this console's own), kept in a short ring for a page that
 * opens later, and pushed to the Server-Sent Events streams that are open.
 * Keys and tags in it are attacker data: the page writes them with
 * `textContent`, never as markup.
 */
import type { InvalidationBus, InvalidationEvent } from '@stratacache/invalidation';

/** One feed line. */
export interface FeedItem {
  /** Sequence number in this console (the SSE event id). */
  seq: number;
  /** When the invalidation happened, ms (the sender's time; 0 for a patched expire). */
  at: number;
  /** When this console heard it, ms. */
  heardAt: number;
  op: string;
  namespace: string;
  items: string[];
  /** True for this console's own invalidations. */
  local: boolean;
  from: string;
}

const OPS: Record<string, string> = {
  dk: 'delete keys',
  ek: 'expire keys',
  dp: 'delete prefix',
  dt: 'delete tags',
  et: 'expire tags',
  c: 'clear',
  ev: 'event',
};

/** Most items kept for a page opened later. */
const KEPT = 200;
/** Most items listed per event (a clear of a million keys is not a million-line message). */
const MAX_ITEMS = 50;

/** Holds the recent feed and the listeners of the open streams. */
export class FeedHub {
  private readonly recentItems: FeedItem[] = [];
  private readonly listeners = new Set<(item: FeedItem) => void>();
  private unsubscribe: (() => void) | undefined;
  private seq = 0;

  constructor(private readonly bus: InvalidationBus) {}

  /** Starts following the bus. */
  start(): void {
    this.unsubscribe ??= this.bus.onInvalidation((event: InvalidationEvent) => this.push(event));
  }

  /** Stops following it and drops the listeners. */
  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.listeners.clear();
  }

  private push(event: InvalidationEvent): void {
    const items = Array.isArray(event.items) ? event.items.map(String) : [];
    const item: FeedItem = {
      seq: ++this.seq,
      at: event.at,
      heardAt: Date.now(),
      op: OPS[event.op] ?? event.op,
      namespace: String(event.namespace),
      items: items.length > MAX_ITEMS ? [...items.slice(0, MAX_ITEMS), `... ${items.length - MAX_ITEMS} more`] : items,
      local: event.local,
      from: String(event.from),
    };
    this.recentItems.push(item);
    if (this.recentItems.length > KEPT) this.recentItems.shift();
    for (const listener of this.listeners) listener(item);
  }

  /** The recent items, oldest first. */
  recent(): FeedItem[] {
    return [...this.recentItems];
  }

  /** How many streams are open. */
  get open(): number {
    return this.listeners.size;
  }

  /** Adds a listener; returns the function that removes it. */
  listen(listener: (item: FeedItem) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
