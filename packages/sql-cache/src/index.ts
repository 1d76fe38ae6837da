/**
 * @stratacache/sql-cache: SQL query results cached in Redis (through the
 * patterns Cache) and invalidated after every commit that touches their
 * tables. Driver adapters live on subpaths: `/pg`, `/postgres`, `/mysql2`, `/pglite`.
 */

export type { SqlCacheEvent, SqlCacheStats, TableStats } from './diagnostics.js';
export { SqlCacheChannels } from './diagnostics.js';
export type { DriverCall, ListenHandlers, SqlConnection, SqlDriver, SqlExecutor, SqlResult } from './driver.js';
export { TransactionStateError } from './errors.js';
export { encodeParam, queryHash, shapeHash } from './key.js';
export { normalizeSql } from './normalize.js';
export type { NotifyListener, NotifyOptions } from './notify.js';
export type { SqlCacheOptions, TableOptions } from './options.js';
export { DEFAULT_CATEGORIES } from './options.js';
export type { Analysis, SqlParser, Statement, TableName, TransactionOp } from './parse/analysis.js';
export { ALL_TABLES } from './parse/analysis.js';
export { mysqlParser } from './parse/mysql.js';
export { postgresParser } from './parse/postgres.js';
export type { Fetcher, Where } from './seed.js';
export { buildSelect } from './seed.js';
export type { SqlSession, SqlTransaction } from './session.js';
export type { QueryOptions, QueryResult, SqlQueryable } from './sql-cache.js';
export { createSqlCache, SqlCache } from './sql-cache.js';
export { ALL_TAG, tableTag } from './tags.js';
