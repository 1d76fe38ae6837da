/**
 * The SqlCache: reads through the Cache, writes that invalidate the tables
 * they touch after they commit, and transactions that keep readers off the
 * cache while they write (horizons). See the README for the guarantees.
 */
import type { Duration, StrataRedis } from '@stratacache/core-client';
import type { Cache } from '@stratacache/patterns';
import { Analyses } from './analyses.js';
import { CachedReads } from './cached-read.js';
import { Counters, type SqlCacheStats } from './diagnostics.js';
import { dispatch } from './dispatch.js';
import type { DriverCall, SqlDriver } from './driver.js';
import { Horizons } from './horizon.js';
import {
  installNotifyTriggers,
  listenForChanges,
  type NotifyListener,
  type NotifyOptions,
  uninstallNotifyTriggers,
} from './notify.js';
import { type ResolvedSqlCacheOptions, resolveSqlCacheOptions, type SqlCacheOptions, tableId } from './options.js';
import { ALL_TABLES } from './parse/analysis.js';
import { fromDb, type QueryOptions, type QueryResult, type SqlQueryable } from './query-types.js';
import { type Fetcher, getDataFromTable, type Where } from './seed.js';
import { openSession, runTransaction, type SqlSession, type SqlTransaction } from './session.js';
import { ALL_TAG, tableTag } from './tags.js';
import { type Context, TxState } from './transaction.js';
import { Views } from './views.js';

export type { QueryOptions, QueryResult, SqlQueryable } from './query-types.js';

/** Query results of one database, cached in a patterns Cache. Create it with {@link createSqlCache}. */
export class SqlCache implements SqlQueryable {
  /** `'postgres'` or `'mysql'`. */
  readonly dialect: 'postgres' | 'mysql';
  /** @internal */ readonly options: Readonly<ResolvedSqlCacheOptions>;
  /** @internal */ readonly counters = new Counters();
  /** @internal */ readonly horizons: Horizons;
  /** @internal */ readonly db: SqlDriver;
  /** @internal */ readonly cache: Cache<unknown>;
  /** @internal */ readonly main: Context;
  private readonly redis: StrataRedis | undefined;
  private readonly analyses: Analyses;
  /** @internal */ readonly views: Views;
  /** @internal The cached read every verb shares (cached-read.ts). */ readonly reads: CachedReads;
  private readonly pending = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /** @internal Use {@link createSqlCache}. */
  constructor(options: SqlCacheOptions) {
    this.options = resolveSqlCacheOptions(options);
    this.dialect = this.options.dialect;
    this.db = options.db;
    this.cache = options.cache;
    this.redis = options.redis;
    this.analyses = new Analyses(this.options.parser, this.dialect, this.options.parseCacheSize);
    this.main = { executor: this.db, tx: undefined, tracksText: this.db.pinned };
    const horizon = this.options.horizon;
    this.horizons = new Horizons(
      horizon ? options.redis : undefined,
      horizon ? options.bus : undefined,
      options.redis?.keys(this.cache.name).child('horizon'),
      `${this.cache.name}.sql`,
      horizon ? horizon.lifetimeMs : 1,
      horizon ? horizon.refreshMs : 0,
      () => this.counters.fellBack('horizon-error'),
    );
    this.views = new Views(
      this.options.views,
      this.options.discoverViews,
      (t) => this.table(t),
      () => this.counters.fellBack('view-discovery-failed'),
    );
    this.reads = new CachedReads(this.cache, this.redis, this.horizons, this.counters);
  }

  // ------------------------------------------------------------------ public verbs

