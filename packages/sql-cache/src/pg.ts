/**
 * `@stratacache/sql-cache/pg`: the adapter for node-postgres (`pg`), a `Pool`
 * or a single `Client`. Statements without parameters use the simple
 * protocol (several statements in one text work); with parameters, the
 * extended one. The driver is the application's: nothing here imports `pg`.
 */
import type { DriverCall, ListenHandlers, SqlConnection, SqlDriver, SqlExecutor, SqlResult } from './driver.js';
import type { SqlParser } from './parse/analysis.js';
import { postgresParser } from './parse/postgres.js';

/** A pg query result (one statement). */
export interface PgResultLike {
  rows: unknown[];
  rowCount: number | null;
  /** The command tag (`'SELECT'`, `'INSERT'`, `'COMMIT'`, ...). */
  command?: string;
}

/** A pg query config, as `cachedPgPool` hands a call on. */
export interface PgQueryConfigLike {
  text: string;
  values?: unknown[];
  rowMode?: 'array';
  types?: unknown;
}

/** What the adapter uses of a pg `Client` (or a pooled client). */
export interface PgClientLike {
  query(text: string | PgQueryConfigLike, values?: unknown[]): Promise<PgResultLike | PgResultLike[]>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** A client checked out of a pg `Pool`. */
export interface PgPoolClientLike extends PgClientLike {
  release(destroy?: boolean | Error): void;
}

/** What the adapter uses of a pg `Pool`. */
export interface PgPoolLike {
  query(text: string | PgQueryConfigLike, values?: unknown[]): Promise<PgResultLike | PgResultLike[]>;
  connect(): Promise<PgPoolClientLike>;
  readonly totalCount: number;
}

export type { CachedPgPoolOptions, CachedPgResult, PgQueryInput } from './pg-pool.js';
export { CachedPgPool, CachedPgPoolClient, cachedPgPool } from './pg-pool.js';

/** Options of {@link pgDriver}. */
export interface PgDriverOptions {
  /** The parser. @default libpg-query (`postgresParser()`) */
  parser?: SqlParser;
  /** Longest wait between attempts to LISTEN again after the connection was lost, ms. @default 5000 */
  maxReconnectDelayMs?: number;
}

/** @internal Normalizes a pg result (an array of them for several statements). */
export function pgResult(result: PgResultLike | PgResultLike[]): SqlResult {
  if (Array.isArray(result)) {
    const last = result[result.length - 1];
    return {
      rows: (last?.rows ?? []) as Record<string, unknown>[],
      rowCount: result.reduce((n, r) => n + (r.rowCount ?? 0), 0),
      command: last?.command,
    };
  }
  return {
    rows: result.rows as Record<string, unknown>[],
    rowCount: result.rowCount ?? result.rows.length,
    command: result.command,
  };
}

/** Runs one statement; a call's row mode and type parsers go in a query config (without values: the simple protocol still). */
function send(client: Pick<PgClientLike, 'query'>, sql: string, params: readonly unknown[], call?: DriverCall) {
  if (call === undefined) return params.length === 0 ? client.query(sql) : client.query(sql, params as unknown[]);
  const config: PgQueryConfigLike = { text: sql };
  if (params.length > 0) config.values = params as unknown[];
  if (call.rowMode !== undefined) config.rowMode = call.rowMode;
  if (call.types !== undefined) config.types = call.types;
  return client.query(config);
}

function executor(client: Pick<PgClientLike, 'query'>): SqlExecutor {
  return {
    query: async (sql, params, call) => pgResult(await send(client, sql, params, call)),
  };
}

function isPool(db: PgPoolLike | PgClientLike): db is PgPoolLike {
  return typeof (db as PgPoolLike).totalCount === 'number' && typeof (db as PgPoolLike).connect === 'function';
}

/** BEGIN, `fn`, COMMIT (ROLLBACK when `fn` throws). Resolves whether the connection should be destroyed. */
async function inTransaction<T>(
  client: Pick<PgClientLike, 'query'>,
  fn: (tx: SqlExecutor) => Promise<T>,
  broken: { value: boolean } = { value: false },
): Promise<T> {
  await client.query('BEGIN');
  let result: T;
  try {
    result = await fn(executor(client));
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken.value = true;
    });
    throw error;
  }
  try {
    await client.query('COMMIT');
  } catch (error) {
    broken.value = true;
    throw error;
  }
  return result;
}

