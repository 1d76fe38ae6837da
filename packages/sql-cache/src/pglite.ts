/**
 * `@stratacache/sql-cache/pglite`: the adapter for embedded PostgreSQL,
 * `@electric-sql/pglite` (0.5). PGlite is one connection: statements queue,
 * `db.transaction()` holds it exclusively, SQL-text `BEGIN` opens a
 * transaction around everything that follows (followed on the main path),
 * and LISTEN runs in process, so it never loses notifications.
 * Nothing here imports PGlite.
 */
import type { ListenHandlers, SqlDriver, SqlExecutor, SqlResult } from './driver.js';
import type { SqlParser } from './parse/analysis.js';
import { postgresParser } from './parse/postgres.js';

/** A PGlite result. */
export interface PgliteResultLike {
  rows: unknown[];
  affectedRows?: number;
}

/** What the adapter uses of a PGlite transaction. */
export interface PgliteTransactionLike {
  query(sql: string, params?: unknown[]): Promise<PgliteResultLike>;
  exec(sql: string): Promise<PgliteResultLike[]>;
}

/** What the adapter uses of a PGlite instance. */
export interface PgliteLike extends PgliteTransactionLike {
  transaction<T>(fn: (tx: unknown) => Promise<T>): Promise<T>;
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}

/** Options of {@link pgliteDriver}. */
export interface PgliteDriverOptions {
  /** The parser. @default libpg-query (`postgresParser()`) */
  parser?: SqlParser;
}

function one(r: PgliteResultLike): SqlResult {
  return { rows: r.rows as Record<string, unknown>[], rowCount: r.affectedRows || r.rows.length };
}

function executor(db: PgliteTransactionLike): SqlExecutor {
  return {
    async query(sql, params) {
      if (params.length > 0) return one(await db.query(sql, params as unknown[]));
      // Without parameters, exec() takes several statements in one text, as the simple protocol does.
      const results = await db.exec(sql);
      const last = results[results.length - 1] ?? { rows: [] };
      return {
        rows: last.rows as Record<string, unknown>[],
        rowCount: results.reduce((n, r) => n + (r.affectedRows ?? 0), 0) || last.rows.length,
      };
    },
  };
}

/**
 * The driver of a PGlite instance.
 *
 * @example
 * ```ts
 * import { PGlite } from '@electric-sql/pglite';
 * import { pgliteDriver } from '@stratacache/sql-cache/pglite';
 * const sql = createSqlCache({ cache, db: pgliteDriver(await PGlite.create()) });
 * ```
 */
export function pgliteDriver(db: PgliteLike, options: PgliteDriverOptions = {}): SqlDriver {
  return {
    dialect: 'postgres',
    parser: options.parser ?? postgresParser(),
    pinned: true,
    ...executor(db),
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) =>
      db.transaction(((tx: PgliteTransactionLike) => fn(executor(tx))) as (tx: unknown) => Promise<T>),
    async listen(channel: string, handlers: ListenHandlers) {
      const unlisten = await db.listen(channel, (payload) => handlers.onMessage(payload));
      return { close: () => unlisten() };
    },
  };
}
