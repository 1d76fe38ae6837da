/**
 * Horizons: while a transaction is writing a table, readers of that table
 * bypass the cache, on every instance. Without them a reader could be served
 * the old cached result in the instant between the writer's COMMIT and its
 * invalidation (the fetch-start stamp already keeps a result read before the
 * commit from surviving it; horizons close that instant too, as Hibernate's
 * "pre-invalidate" does).
 *
 * A horizon lives in Redis, in a sorted set per table (member: transaction
 * id, score: deadline on the Redis clock), so every instance can read it; the
 * bus tells other instances at once, and each instance re-reads the sets it
 * relies on every `refresh` and after a gap on the bus. A horizon ends when
 * its writer closes it (after the invalidation, or on rollback) or at its
 * deadline, if the writer died.
 *
 * Readers never wait for Redis on the hit path: they consult the local view,
 * which costs a Map lookup, and read Redis only when the view is older than
 * `refresh`.
 */
import { randomBytes } from 'node:crypto';
import type { KeyBuilder, StrataRedis } from '@stratacache/core-client';
import type { InvalidationBus } from '@stratacache/invalidation';
import { luaScripts } from './lua.generated.js';

/** Messages on the bus: `{ h, o: 'open' | 'close', t: tables, x: transaction id, l: lifetime ms }`. */
interface HorizonMessage {
  h: string;
  o: 'open' | 'close';
  t: string[];
  x: string;
  l?: number;
}

/** Open horizons of one table known here: transaction id → local deadline (ms). */
type Open = Map<string, number>;

