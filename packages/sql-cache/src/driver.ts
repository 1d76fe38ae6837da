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
}

/** Runs one SQL text with positional parameters (`$1` for PostgreSQL, `?` for MySQL). */
export interface SqlExecutor {
  query(sql: string, params: readonly unknown[]): Promise<SqlResult>;
}

/** A connection held for a series of statements (SQL-text `BEGIN` ... `COMMIT`), released by its holder. */
export interface SqlConnection extends SqlExecutor {
  release(): void | Promise<void>;
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
  /** Runs `fn` in the driver's own transaction: committed when `fn` resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** A connection of its own (pools only), for SQL-text transactions. */
  connect?(): Promise<SqlConnection>;
  /** PostgreSQL LISTEN on `channel`, kept up across reconnects where the driver can; resolves once listening. */
  listen?(channel: string, handlers: ListenHandlers): Promise<{ close(): Promise<void> }>;
}
