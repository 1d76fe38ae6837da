/**
 * What sql-cache needs to know about a statement, whatever the dialect: is
 * it a read it may cache (and of which tables), a write (and of which
 * tables), transaction control, or something else it passes through.
 */

/** A table as `schema.table` (or `table` when the statement named no schema), lower-cased. */
export type TableName = string;

/** Every table: what a write that cannot be read invalidates. */
export const ALL_TABLES = '*';

/** Transaction control statements, as a session sees them. */
export type TransactionOp = 'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollback-to' | 'prepare';

/** One statement of a SQL text. */
export type Statement =
  /** A read that may be cached: the tables it reads (CTE names removed). */
  | { kind: 'read'; tables: TableName[] }
  /** A read that must not be cached (`FOR UPDATE`, `EXPLAIN`, a function known to write): passed through. */
  | { kind: 'uncacheable'; reason: string; tables: TableName[] }
  /** A write: the tables it may change, or `'*'` when that cannot be known (every table is invalidated). */
  | { kind: 'write'; tables: TableName[] | typeof ALL_TABLES; ddl?: boolean }
  /** Transaction control. */
  | { kind: 'transaction'; op: TransactionOp }
  /** Session settings and the like (`SET`, `SHOW`, `LISTEN`): passed through, nothing cached or invalidated. */
  | { kind: 'other' };

/** A SQL text as the parser read it. */
export type Analysis =
  | { ok: true; statements: Statement[] }
  /** The parser could not read it: a read is not cached, a write invalidates every table. */
  | { ok: false; reason: string };

/**
 * A parser for one dialect. `load()` is awaited once before the first
 * `analyze()` (a WASM parser compiles its module there).
 */
export interface SqlParser {
  /** `'postgres'` or `'mysql'`. */
  readonly dialect: string;
  /** Prepares the parser (loads WASM, imports the dialect build). Idempotent. */
  load(): Promise<void>;
  /** Reads `sql`; never throws for SQL it cannot read (returns `{ ok: false }`). */
  analyze(sql: string): Analysis;
}
