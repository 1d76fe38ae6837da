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
  const lookups = r.events('cache_lookups_total', 'Cache lookups by cache namespace, tier and result.', [
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
  const factoryCalls = r.events('cache_factory_calls_total', 'Factory (loader) calls that ended, by result.', [
    'cache',
    'result',
  ]);
  const factoryDuration = r.histogram(
    'cache_factory_duration_seconds',
    'Duration of factory calls, by result.',
    ['cache', 'result'],
    'slow',
  );
  const timeouts = r.events('cache_factory_timeouts_total', 'Factories that ran past a soft or hard timeout.', [
    'cache',
    'kind',
  ]);
  const failsafe = r.events(
    'cache_failsafe_activations_total',
    'Stale values served instead of failing (factory error or timeout, Redis error, backoff), by reason.',
    ['cache', 'reason'],
  );
  const refreshes = r.events('cache_refreshes_total', 'Background (refresh-ahead) loads that ended, by result.', [
    'cache',
    'result',
  ]);
  const writes = r.events('cache_writes_total', 'Values written.', ['cache']);
  const deletes = r.events('cache_deletes_total', 'Keys deleted.', ['cache']);
  const refused = r.events('cache_writes_refused_total', 'Write-backs refused (invalidated while loading, or older).', [
    'cache',
    'reason',
  ]);
  const errors = r.events('cache_errors_total', 'Operations that failed and were handled as the caller asked.', [
    'cache',
    'operation',
  ]);
  const evictions = r.events('cache_evictions_total', 'Entries evicted from the memory tier, by reason.', [
    'cache',
    'reason',
  ]);
  r.gauge('cache_memory_entries', 'Entries in the memory tier, read at scrape.', ['cache'], function collect() {
    for (const cache of caches) this.set(r.labels(this, { cache: cache.name }), cache.stats().memoryEntries);
  });
  const wbDepth = r.gauge('cache_write_behind_depth', 'Write-behind journal entries waiting to be flushed.', ['cache']);
  const wbFlushed = r.events('cache_write_behind_flushed_total', 'Write-behind entries flushed.', ['cache']);
  const wbFailed = r.events('cache_write_behind_failed_total', 'Write-behind entries whose flush failed.', ['cache']);
  const wbDead = r.events('cache_write_behind_dead_letters_total', 'Write-behind entries given up (dead-lettered).', [
    'cache',
  ]);

  const lookup = (result: 'hit' | 'miss') => (m: Message) => {
    lookups.inc(1, m.namespace, m.tier, result);
    // Only events that carry a duration are timed (the Cache may add durationMs later).
    if (m.durationMs !== undefined) {
      const s = seconds(m.durationMs);
      if (s !== undefined) operation.observe(s, m.namespace, m.tier, 'get');
    }
  };
  if (r.options.lookups === 'events') {
    r.on(c.hit, lookup('hit'));
    r.on(c.miss, lookup('miss'));
  } else {
    // Nobody listens to hit and miss, so the Cache does not even build those events.
    lookups.onCollect(() => {
      for (const cache of caches) {
        const s = cache.stats();
        lookups.at(cache.name, 'memory', 'hit').value = s.memoryHits ?? 0;
        lookups.at(cache.name, 'memory', 'miss').value = s.memoryMisses ?? 0;
        lookups.at(cache.name, 'redis', 'hit').value = s.redisHits ?? 0;
        lookups.at(cache.name, 'redis', 'miss').value = s.redisMisses ?? 0;
      }
    });
  }
  r.on(c.stale, (m) => failsafe.inc(1, m.namespace, m.reason));
  r.on(c.set, (m) => {
    writes.inc(1, m.namespace);
    if (m.durationMs !== undefined) {
      const s = seconds(m.durationMs);
      if (s !== undefined) operation.observe(s, m.namespace, 'redis', 'set');
    }
  });
  r.on(c.delete, (m) => deletes.inc(Array.isArray(m.keys) ? m.keys.length : 1, m.namespace));
  r.on(c.factory, (m) => {
    const result = m.ok === false ? 'error' : 'success';
    factoryCalls.inc(1, m.namespace, result);
    const s = seconds(m.durationMs);
    if (s !== undefined) factoryDuration.observe(s, m.namespace, result);
  });
  r.on(c.timeout, (m) => timeouts.inc(1, m.namespace, m.kind));
  r.on(c.refresh, (m) => refreshes.inc(1, m.namespace, m.ok === false ? 'error' : 'success'));
  r.on(c.refused, (m) => refused.inc(1, m.namespace, m.reason));
  r.on(c.error, (m) => {
    errors.inc(1, m.namespace, m.operation);
    // A failed Redis read is a lookup that got no answer from that tier.
    if (m.operation === 'get') lookups.inc(1, m.namespace, 'redis', 'error');
  });
  r.on(c.evict, (m) => evictions.inc(1, m.namespace, m.reason));
  r.on(c['write-behind'], (m) => {
    const depth = count(m.depth);
    if (depth !== undefined) wbDepth.set(r.labels(wbDepth, { cache: m.namespace }), depth);
    wbFlushed.inc(count(m.flushed) ?? 0, m.namespace);
    wbFailed.inc(count(m.failed) ?? 0, m.namespace);
    wbDead.inc(count(m.deadLettered) ?? 0, m.namespace);
  });
}
