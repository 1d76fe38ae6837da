/**
 * Metrics of the patterns Cache. A logical lookup publishes one event per
 * tier it reached (memory, then Redis), so the cache hit ratio is
 * hits of any tier / (hits of any tier + Redis misses): see the README.
 */
import { Channels } from '../channels.js';
import { count, type Message, type Registrar, seconds } from '../registrar.js';

/** Registers the patterns metrics on `r`. */
export function patternsMetrics(r: Registrar): void {
  const c = Channels.patterns;
  const caches = r.options.caches;
  const lookups = r.counter('cache_lookups_total', 'Cache lookups by cache namespace, tier and result.', [
    'cache',
    'tier',
    'result',
  ]);
  const operation = r.histogram(
    'cache_operation_duration_seconds',
    'Duration of cache operations per tier, for events that carry durationMs.',
    ['cache', 'tier', 'op'],
    'fast',
  );
  const factoryCalls = r.counter('cache_factory_calls_total', 'Factory (loader) calls that ended, by result.', [
    'cache',
    'result',
  ]);
  const factoryDuration = r.histogram(
    'cache_factory_duration_seconds',
    'Duration of factory calls, by result.',
    ['cache', 'result'],
    'slow',
  );
  const timeouts = r.counter('cache_factory_timeouts_total', 'Factories that ran past a soft or hard timeout.', [
    'cache',
    'kind',
  ]);
  const failsafe = r.counter(
    'cache_failsafe_activations_total',
    'Stale values served instead of failing (factory error or timeout, Redis error, backoff), by reason.',
    ['cache', 'reason'],
  );
  const refreshes = r.counter('cache_refreshes_total', 'Background (refresh-ahead) loads that ended, by result.', [
    'cache',
    'result',
  ]);
  const writes = r.counter('cache_writes_total', 'Values written.', ['cache']);
  const deletes = r.counter('cache_deletes_total', 'Keys deleted.', ['cache']);
  const refused = r.counter('cache_writes_refused_total', 'Write-backs refused (invalidated while loading, or older).', [
    'cache',
    'reason',
  ]);
  const errors = r.counter('cache_errors_total', 'Operations that failed and were handled as the caller asked.', [
    'cache',
    'operation',
  ]);
  const evictions = r.counter('cache_evictions_total', 'Entries evicted from the memory tier, by reason.', [
    'cache',
    'reason',
  ]);
  r.gauge('cache_memory_entries', 'Entries in the memory tier, read at scrape.', ['cache'], function collect() {
    for (const cache of caches) this.set(r.labels(this, { cache: cache.name }), cache.stats().memoryEntries);
  });
  const wbDepth = r.gauge('cache_write_behind_depth', 'Write-behind journal entries waiting to be flushed.', ['cache']);
  const wbFlushed = r.counter('cache_write_behind_flushed_total', 'Write-behind entries flushed.', ['cache']);
  const wbFailed = r.counter('cache_write_behind_failed_total', 'Write-behind entries whose flush failed.', ['cache']);
  const wbDead = r.counter('cache_write_behind_dead_letters_total', 'Write-behind entries given up (dead-lettered).', [
    'cache',
  ]);

  const lookup = (result: 'hit' | 'miss', op: string) => (m: Message) => {
    lookups.inc(r.labels(lookups, { cache: m.namespace, tier: m.tier, result }));
    const s = seconds(m.durationMs);
    if (s !== undefined) operation.observe(r.labels(operation, { cache: m.namespace, tier: m.tier, op }), s);
  };
  r.on(c.hit, lookup('hit', 'get'));
  r.on(c.miss, lookup('miss', 'get'));
  r.on(c.stale, (m) => failsafe.inc(r.labels(failsafe, { cache: m.namespace, reason: m.reason })));
  r.on(c.set, (m) => {
    writes.inc(r.labels(writes, { cache: m.namespace }));
    const s = seconds(m.durationMs);
    if (s !== undefined) operation.observe(r.labels(operation, { cache: m.namespace, tier: 'redis', op: 'set' }), s);
  });
  r.on(c.delete, (m) => {
    const n = Array.isArray(m.keys) ? m.keys.length : 1;
    deletes.inc(r.labels(deletes, { cache: m.namespace }), n);
  });
  r.on(c.factory, (m) => {
    const result = m.ok === false ? 'error' : 'success';
    factoryCalls.inc(r.labels(factoryCalls, { cache: m.namespace, result }));
    const s = seconds(m.durationMs);
    if (s !== undefined) factoryDuration.observe(r.labels(factoryDuration, { cache: m.namespace, result }), s);
  });
  r.on(c.timeout, (m) => timeouts.inc(r.labels(timeouts, { cache: m.namespace, kind: m.kind })));
  r.on(c.refresh, (m) =>
    refreshes.inc(r.labels(refreshes, { cache: m.namespace, result: m.ok === false ? 'error' : 'success' })),
  );
  r.on(c.refused, (m) => refused.inc(r.labels(refused, { cache: m.namespace, reason: m.reason })));
  r.on(c.error, (m) => {
    errors.inc(r.labels(errors, { cache: m.namespace, operation: m.operation }));
    // A failed Redis read is a lookup that got no answer from that tier.
    if (m.operation === 'get') lookups.inc(r.labels(lookups, { cache: m.namespace, tier: 'redis', result: 'error' }));
  });
  r.on(c.evict, (m) => evictions.inc(r.labels(evictions, { cache: m.namespace, reason: m.reason })));
  r.on(c['write-behind'], (m) => {
    const labels = r.labels(wbDepth, { cache: m.namespace });
    const depth = count(m.depth);
    if (depth !== undefined) wbDepth.set(labels, depth);
    const flushed = count(m.flushed);
    if (flushed) wbFlushed.inc(labels, flushed);
    const failed = count(m.failed);
    if (failed) wbFailed.inc(labels, failed);
    const dead = count(m.deadLettered);
    if (dead) wbDead.inc(labels, dead);
  });
}
