/** Metrics of sql-cache: lookups and invalidations per table, query durations, fallbacks, parse failures. */
import { Channels } from '../channels.js';
import { type Registrar, seconds } from '../registrar.js';

/** Registers the sql-cache metrics on `r`. */
export function sqlCacheMetrics(r: Registrar): void {
  const c = Channels.sqlCache;
  const lookups = r.events(
    'sql_cache_lookups_total',
    'Query-cache lookups per table of the query (one per table), by result: hit, miss, stale, bypass.',
    ['table', 'result'],
  );
  const invalidations = r.events('sql_cache_invalidations_total', 'Table invalidations by source.', [
    'table',
    'source',
  ]);
  const queries = r.histogram(
    'sql_query_duration_seconds',
    'Query duration, answered from the cache or the database.',
    ['source'],
    'slow',
  );
  const fallbacks = r.events('sql_cache_fallbacks_total', 'Queries sent to the database uncached, by reason.', [
    'reason',
  ]);
  const parse = r.events('sql_parse_failures_total', 'Statements whose tables could not be found, by reason.', [
    'reason',
  ]);
  // sql-cache publishes one event per read with the read's `tables`: one lookup per table.
  r.on(c.lookup, (m) => {
    const tables = Array.isArray(m.tables) ? (m.tables as string[]) : [m.table];
    for (const table of tables.length > 0 ? tables : ['none']) lookups.inc(1, table, m.result);
  });
  r.on(c.invalidation, (m) => invalidations.inc(1, m.table, m.source));
  r.on(c.query, (m) => {
    const s = seconds(m.durationMs);
    if (s === undefined) throw new TypeError('durationMs');
    queries.observe(s, m.source);
  });
  r.on(c.fallback, (m) => fallbacks.inc(1, m.reason));
  r.on(c['parse-failure'], (m) => parse.inc(1, m.reason));
}
