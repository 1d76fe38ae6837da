import { channel } from 'node:diagnostics_channel';
import { StratacacheError } from '@stratacache/core-client';
import { Counter, register as globalRegistry, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Channels, registerMetrics } from '../src/index.js';
import { value } from './exposition.js';
import { metrics, scrape } from './helpers.js';

const configError = (fn: () => unknown, pattern: RegExp) => {
  try {
    fn();
  } catch (error) {
    expect(StratacacheError.isInstance(error) && error.code).toBe('E_CONFIG');
    expect((error as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a ConfigError');
};

describe('registerMetrics', () => {
  it('registers on the given registry only: never the global one, never default metrics', async () => {
    const before = (await globalRegistry.getMetricsAsJSON()).length;
    const m = metrics();
    expect(m.metricNames).toContain('stratacache_cache_lookups_total');
    expect(m.metricNames.every((n) => n.startsWith('stratacache_'))).toBe(true); // no redis_* without a redis
    expect((await globalRegistry.getMetricsAsJSON()).length).toBe(before);
    const names = (await m.registry.getMetricsAsJSON()).map((x) => x.name);
    expect(names.some((n) => n.startsWith('process_') || n.startsWith('nodejs_'))).toBe(false);
    const s = await scrape(m);
    expect(s.types.get('stratacache_cache_lookups_total')).toBe('counter');
    expect(s.types.get('stratacache_redis_command_duration_seconds')).toBe('histogram');
    expect(s.types.get('stratacache_invalidation_bus_connected')).toBe('gauge');
    m.unregister();
  });

  it('refuses a second registration on one registry, and allows it again after unregister()', () => {
    const registry = new Registry();
    const first = registerMetrics({ registry });
    configError(() => registerMetrics({ registry }), /already called on this registry/);
    first.unregister();
    first.unregister(); // idempotent
    expect(first.active).toBe(false);
    const second = registerMetrics({ registry, prefix: 'app_cache_' });
    expect(second.metricNames).toContain('app_cache_cache_lookups_total');
    second.unregister();
  });

  it('unregister() removes every metric and stops listening', async () => {
    const registry = new Registry();
    const handle = registerMetrics({ registry });
    expect(channel(Channels.patterns.hit).hasSubscribers).toBe(true);
    handle.unregister();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
    expect((await registry.metrics()).trim()).toBe('');
    // Nobody else in this file listens any more: publishers pay nothing.
    expect(channel(Channels.patterns.hit).hasSubscribers).toBe(false);
  });

  it('a name taken by another library is a clear error, and nothing half-registered is left', async () => {
    const registry = new Registry();
    new Counter({ name: 'stratacache_lock_acquisitions_total', help: 'theirs', registers: [registry] });
    configError(() => registerMetrics({ registry }), /could not register a metric.*pass a prefix or another Registry/);
    expect((await registry.getMetricsAsJSON()).map((x) => x.name)).toEqual(['stratacache_lock_acquisitions_total']);
    expect(channel(Channels.patterns.hit).hasSubscribers).toBe(false);
  });

  it('names the bad option', () => {
    configError(() => registerMetrics({} as never), /registry must be a prom-client Registry/);
    configError(() => registerMetrics({ registry: new Registry(), prefix: '1bad' }), /prefix/);
    configError(() => registerMetrics({ registry: new Registry(), maxLabelValues: 0 }), /maxLabelValues/);
    configError(() => registerMetrics({ registry: new Registry(), buckets: { fast: [0.1, 0.01] } }), /buckets\.fast/);
    configError(() => registerMetrics({ registry: new Registry(), caches: [{} as never] }), /caches/);
    configError(() => registerMetrics({ registry: new Registry(), scrapeTimeout: 'soon' }), /scrapeTimeout/);
    configError(() => registerMetrics({ registry: new Registry(), lookups: 'sampled' as never }), /lookups must be/);
    configError(() => registerMetrics({ registry: new Registry(), lookups: 'stats' }), /pass at least one/);
  });

  it('uses the given buckets', async () => {
    const m = metrics({ buckets: { fast: [0.001, 0.01], slow: [1, 10] } });
    channel(Channels.core.command).publish({ client: 'b', command: 'get', durationMs: 5, ok: true });
    const s = await scrape(m);
    const les = s.samples
      .filter((x) => x.name === 'stratacache_redis_command_duration_seconds_bucket')
      .map((x) => x.labels.le);
    expect(les).toEqual(['0.001', '0.01', '+Inf']);
    expect(value(s, 'stratacache_redis_command_duration_seconds_bucket', { le: '0.01' })).toBe(1);
  });
});