/** The horizons of one sql-cache, shared by its instances through Redis and the bus. */
export class Horizons {
  private readonly id = randomBytes(6).toString('base64url');
  private readonly open = new Map<string, Open>();
  private readonly readAt = new Map<string, number>();
  private readonly reading = new Map<string, Promise<void>>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly redis: StrataRedis | undefined,
    private readonly bus: InvalidationBus | undefined,
    private readonly keys: KeyBuilder | undefined,
    private readonly namespace: string,
    private readonly lifetimeMs: number,
    private readonly refreshMs: number,
    private readonly failed: (error: unknown) => void,
  ) {
    if (bus) {
      this.unsubscribe.push(
        bus.onInvalidation((event) => {
          if (event.op !== 'ev' || event.namespace !== this.namespace) return;
          const m = event.payload as HorizonMessage | undefined;
          if (!m || m.h === this.id || !Array.isArray(m.t)) return;
          if (m.o === 'open') this.remember(m.t, m.x, Date.now() + (m.l ?? this.lifetimeMs));
          else this.forget(m.t, m.x);
        }),
        // A gap on the bus: horizons heard of may have closed, others may have opened. Read Redis again.
        bus.register({ namespace: `${this.namespace}.horizons`, clearLocal: () => this.readAt.clear() }),
      );
    }
  }

  /** A new transaction id. */
  newId(): string {
    return `${this.id}.${randomBytes(6).toString('base64url')}`;
  }

  /** Opens (or extends) horizon `txId` on `tables`: locally at once, then in Redis and on the bus. */
  async openFor(tables: readonly string[], txId: string): Promise<void> {
    if (tables.length === 0) return;
    this.remember(tables, txId, Date.now() + this.lifetimeMs);
    const { redis, keys } = this;
    if (redis && keys) {
      try {
        await Promise.all(
          tables.map((t) => redis.runScript(luaScripts.horizonOpen, [keys.key('t', t)], [txId, this.lifetimeMs])),
        );
      } catch (error) {
        this.failed(error);
      }
    }
    await this.bus?.emitInvalidation(this.namespace, {
      h: this.id,
      o: 'open',
      t: [...tables],
      x: txId,
      l: this.lifetimeMs,
    } satisfies HorizonMessage);
  }

  /** Closes horizon `txId` on `tables`. */
  async closeFor(tables: readonly string[], txId: string): Promise<void> {
    if (tables.length === 0) return;
    this.forget(tables, txId);
    const { redis, keys } = this;
    if (redis && keys) {
      try {
        await Promise.all(tables.map((t) => redis.runScript(luaScripts.horizonClose, [keys.key('t', t)], [txId])));
      } catch (error) {
        // The horizon lapses at its deadline: readers bypass the cache until then, which is safe.
        this.failed(error);
      }
    }
    await this.bus?.emitInvalidation(this.namespace, { h: this.id, o: 'close', t: [...tables], x: txId });
  }

  /**
   * True when a horizon is open on one of `tables`. Synchronous from the local
   * view; a Promise when the view of a table is older than `refresh` and Redis is read.
   */
  isOpen(tables: readonly string[]): boolean | Promise<boolean> {
    const now = Date.now();
    if (this.anyOpen(tables, now)) return true;
    if (!this.redis || !this.keys) return false;
    // No array on the common path (every table read recently): this runs on every cached read.
    let stale: string[] | undefined;
    for (const t of tables) {
      const at = this.readAt.get(t);
      if (at !== undefined && now - at < this.refreshMs) continue;
      if (stale === undefined) stale = [t];
      else stale.push(t);
    }
    if (stale === undefined) return false;
    return Promise.all(stale.map((t) => this.read(t))).then(
      () => this.anyOpen(tables, Date.now()),
      () => false,
    );
  }

  /**
   * Keeps readers of `tables` in this process off the cache until `unhold`:
   * their invalidation could not be recorded (Redis failed) and memory may hold old results.
   */
  hold(tables: readonly string[]): void {
    this.remember(tables, `${this.id}.held`, Number.POSITIVE_INFINITY);
  }

  /** Ends a `hold`. */
  unhold(tables: readonly string[]): void {
    this.forget(tables, `${this.id}.held`);
  }

  /** Stops following the bus. */
  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private anyOpen(tables: readonly string[], now: number): boolean {
    for (const t of tables) {
      const open = this.open.get(t);
      if (!open) continue;
      for (const [tx, deadline] of open) {
        if (deadline > now) return true;
        open.delete(tx);
      }
      if (open.size === 0) this.open.delete(t);
    }
    return false;
  }

  private read(table: string): Promise<void> {
    let reading = this.reading.get(table);
    if (!reading) {
      const redis = this.redis as StrataRedis;
      const keys = this.keys as KeyBuilder;
      reading = redis
        .runScript(luaScripts.horizonRead, [keys.key('t', table)])
        .then((reply) => {
          const list = (reply as Array<string | number>) ?? [];
          const now = Date.now();
          const open: Open = new Map();
          // Our own horizons stay as we know them; others are replaced by what Redis says.
          for (const [tx, deadline] of this.open.get(table) ?? [])
            if (tx.startsWith(`${this.id}.`)) open.set(tx, deadline);
          for (let i = 0; i + 1 < list.length; i += 2) open.set(String(list[i]), now + Number(list[i + 1]));
          if (open.size > 0) this.open.set(table, open);
          else this.open.delete(table);
          this.readAt.set(table, now);
          if (this.readAt.size > 100_000) this.readAt.delete(this.readAt.keys().next().value as string);
        })
        .catch((error: unknown) => {
          this.failed(error);
          throw error;
        })
        .finally(() => this.reading.delete(table));
      this.reading.set(table, reading);
    }
    return reading;
  }

  private remember(tables: readonly string[], tx: string, deadline: number): void {
    for (const t of tables) {
      let open = this.open.get(t);
      if (!open) {
        open = new Map();
        this.open.set(t, open);
      }
      open.set(tx, deadline);
    }
  }

  private forget(tables: readonly string[], tx: string): void {
    for (const t of tables) {
      const open = this.open.get(t);
      if (!open) continue;
      open.delete(tx);
      if (open.size === 0) this.open.delete(t);
    }
  }
}
