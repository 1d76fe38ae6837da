/**
 * Channels whose producers are not in this repository yet (sql-cache,
 * streams) or not published yet (patterns' evict): the documented payloads
 * are published on the documented names, and the metrics must follow. Also:
 * the label cap, and payloads of an unexpected shape.
 */
import { channel } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { Channels } from '../src/index.js';
import { find, value } from './exposition.js';
import { metrics, scrape, unique } from './helpers.js';

const publish = (name: string, message: Record<string, unknown>) => channel(name).publish(message);

describe('sql-cache contract', () => {
  it('turns lookup, invalidation, query, fallback and parse-failure events into metrics', async () => {
    const m = metrics();
    const table = unique('orders');
    expect(Channels.sqlCache.lookup).toBe('stratacache:sql-cache:lookup');
    for (const result of ['hit', 'hit', 'miss', 'stale', 'bypass'])
      publish(Channels.sqlCache.lookup, { table, result });
    publish(Channels.sqlCache.invalidation, { table, source: 'write' });
    publish(Channels.sqlCache.invalidation, { table, source: 'notify' });
    publish(Channels.sqlCache.query, { source: 'cache', durationMs: 0.4 });
    publish(Channels.sqlCache.query, { source: 'db', durationMs: 35 });
    publish(Channels.sqlCache.fallback, { reason: 'redis-down' });
    publish(Channels.sqlCache['parse-failure'], { reason: 'unsupported-syntax' });
    const s = await scrape(m);
    expect(value(s, 'stratacache_sql_cache_lookups_total', { table, result: 'hit' })).toBe(2);
    expect(value(s, 'stratacache_sql_cache_lookups_total', { table })).toBe(5);
    expect(value(s, 'stratacache_sql_cache_invalidations_total', { table, source: 'notify' })).toBe(1);
    expect(value(s, 'stratacache_sql_query_duration_seconds_count', { source: 'db' })).toBe(1);
    expect(value(s, 'stratacache_sql_query_duration_seconds_sum', { source: 'db' })).toBeCloseTo(0.035);
    expect(value(s, 'stratacache_sql_cache_fallbacks_total', { reason: 'redis-down' })).toBe(1);
    expect(value(s, 'stratacache_sql_parse_failures_total', { reason: 'unsupported-syntax' })).toBe(1);
  });
});

describe('streams contract', () => {
  it('turns batch, lag, queue, commit and error events into metrics', async () => {
    const m = metrics();
    const source = unique('orders-stream');
    publish(Channels.streams.batch, {
      source,
      records: 10,
      applied: 7,
      duplicate: 1,
      late: 1,
      dropped: 0,
      invalid: 1,
      durationMs: 12,
    });
    publish(Channels.streams.batch, {
      source,
      records: 3,
      applied: 3,
      duplicate: 0,
      late: 0,
      dropped: 0,
      invalid: 0,
      durationMs: 4,
    });
    publish(Channels.streams.lag, { source, topic: 'orders', partition: 0, lag: 42 });
    publish(Channels.streams.lag, { source, topic: 'orders', partition: 0, lag: 7 });
    publish(Channels.streams.queue, { source, depth: 120, paused: true });
    publish(Channels.streams.commit, { source, topic: 'orders', partition: 0, offset: '1234' });
    publish(Channels.streams.error, { source, operation: 'commit', error: new Error('broker gone') });
    const s = await scrape(m);
    expect(value(s, 'stratacache_stream_records_total', { source, result: 'applied' })).toBe(10);
    expect(value(s, 'stratacache_stream_records_total', { source, result: 'invalid' })).toBe(1);
    expect(value(s, 'stratacache_stream_batch_duration_seconds_count', { source })).toBe(2);
    expect(value(s, 'stratacache_stream_consumer_lag', { source, topic: 'orders', partition: '0' })).toBe(7);
    expect(value(s, 'stratacache_stream_queue_depth', { source })).toBe(120);
    expect(value(s, 'stratacache_stream_queue_paused', { source })).toBe(1);
    expect(value(s, 'stratacache_stream_committed_offset', { source, partition: '0' })).toBe(1234);
    expect(value(s, 'stratacache_stream_last_commit_timestamp_seconds', { source })).toBeGreaterThan(
      Date.now() / 1000 - 60,
    );
    expect(value(s, 'stratacache_stream_errors_total', { source, operation: 'commit' })).toBe(1);
  });
});

