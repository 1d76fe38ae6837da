/**
 * `@stratacache/sql-cache/mysql2`: the adapter for `mysql2/promise`, a pool
 * or a single connection, on MySQL and MariaDB. Statements run through
 * `query()` (placeholders `?`); transactions through `beginTransaction()`,
 * `commit()` and `rollback()` on a connection of the pool. MySQL has no
 * NOTIFY: writes by other applications are seen only when TTLs end.
 * Nothing here imports mysql2.
 */
import type { SqlConnection, SqlDriver, SqlExecutor, SqlResult } from './driver.js';
import type { SqlParser } from './parse/analysis.js';
import { mysqlParser } from './parse/mysql.js';

/** What the adapter uses of a mysql2/promise connection. */
export interface Mysql2ConnectionLike {
  query(sql: string, values?: never): Promise<[unknown, unknown]>;
  beginTransaction(): Promise<unknown>;
  commit(): Promise<unknown>;
  rollback(): Promise<unknown>;
}

/** A connection of a mysql2/promise pool. */
export interface Mysql2PoolConnectionLike extends Mysql2ConnectionLike {
  release(): void;
  destroy(): void;
}

/** What the adapter uses of a mysql2/promise pool. */
export interface Mysql2PoolLike {
  query(sql: string, values?: never): Promise<[unknown, unknown]>;
  getConnection(): Promise<Mysql2PoolConnectionLike>;
}

/** Options of {@link mysql2Driver}. */
export interface Mysql2DriverOptions {
  /** The parser. @default node-sql-parser's MySQL build (`mysqlParser()`, an optional peer) */
  parser?: SqlParser;
}

function result(value: [unknown, unknown]): SqlResult {
  const rows = value[0];
  if (Array.isArray(rows)) return { rows: rows as Record<string, unknown>[], rowCount: rows.length };
  const header = rows as { affectedRows?: number } | undefined;
  return { rows: [], rowCount: header?.affectedRows ?? 0 };
}

function executor(db: Pick<Mysql2ConnectionLike, 'query'>): SqlExecutor {
  return {
    query: async (sql, params) => result(await db.query(sql, (params.length === 0 ? undefined : params) as never)),
  };
}

async function inTransaction<T>(conn: Mysql2ConnectionLike, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  await conn.beginTransaction();
  let value: T;
  try {
    value = await fn(executor(conn));
  } catch (error) {
    await conn.rollback().catch(() => {});
    throw error;
  }
  await conn.commit();
  return value;
}

function isPool(db: Mysql2PoolLike | Mysql2ConnectionLike): db is Mysql2PoolLike {
  return typeof (db as Mysql2PoolLike).getConnection === 'function';
}

/**
 * The driver of a mysql2/promise pool or connection.
 *
 * @example
 * ```ts
 * import mysql from 'mysql2/promise';
 * import { mysql2Driver } from '@stratacache/sql-cache/mysql2';
 * const sql = createSqlCache({ cache, db: mysql2Driver(mysql.createPool(url)), redis, bus });
 * ```
 */
export function mysql2Driver(db: Mysql2PoolLike | Mysql2ConnectionLike, options: Mysql2DriverOptions = {}): SqlDriver {
  const parser = options.parser ?? mysqlParser();
  if (!isPool(db)) {
    return { dialect: 'mysql', parser, pinned: true, ...executor(db), transaction: (fn) => inTransaction(db, fn) };
  }
  return {
    dialect: 'mysql',
    parser,
    pinned: false,
    ...executor(db),
    async transaction(fn) {
      const conn = await db.getConnection();
      let ok = false;
      try {
        const value = await inTransaction(conn, fn);
        ok = true;
        return value;
      } finally {
        // A connection whose transaction failed may be broken or still in it: do not pool it again.
        if (ok) conn.release();
        else conn.destroy();
      }
    },
    async connect(): Promise<SqlConnection> {
      const conn = await db.getConnection();
      return { ...executor(conn), release: (destroy) => (destroy ? conn.destroy() : conn.release()) };
    },
  };
}
