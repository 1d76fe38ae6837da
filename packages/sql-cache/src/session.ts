/**
 * Transactions and held connections: `sql.transaction(fn)` runs `fn` in the
 * driver's own transaction; `sql.connect()` holds a connection on which SQL
 * text `BEGIN` / `COMMIT` / `ROLLBACK` is followed.
 */
import type { SqlConnection, SqlExecutor } from './driver.js';
import { TransactionStateError } from './errors.js';
import type { QueryOptions, QueryResult, SqlCache, SqlQueryable } from './sql-cache.js';
import type { Context } from './transaction.js';

/** The handle `fn` of `sql.transaction(fn)` receives. */
export class SqlTransaction implements SqlQueryable {
  /** @internal */ ended = false;

  /** @internal */
  constructor(
    private readonly sql: SqlCache,
    private readonly ctx: Context,
  ) {}

  /** Runs a statement inside the transaction (see `SqlCache.query`). */
  query<Row = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
    options: QueryOptions = {},
  ): Promise<QueryResult<Row>> {
    if (this.ended)
      return Promise.reject(
        new TransactionStateError('This transaction has ended: run statements inside its function'),
      );
    return this.sql.run(this.ctx, sql, params, options) as Promise<QueryResult<Row>>;
  }

  /** Marks `tables` as written by this transaction (they are invalidated after COMMIT), for writes made outside sql-cache. */
  async touch(tables: readonly string[]): Promise<void> {
    const tx = this.ctx.tx;
    if (this.ended || !tx) throw new TransactionStateError('This transaction has ended');
    await this.sql.openHorizon(
      tx,
      tables.map((t) => this.sql.table(t)),
    );
  }
}

/**
 * Runs `fn` in the driver's transaction. Tables written are collected;
 * after COMMIT they are invalidated; after a rollback (`fn` threw) nothing is.
 * When `fn` resolved but the transaction still failed (COMMIT failed, the
 * outcome unknown), the tables are invalidated to be safe.
 */
export async function runTransaction<T>(
  sql: SqlCache,
  fn: (tx: SqlTransaction) => Promise<T>,
  touched: readonly string[] = [],
): Promise<T> {
  const state = sql.newTx();
  let handle: SqlTransaction | undefined;
  let finished = false;
  const pinned = sql.db.pinned;
  if (pinned && sql.main.tx)
    throw new TransactionStateError(
      'A transaction is already open on this connection (nested transactions are not supported)',
    );
  try {
    const result = await sql.db.transaction(async (executor: SqlExecutor) => {
      const ctx: Context = { executor, tx: state, tracksText: false };
      // One connection for everything: statements of the main path run inside this transaction too.
      if (pinned) sql.main.tx = state;
      handle = new SqlTransaction(sql, ctx);
      if (touched.length > 0) await handle.touch(touched);
      const value = await fn(handle);
      finished = true;
      return value;
    });
    await sql.committed(state);
    return result;
  } catch (error) {
    if (finished) await sql.committed(state);
    else await sql.rolledBack(state);
    throw error;
  } finally {
    if (handle) handle.ended = true;
    if (pinned && sql.main.tx === state) sql.main.tx = undefined;
  }
}

/** A connection held from the pool: SQL-text transactions on it are followed. Release it when done. */
export class SqlSession implements SqlQueryable {
  private readonly ctx: Context;
  private released = false;

  /** @internal */
  constructor(
    private readonly sql: SqlCache,
    private readonly connection: SqlConnection | undefined,
    ctx?: Context,
  ) {
    this.ctx = ctx ?? { executor: connection as SqlConnection, tx: undefined, tracksText: true };
  }

  /** True while a `BEGIN` on this connection has not been committed or rolled back. */
  get inTransaction(): boolean {
    return this.ctx.tx !== undefined;
  }

  /** Runs a statement on this connection (see `SqlCache.query`); `BEGIN`, `COMMIT` and `ROLLBACK` are followed. */
  query<Row = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
    options: QueryOptions = {},
  ): Promise<QueryResult<Row>> {
    if (this.released) return Promise.reject(new TransactionStateError('This connection was released'));
    return this.sql.run(this.ctx, sql, params, options) as Promise<QueryResult<Row>>;
  }

  /**
   * Returns the connection. A transaction still open is not ours to end: its
   * tables are invalidated now (it may commit later) and a later COMMIT on
   * the pooled connection is not seen. `destroy` (pg: true or an error)
   * closes the connection instead of returning it to the pool.
   */
  async release(destroy?: boolean | Error): Promise<void> {
    if (this.released) return;
    this.released = true;
    // The main path of a single-connection driver: its transaction goes on without this handle.
    if (!this.connection) return;
    const tx = this.ctx.tx;
    this.ctx.tx = undefined;
    if (tx) await this.sql.committed(tx);
    await this.connection?.release(destroy);
  }
}

/** A held connection (`sql.connect()`); on a single-connection driver, the main path itself. */
export async function openSession(sql: SqlCache): Promise<SqlSession> {
  if (sql.db.pinned || !sql.db.connect) return new SqlSession(sql, undefined, sql.main);
  return new SqlSession(sql, await sql.db.connect());
}