/**
 * The driver of a pg `Pool` or `Client`.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { pgDriver } from '@stratacache/sql-cache/pg';
 * const sql = createSqlCache({ cache, db: pgDriver(new pg.Pool()), redis, bus });
 * ```
 */
export function pgDriver(db: PgPoolLike | PgClientLike, options: PgDriverOptions = {}): SqlDriver {
  const parser = options.parser ?? postgresParser();
  const maxDelay = options.maxReconnectDelayMs ?? 5000;
  if (isPool(db)) {
    const pool = db;
    return {
      dialect: 'postgres',
      parser,
      pinned: false,
      takesCalls: true,
      ...executor(pool),
      async transaction(fn) {
        const client = await pool.connect();
        const broken = { value: false };
        try {
          return await inTransaction(client, fn, broken);
        } finally {
          // A client whose COMMIT or ROLLBACK failed may be dead or still in a transaction: destroy it.
          client.release(broken.value || undefined);
        }
      },
      async connect(): Promise<SqlConnection> {
        const client = await pool.connect();
        return { ...executor(client), release: (destroy) => client.release(destroy) };
      },
      listen: (channel, handlers) => listenOnPool(pool, channel, handlers, maxDelay),
    };
  }
  const client = db;
  return {
    dialect: 'postgres',
    parser,
    pinned: true,
    takesCalls: true,
    ...executor(client),
    transaction: (fn) => inTransaction(client, fn),
    listen: (channel, handlers) => listenOnClient(client, channel, handlers),
  };
}

async function listenOnClient(client: PgClientLike, channel: string, handlers: ListenHandlers) {
  const onNotification = ((m: { channel: string; payload?: string }) => {
    if (m.channel === channel) handlers.onMessage(m.payload ?? '');
  }) as (...args: unknown[]) => void;
  // The application owns this connection: once it is lost, there is nothing to LISTEN again on.
  const onLost = ((error?: unknown) => handlers.onGap('connection-lost', error)) as (...args: unknown[]) => void;
  client.on('notification', onNotification);
  client.on('error', onLost);
  client.on('end', onLost);
  await client.query(`LISTEN "${channel}"`);
  return {
    async close() {
      client.removeListener('notification', onNotification);
      client.removeListener('error', onLost);
      client.removeListener('end', onLost);
      await client.query(`UNLISTEN "${channel}"`).catch(() => {});
    },
  };
}

async function listenOnPool(pool: PgPoolLike, channel: string, handlers: ListenHandlers, maxDelay: number) {
  let current: PgPoolClientLike | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const start = async (): Promise<void> => {
    const client = await pool.connect();
    const onNotification = ((m: { channel: string; payload?: string }) => {
      if (m.channel === channel) handlers.onMessage(m.payload ?? '');
    }) as (...args: unknown[]) => void;
    const onLost = ((error?: unknown) => lost(client, error)) as (...args: unknown[]) => void;
    client.on('notification', onNotification);
    client.on('error', onLost);
    client.on('end', onLost);
    try {
      await client.query(`LISTEN "${channel}"`);
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    current = client;
  };
  const lost = (client: PgPoolClientLike, error?: unknown) => {
    if (current !== client) return;
    current = undefined;
    client.release(error instanceof Error ? error : true);
    if (closed) return;
    handlers.onGap('connection-lost', error);
    retry(50);
  };
  const retry = (delay: number) => {
    timer = setTimeout(() => {
      if (closed) return;
      start().then(
        // Back, but whatever was notified while away is gone: a second gap covers that window.
        () => handlers.onGap('reconnected'),
        () => retry(Math.min(delay * 2, maxDelay)),
      );
    }, delay);
    timer.unref?.();
  };
  await start();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      const client = current;
      current = undefined;
      if (client) {
        await client.query(`UNLISTEN "${channel}"`).catch(() => {});
        client.release();
      }
    },
  };
}
