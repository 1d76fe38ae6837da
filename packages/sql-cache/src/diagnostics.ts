/**
 * Events on `node:diagnostics_channel`, named `stratacache:sql-cache:<event>`,
 * and the counters behind `sql.stats()`. Messages carry table names (bounded
 * by the schema) and reasons, never SQL text, parameters, keys or rows.
 * Publishing costs nothing when nobody listens.
 */
import { channel } from 'node:diagnostics_channel';

/** Channel names published by sql-cache. */
export const SqlCacheChannels = Object.freeze({
  /**
   * `{ tables, result }`: one read. `result` is `'hit'` (from the cache), `'miss'` (run and cached),
   * `'bypass'` (run on the database without the cache: a transaction is writing one of its tables, or
   * the read ran inside a transaction) or `'uncached'` (a statement that is never cached).
   */
  lookup: 'stratacache:sql-cache:lookup',
  /** `{ table, source }`: a table's cached results were invalidated; `source` is `'write' | 'notify' | 'manual' | 'gap'`; `table` is `'*'` for every table. */
  invalidation: 'stratacache:sql-cache:invalidation',
  /** `{ reason }`: a read ran against the database without the cache because Redis failed (`'redis-down'`, `'redis-error'`) or an invalidation could not be recorded (`'invalidation-failed'`). */
  fallback: 'stratacache:sql-cache:fallback',
  /** `{ reason, dialect }`: the parser could not read a statement (`'syntax'`, `'empty'`, `'parser-not-loaded'`, `'no-parser'`). */
  parseFailure: 'stratacache:sql-cache:parse-failure',
  /** `{ source: 'cache' | 'db', durationMs }`: a read ended, answered by the cache or the database (timed only while listened to). */
  query: 'stratacache:sql-cache:query',
});

/** The name of a sql-cache channel. */
export type SqlCacheEvent = keyof typeof SqlCacheChannels;

const channels = Object.fromEntries(
  Object.entries(SqlCacheChannels).map(([name, id]) => [name, channel(id)]),
) as Record<SqlCacheEvent, ReturnType<typeof channel>>;

/** True when someone listens on `event` (check before reading the clock for a message). */
export function listening(event: SqlCacheEvent): boolean {
  return channels[event].hasSubscribers;
}

/** Publishes `message` on `event` when anyone listens. */
export function publish(event: SqlCacheEvent, message: Record<string, unknown>): void {
  const target = channels[event];
  if (target.hasSubscribers) target.publish(message);
}

/** Counters of one table. */
export interface TableStats {
  /** Reads answered by the cache. */
  hits: number;
  /** Reads run on the database and cached. */
  misses: number;
  /** Reads run on the database without the cache (a writer's horizon, inside a transaction, Redis down). */
  bypasses: number;
  /** Times its cached results were invalidated. */
  invalidations: number;
}

/** What `sql.stats()` returns. */
export interface SqlCacheStats {
  /** Per table (`'*'` counts invalidations of every table). */
  tables: Record<string, TableStats>;
  /** Reads that are never cached (unparseable, `FOR UPDATE`, several statements), by reason. */
  uncached: Record<string, number>;
  /** Statements the parser could not read, by reason. */
  parseFailures: Record<string, number>;
  /** Reads that ran without the cache because Redis failed, by reason. */
  fallbacks: Record<string, number>;
  /** Distinct SQL texts held by the parse memo. */
  parsedTexts: number;
}

/** The counters, kept per SqlCache. */
export class Counters {
  private readonly tables = new Map<string, TableStats>();
  private readonly uncached = new Map<string, number>();
  private readonly parseFailures = new Map<string, number>();
  private readonly fallbacks = new Map<string, number>();
  /** Most tables tracked; the rest are counted under `'other'` so a schema with thousands of tables stays bounded. */
  private readonly maxTables = 1000;

  table(name: string): TableStats {
    let stats = this.tables.get(name);
    if (!stats) {
      if (this.tables.size >= this.maxTables) return this.table('other');
      stats = { hits: 0, misses: 0, bypasses: 0, invalidations: 0 };
      this.tables.set(name, stats);
    }
    return stats;
  }

  lookup(tables: readonly string[], result: 'hit' | 'miss' | 'bypass' | 'uncached'): void {
    for (const t of tables) {
      const stats = this.table(t);
      if (result === 'hit') stats.hits++;
      else if (result === 'miss') stats.misses++;
      else if (result === 'bypass') stats.bypasses++;
    }
    if (listening('lookup')) publish('lookup', { tables, result });
  }

  invalidated(table: string, source: 'write' | 'notify' | 'manual' | 'gap'): void {
    this.table(table).invalidations++;
    publish('invalidation', { table, source });
  }

  notCached(reason: string, tables: readonly string[]): void {
    bump(this.uncached, reason);
    publish('lookup', { tables, result: 'uncached', reason });
  }

  parseFailed(reason: string, dialect: string): void {
    bump(this.parseFailures, reason);
    publish('parseFailure', { reason, dialect });
  }

  fellBack(reason: string): void {
    bump(this.fallbacks, reason);
    publish('fallback', { reason });
  }

  snapshot(parsedTexts: number): SqlCacheStats {
    const tables: Record<string, TableStats> = {};
    for (const [name, stats] of this.tables) tables[name] = { ...stats };
    return {
      tables,
      uncached: Object.fromEntries(this.uncached),
      parseFailures: Object.fromEntries(this.parseFailures),
      fallbacks: Object.fromEntries(this.fallbacks),
      parsedTexts,
    };
  }
}

function bump(map: Map<string, number>, reason: string): void {
  map.set(reason, (map.get(reason) ?? 0) + 1);
}
