/** What one query takes and answers: its options, its result, and what can run queries. */
import type { Duration } from '@stratacache/core-client';
import type { SqlResult } from './driver.js';

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
}

/** What a query resolves: the driver's rows and count, and where they came from. */
export interface QueryResult<Row = Record<string, unknown>> extends SqlResult<Row> {
  /** `'cache'` (no database call by this query) or `'db'`. */
  source: 'cache' | 'db';
}

/** Something that runs statements through sql-cache: the SqlCache itself, a transaction, a held connection. */
export interface SqlQueryable {
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<Row>>;
}
