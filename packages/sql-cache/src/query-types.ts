/** What one query takes and answers: its options, its result, and what can run queries. */
import type { Duration } from '@stratacache/core-client';
import type { DriverCall, SqlResult } from './driver.js';

/** Options of one read or write. */
export interface QueryOptions {
  /** TTL of this result. Wins over `category` and table settings. */
  ttl?: Duration;
  /** TTL category of this result (`'static'`, `'reference'`, `'default'`, `'volatile'`, or your own). */
  category?: string;
  /** The tables this statement reads (or writes): the parser is not asked. Views are expanded. */
  tables?: readonly string[];
  /** Tags of your own on this result, for `invalidateTags()`. */
  tags?: readonly string[];
  /** `false`: run on the database, neither read from nor written to the cache (writes still invalidate). @default true */
  cache?: boolean;
  /**
   * @internal How the driver returns this call's rows (sent by `cachedPgPool`;
   * a driver without `takesCalls` refuses it). Its results are cached apart
   * from plain rows of the same SQL (`callSuffix`).
   */
  driverCall?: DriverCall;
}

/**
 * What a query resolves: the driver's rows and count, and where they came
 * from. `command` is there only on a result from the database whose driver
 * reports it (pg).
 */
export interface QueryResult<Row = Record<string, unknown>> extends SqlResult<Row> {
  /** `'cache'` (no database call by this query) or `'db'`. */
  source: 'cache' | 'db';
}

/** A driver's result as a query's (`source: 'db'`), with the command tag when the driver gave one. */
export function fromDb(result: SqlResult): QueryResult {
  const out: QueryResult = { rows: result.rows, rowCount: result.rowCount, source: 'db' };
  if (result.command !== undefined) out.command = result.command;
  return out;
}

/** Something that runs statements through sql-cache: the SqlCache itself, a transaction, a held connection. */
export interface SqlQueryable {
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<Row>>;
}