  /**
   * Runs `sql` with `params`. A read is served from the cache or run and
   * cached under the tables it reads; a write runs and then invalidates the
   * tables it wrote (after COMMIT when inside a transaction).
   */
  query<Row = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
    options: QueryOptions = {},
  ): Promise<QueryResult<Row>> {
    return this.run(this.main, sql, params, options) as Promise<QueryResult<Row>>;
  }

  /**
   * Runs `fn` in the driver's own transaction. The tables its statements
   * write are invalidated after COMMIT (on every instance); a rollback
   * invalidates nothing. While it is open, readers of those tables bypass the cache.
   */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return runTransaction(this, fn);
  }

  /**
   * A connection of its own from the pool, on which SQL-text `BEGIN`,
   * `COMMIT` and `ROLLBACK` are followed. Release it when done. On a
   * single-connection driver it is the main path itself.
   */
  connect(): Promise<SqlSession> {
    return openSession(this);
  }

  /**
   * Rows of `table` matching `where` (column → value; `null` is IS NULL, an
   * array is IN), cached under the table's tag. `fetcher` loads them on a miss;
   * without one a parameterized SELECT of `columns` (`[]` for all) is run.
   */
  getDataFromTable<Row = Record<string, unknown>>(
    table: string,
    columns: readonly string[],
    where: Where,
    fetcher?: Fetcher<Row> | null,
    ttl?: Duration,
  ): Promise<Row[]> {
    return getDataFromTable(this, table, columns, where, fetcher, ttl);
  }

  /**
   * Runs `writer` in a transaction and invalidates `table` (and whatever its
   * statements wrote through the handle) after COMMIT. Readers of `table`
   * bypass the cache from before `writer` starts until the invalidation.
   */
  updateDataInTable<T>(table: string, writer: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return runTransaction(this, writer, [table]);
  }

  /**
   * PostgreSQL: installs statement-level triggers that NOTIFY the written
   * table after each INSERT, UPDATE, DELETE or TRUNCATE, on `tables` or
   * `'all'` base tables. Pair it with {@link listen}. Idempotent.
   */
  installNotifyTriggers(tables: readonly string[] | 'all', options?: NotifyOptions): Promise<string[]> {
    return installNotifyTriggers(this, tables, options);
  }

  /** Drops the notify triggers of `tables`. */
  uninstallNotifyTriggers(tables: readonly string[]): Promise<void> {
    return uninstallNotifyTriggers(this, tables);
  }

  /**
   * PostgreSQL: LISTENs for the triggers' notifications and invalidates each
   * notified table after its writer committed, whoever the writer was. A lost
   * LISTEN connection invalidates every table (when lost and when back).
   */
  listen(options?: NotifyOptions): Promise<NotifyListener> {
    return listenForChanges(this, options);
  }

  /** Invalidates the cached results of `table` on every instance (source `manual`). */
  invalidateTable(table: string): Promise<void> {
    return this.invalidate([this.table(table)], 'manual');
  }

  /** Invalidates the cached results of `tables` on every instance. */
  invalidateTables(tables: readonly string[]): Promise<void> {
    return this.invalidate(
      tables.map((t) => this.table(t)),
      'manual',
    );
  }

  /** Invalidates every cached result of this SqlCache on every instance. */
  invalidateAll(): Promise<void> {
    return this.invalidate([ALL_TABLES], 'manual');
  }

  /** Invalidates results cached with your own `tags`. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    await this.cache.deleteByTag(tags);
  }

  /** Counters since creation, per table and by reason. */
  stats(): SqlCacheStats {
    return this.counters.snapshot(this.analyses.size);
  }

  /** Reads the database's views again (after DDL made elsewhere). */
  refreshViews(): Promise<void> {
    this.views.refresh();
    return this.views.load(this.db);
  }

  /** Stops listening to the bus and the Cache's events. Does not close the cache, Redis or the database. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.reads.close();
    this.horizons.close();
  }

  // ------------------------------------------------------------------ internals shared with transactions

  /** @internal The identity of a table name under the `schemas` option. */
  table(name: string): string {
    return tableId(name, this.options.schemas, this.options.defaultSchema);
  }

  /** @internal Runs one SQL text in `ctx`. */
  run(ctx: Context, sql: string, params: readonly unknown[], options: QueryOptions): Promise<QueryResult> {
    try {
      if (typeof sql !== 'string' || sql.trim() === '') throw new TypeError('query: sql must be a non-empty string');
      if (!Array.isArray(params)) throw new TypeError('query: params must be an array');
      // A repeated text is one LRU lookup, and its read's promise is handed on as it is: no extra await.
      const memo = this.analyses.get(sql);
      if (memo) return dispatch(this, ctx, sql, params, options, memo);
      return this.analyses.analyze(sql).then((m) => dispatch(this, ctx, sql, params, options, m));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** @internal Invalidates `tables` (`'*'`: all) through the Cache: Redis tag times and the bus. */
  async invalidate(tables: readonly string[], source: 'write' | 'notify' | 'manual' | 'gap'): Promise<void> {
    if (tables.length === 0) return;
    const all = tables.includes(ALL_TABLES);
    const list = all ? [ALL_TABLES] : [...new Set(tables)];
    try {
      await this.cache.deleteByTag(all ? [ALL_TAG] : list.map(tableTag));
      const recorded = list.filter((t) => this.pending.delete(t));
      if (recorded.length > 0) this.horizons.unhold(recorded);
    } catch {
      // Redis failed: this instance's readers keep off these tables until the invalidation is recorded.
      this.counters.fellBack('invalidation-failed');
      for (const t of list) this.pending.add(t);
      this.horizons.hold(list);
      this.scheduleRetry();
    }
    for (const t of list) this.counters.invalidated(t, source);
  }

  /** @internal Opens the horizon of `tx` on the `tables` it is about to write. */
  async openHorizon(tx: TxState, tables: readonly string[]): Promise<void> {
    const fresh = tables.filter((t) => !tx.horizon.has(t));
    for (const t of tables) tx.written.add(t);
    if (fresh.length === 0 || !this.options.horizon) return;
    for (const t of fresh) tx.horizon.add(t);
    await this.horizons.openFor(fresh, tx.id);
  }

  /** @internal After COMMIT (or an unknown outcome): invalidate what `tx` wrote, then close its horizons. */
  async committed(tx: TxState): Promise<void> {
    await this.invalidate([...tx.written], 'write');
    await this.horizons.closeFor([...tx.horizon], tx.id);
  }

  /** @internal After ROLLBACK: nothing to invalidate, close the horizons. */
  async rolledBack(tx: TxState): Promise<void> {
    await this.horizons.closeFor([...tx.horizon], tx.id);
  }

  /** @internal A new transaction state. */
  newTx(): TxState {
    return new TxState(this.horizons.newId());
  }

  // ------------------------------------------------------------------ reads

  /** @internal */
  async uncached(
    ctx: Context,
    sql: string,
    params: readonly unknown[],
    reason: string,
    tables: readonly string[],
    call?: DriverCall,
  ): Promise<QueryResult> {
    const result = await ctx.executor.query(sql, params, call);
    this.counters.notCached(reason, tables);
    return fromDb(result);
  }

  /** @internal */
  async execute(ctx: Context, sql: string, params: readonly unknown[], call?: DriverCall): Promise<QueryResult> {
    return fromDb(await ctx.executor.query(sql, params, call));
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const tables = [...this.pending];
      if (tables.length === 0) return;
      void this.cache.deleteByTag(tables.includes(ALL_TABLES) ? [ALL_TAG] : tables.map(tableTag)).then(
        () => {
          for (const t of tables) this.pending.delete(t);
          this.horizons.unhold(tables);
        },
        () => this.scheduleRetry(),
      );
    }, 1000);
    this.retryTimer.unref?.();
  }
}

/**
 * Creates a SqlCache over a patterns Cache and a database adapter.
 *
 * @example
 * ```ts
 * const sql = createSqlCache({ cache, db: pgDriver(pool), redis, bus });
 * const { rows } = await sql.query('SELECT * FROM orders WHERE customer_id = $1', [42]);
 * await sql.query('UPDATE orders SET status = $1 WHERE id = $2', ['paid', 7]); // invalidates orders
 * ```
 */
export function createSqlCache(options: SqlCacheOptions): SqlCache {
  return new SqlCache(options);
}