describe('patterns contract beyond what the Cache publishes today', () => {
  it('counts evictions, stale serves, timeouts, refusals, errors and write-behind', async () => {
    const m = metrics();
    const cache = unique('c');
    publish(Channels.patterns.evict, { namespace: cache, reason: 'size' });
    publish(Channels.patterns.evict, { namespace: cache, reason: 'size' });
    publish(Channels.patterns.stale, { namespace: cache, key: 'k', reason: 'factory-error' });
    publish(Channels.patterns.timeout, { namespace: cache, key: 'k', kind: 'soft' });
    publish(Channels.patterns.refused, { namespace: cache, key: 'k', reason: 'invalidated' });
    publish(Channels.patterns.refresh, { namespace: cache, key: 'k', ok: false });
    publish(Channels.patterns.error, { namespace: cache, operation: 'get', key: 'k', error: new Error('x') });
    publish(Channels.patterns['write-behind'], { namespace: cache, depth: 5, flushed: 3, failed: 1 });
    publish(Channels.patterns['write-behind'], { namespace: cache, depth: 2, flushed: 0, failed: 0, deadLettered: 2 });
    publish(Channels.patterns.hit, { namespace: cache, key: 'k', tier: 'redis', durationMs: 0.3 });
    const s = await scrape(m);
    expect(value(s, 'stratacache_cache_evictions_total', { cache, reason: 'size' })).toBe(2);
    expect(value(s, 'stratacache_cache_failsafe_activations_total', { cache, reason: 'factory-error' })).toBe(1);
    expect(value(s, 'stratacache_cache_factory_timeouts_total', { cache, kind: 'soft' })).toBe(1);
    expect(value(s, 'stratacache_cache_writes_refused_total', { cache, reason: 'invalidated' })).toBe(1);
    expect(value(s, 'stratacache_cache_refreshes_total', { cache, result: 'error' })).toBe(1);
    expect(value(s, 'stratacache_cache_errors_total', { cache, operation: 'get' })).toBe(1);
    expect(value(s, 'stratacache_cache_lookups_total', { cache, tier: 'redis', result: 'error' })).toBe(1);
    expect(value(s, 'stratacache_cache_write_behind_depth', { cache })).toBe(2);
    expect(value(s, 'stratacache_cache_write_behind_flushed_total', { cache })).toBe(3);
    expect(value(s, 'stratacache_cache_write_behind_failed_total', { cache })).toBe(1);
    expect(value(s, 'stratacache_cache_write_behind_dead_letters_total', { cache })).toBe(2);
    expect(value(s, 'stratacache_cache_operation_duration_seconds_count', { cache, tier: 'redis', op: 'get' })).toBe(1);
  });
});

describe('labels', () => {
  it('caps distinct values per metric and label, counting the rest as other', async () => {
    const m = metrics({ maxLabelValues: 3 });
    for (let i = 0; i < 50; i++)
      publish(Channels.coordination['lock-contended'], { namespace: 'n', lock: `fam${i}`, name: `fam${i}:1` });
    const s = await scrape(m);
    const series = find(s, 'stratacache_lock_acquisitions_total');
    expect(series.map((x) => x.labels.lock).sort()).toEqual(['fam0', 'fam1', 'fam2', 'other']);
    expect(value(s, 'stratacache_lock_acquisitions_total', { lock: 'other' })).toBe(47);
    expect(
      value(s, 'stratacache_metrics_label_overflow_total', {
        metric: 'stratacache_lock_acquisitions_total',
        label: 'lock',
      }),
    ).toBe(47);
  });

  it('counts a payload of an unexpected shape instead of throwing into the publisher', async () => {
    const m = metrics();
    expect(() => publish(Channels.core.command, { client: 'c', command: 'get', durationMs: 'soon' })).not.toThrow();
    const s = await scrape(m);
    expect(value(s, 'stratacache_metrics_handler_errors_total', { channel: Channels.core.command })).toBe(1);
    // A missing field is a label value "unknown", never undefined.
    publish(Channels.sessions.created, {});
    expect(value(await scrape(m), 'stratacache_sessions_created_total', { namespace: 'unknown' })).toBe(1);
  });
});
