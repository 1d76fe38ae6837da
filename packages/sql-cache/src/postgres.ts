/**
 * `@stratacache/sql-cache/postgres`: the adapter for postgres.js
 * (porsager/postgres). Statements run through `sql.unsafe(text, params)`,
 * transactions through `sql.begin()`, held connections through
 * `sql.reserve()`, and LISTEN through `sql.listen()`, which reconnects by
 * itself: each time it listens again the gap is reported (every table is
 * invalidated). Nothing here imports postgres.js.
 */
import type { ListenHandlers, SqlConnection, SqlDriver, SqlExecutor, SqlResult } from './driver.js';
import type { SqlParser } from './parse/analysis.js';
import { postgresParser } from './parse/postgres.js';

/** What the adapter uses of a postgres.js `sql` (or a transaction's, or a reserved one's). */
export interface PostgresJsLike {
  unsafe(query: string, parameters?: never[]): PromiseLike<unknown>;
}

/** What the adapter uses of the top-level postgres.js `sql`. */
export interface PostgresJsRootLike extends PostgresJsLike {
  begin(fn: (sql: unknown) => unknown): PromiseLike<unknown>;
  reserve?(): PromiseLike<PostgresJsLike & { release(): void }>;
  listen(channel: string, onNotify: (payload: string) => void, onListen?: () => void): PromiseLike<unknown>;
}

/** Options of {@link postgresDriver}. */
export interface PostgresDriverOptions {
  /** The parser. @default libpg-query (`postgresParser()`) */
  parser?: SqlParser;
}

function result(value: unknown): SqlResult {
  const rows = (value ?? []) as unknown[] & { count?: number | null };
  return { rows: Array.from(rows) as Record<string, unknown>[], rowCount: rows.count ?? rows.length };
}

function executor(sql: PostgresJsLike): SqlExecutor {
  return {
    query: async (text, params) =>
      result(await sql.unsafe(text, params.length === 0 ? undefined : (params as never[]))),
  };
}

/**
 * The driver of a postgres.js `sql`.
 *
 * @example
 * ```ts
 * import postgres from 'postgres';
 * import { postgresDriver } from '@stratacache/sql-cache/postgres';
 * const sql = createSqlCache({ cache, db: postgresDriver(postgres(url)), redis, bus });
 * ```
 */
export function postgresDriver(sql: PostgresJsRootLike, options: PostgresDriverOptions = {}): SqlDriver {
  return {
    dialect: 'postgres',
    parser: options.parser ?? postgresParser(),
    pinned: false,
    ...executor(sql),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      return (await sql.begin(((tx: PostgresJsLike) => fn(executor(tx))) as (sql: unknown) => unknown)) as T;
    },
    ...(sql.reserve
      ? {
          async connect(): Promise<SqlConnection> {
            const reserved = await (sql.reserve as () => PromiseLike<PostgresJsLike & { release(): void }>)();
            return { ...executor(reserved), release: () => reserved.release() };
          },
        }
      : {}),
    async listen(channel: string, handlers: ListenHandlers) {
      let listened = false;
      const meta = (await sql.listen(
        channel,
        (payload) => handlers.onMessage(payload),
        () => {
          // postgres.js calls this on every (re)connect: any after the first follows a lost connection.
          if (listened) handlers.onGap('reconnected');
          listened = true;
        },
      )) as { unlisten?: () => PromiseLike<unknown> };
      return {
        async close() {
          await meta.unlisten?.();
        },
      };
    },
  };
}
