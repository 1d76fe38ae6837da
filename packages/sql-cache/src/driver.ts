/**
 * The contract between sql-cache and a database driver. The adapters
 * (`@stratacache/sql-cache/pg`, `/postgres`, `/mysql2`, `/pglite`) wrap a
 * driver object the application already has; nothing here imports a driver.
 */
import type { SqlParser } from './parse/analysis.js';

/** Rows a statement returned, and how many rows it returned or changed. */
export interface SqlResult<Row = Record<string, unknown>> {
  rows: Row[];
  rowCount: number;
  /**
   * The statement's command tag (`'SELECT'`, `'INSERT'`, `'COMMIT'`, ...), where
   * the driver reports one (pg). A COMMIT of a failed PostgreSQL transaction
   * answers `'ROLLBACK'`. Not kept with a cached result: a hit says `'SELECT'`.
   */
  command?: string;
}

/**
 * How one call wants its rows, passed to the driver as it is (the pg
 * adapter's query config). Only a driver with `takesCalls` gets one
 * (`cachedPgPool` sends it, and refuses any other driver).
 */
export interface DriverCall {
  /** `'array'`: each row an array of column values in select order (duplicate column names kept). */
  rowMode?: 'array';
  /** pg's `types` (custom type parsers) for this call. */
  types?: unknown;
  /** The name results read with `types` are cached under (`cachedPgPool`'s `parsers`). @default 'custom' */
  typesName?: string;
}

/**
 * The cache-key suffix of a call's results: rows read as arrays, or with
 * other type parsers, are other values than plain rows of the same SQL.
 */
export function callSuffix(call: DriverCall): string {
  let suffix = call.rowMode === 'array' ? 'a' : '';
  if (call.types !== undefined) suffix += `t.${call.typesName ?? 'custom'}`;
  return suffix;
}

/** Runs one SQL text with positional parameters (`$1` for PostgreSQL, `?` for MySQL). */
export interface SqlExecutor {
  /** `call`: see {@link DriverCall}; only sent to a driver with `takesCalls`. */
  query(sql: string, params: readonly unknown[], call?: DriverCall): Promise<SqlResult>;
}

/** A connection held for a series of statements (SQL-text `BEGIN` ... `COMMIT`), released by its holder. */
export interface SqlConnection extends SqlExecutor {
  /** `destroy`: close the connection instead of returning it to the pool (pg and mysql2; postgres.js has no such call). */
  release(destroy?: boolean | Error): void | Promise<void>;
}

/** Callbacks of {@link SqlDriver.listen}. */
export interface ListenHandlers {
  /** A notification's payload. */
  onMessage(payload: string): void;
  /**
   * Notifications may have been missed: the listening connection was lost,
   * or came back after a loss. Called on each; sql-cache invalidates every table.
   */
  onGap(reason: string, error?: unknown): void;
}

/** A driver as sql-cache sees it. */
export interface SqlDriver extends SqlExecutor {
  /** `'postgres'` (PostgreSQL, PGlite) or `'mysql'` (MySQL, MariaDB). */
  readonly dialect: 'postgres' | 'mysql';
  /** The parser that finds the tables of a statement; without one, queries must name their `tables`. */
  readonly parser?: SqlParser;
  /**
   * True when every statement runs on one connection (a pg `Client`, a mysql2
   * `Connection`, PGlite): a SQL-text `BEGIN` then opens a transaction around
   * everything that follows, and sql-cache tracks it on the main path.
   */
  readonly pinned: boolean;
  /** True when `query` honors a {@link DriverCall} (the pg adapter); `cachedPgPool` needs it. */
  readonly takesCalls?: boolean;
  /** Runs `fn` in the driver's own transaction: committed when `fn` resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** A connection of its own (pools only), for SQL-text transactions. */
  connect?(): Promise<SqlConnection>;
  /** PostgreSQL LISTEN on `channel`, kept up across reconnects where the driver can; resolves once listening. */
  listen?(channel: string, handlers: ListenHandlers): Promise<{ close(): Promise<void> }>;
}
