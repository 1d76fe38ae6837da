import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { AlertChannel, type AlertEvent, Channels, createAlerts } from '../src/index.js';
import { client, eventually, later, metrics, server, unique } from './helpers.js';

const publish = (name: string, message: Record<string, unknown>) => channel(name).publish(message);
const lookups = (cache: string, result: 'hit' | 'miss', n: number) => {
  for (let i = 0; i < n; i++) publish(Channels.patterns[result], { namespace: cache, key: `k${i}`, tier: 'redis' });
};

describe('in-process alerts', () => {
  it('fire on a hit-ratio drop and clear only once the ratio is back above the clear threshold', async () => {
    const m = metrics();
    const heard: AlertEvent[] = [];
    const published: unknown[] = [];
    const listener = (e: unknown) => published.push(e);
    subscribe(AlertChannel, listener);
    later(() => unsubscribe(AlertChannel, listener));
    const alerts = createAlerts({
      metrics: m,
      interval: 0,
      for: 0,
      hitRatio: { window: '1h', minLookups: 10 },
      memory: false,
      evictions: false,
      onAlert: (e) => heard.push(e),
    });
    later(() => alerts.close());
    const cache = unique('c');
    expect(await alerts.evaluate()).toEqual([]); // the baseline
    lookups(cache, 'hit', 100);
    expect(await alerts.evaluate()).toEqual([]); // ratio 1
    lookups(cache, 'miss', 100);
    const fired = await alerts.evaluate(); // 100 / 200 = 0.5
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ alert: 'cache-hit-ratio-low', state: 'firing', value: 0.5, threshold: 0.8 });
    expect(alerts.firing()).toEqual(['cache-hit-ratio-low']);
    lookups(cache, 'hit', 400);
    expect(await alerts.evaluate()).toEqual([]); // 500 / 600 = 0.83: above 0.8, below the 0.85 clear threshold
    expect(alerts.firing()).toEqual(['cache-hit-ratio-low']);
    lookups(cache, 'hit', 400);
    const resolved = await alerts.evaluate(); // 900 / 1000 = 0.9
    expect(resolved).toEqual([
      expect.objectContaining({ alert: 'cache-hit-ratio-low', state: 'resolved', threshold: 0.85 }),
    ]);
    expect(alerts.firing()).toEqual([]);
    expect(heard.map((e) => e.state)).toEqual(['firing', 'resolved']);
    expect(published).toEqual(heard);
  });

  it('wait for the condition to hold for `for` before firing', async () => {
    const m = metrics();
    const alerts = createAlerts({
      metrics: m,
      interval: 0,
      for: 300,
      hitRatio: { window: '1h', minLookups: 1 },
      memory: false,
      evictions: false,
    });
    later(() => alerts.close());
    await alerts.evaluate();
    lookups(unique('c'), 'miss', 10);
    expect(await alerts.evaluate()).toEqual([]); // breached, but only just
    expect(alerts.firing()).toEqual([]);
    await eventually(async () => (await alerts.evaluate()).length === 1);
    expect(alerts.firing()).toEqual(['cache-hit-ratio-low']);
  });

  it('fire while a breaker is open or a bus is disconnected, and resolve when they are back', async () => {
    const m = metrics();
    const alerts = createAlerts({ metrics: m, interval: 0, for: 0, hitRatio: false, memory: false, evictions: false });
    later(() => alerts.close());
    const connection = unique('conn');
    const bus = unique('bus');
    publish(Channels.core.breaker, { client: connection, from: 'closed', to: 'open', failures: 5 });
    publish(Channels.invalidation.connected, { channel: bus });
    publish(Channels.invalidation.disconnected, { channel: bus, reason: 'connection-lost' });
    const fired = await alerts.evaluate();
    expect(fired.map((e) => [e.alert, e.state, e.value])).toEqual([
      ['breaker-open', 'firing', 1],
      ['bus-disconnected', 'firing', 1],
    ]);
    publish(Channels.core.breaker, { client: connection, from: 'open', to: 'half-open', failures: 5 });
    publish(Channels.invalidation.connected, { channel: bus });
    const resolved = await alerts.evaluate();
    expect(resolved.map((e) => [e.alert, e.state])).toEqual([
      ['breaker-open', 'resolved'],
      ['bus-disconnected', 'resolved'],
    ]);
  });

  it('fire when a Redis with a small maxmemory is filled past 90%, and clear once it is emptied', async () => {
    const s = await server({ maxmemory: '3mb', maxmemoryPolicy: 'noeviction' });
    const redis = client({ url: s.url });
    const m = metrics({ redis, scrapeCacheTtl: 0 });
    const heard: AlertEvent[] = [];
    const alerts = createAlerts({
      metrics: m,
      interval: 0,
      for: 0,
      hitRatio: false,
      evictions: false,
      onAlert: (e) => heard.push(e),
    });
    later(() => alerts.close());
    expect(await alerts.evaluate()).toEqual([]);
    const ratio = async () => {
      const info = await redis.client.info('memory');
      const used = Number(/used_memory:(\d+)/.exec(info)?.[1]);
      return used / (3 * 1024 * 1024);
    };
    const chunk = 'x'.repeat(16 * 1024);
    let i = 0;
    while ((await ratio()) <= 0.92) {
      await redis.client.set(`fill:${i++}`, chunk).catch(() => {}); // near the limit a write may be refused (OOM)
      if (i > 1000) throw new Error('could not fill Redis past 92% of maxmemory');
    }
    const fired = await alerts.evaluate();
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ alert: 'redis-memory-high', state: 'firing', threshold: 0.9 });
    expect(fired[0]?.value).toBeGreaterThan(0.9);
    await redis.client.flushall();
    await eventually(async () => (await ratio()) < 0.85);
    const resolved = await alerts.evaluate();
    expect(resolved).toEqual([
      expect.objectContaining({ alert: 'redis-memory-high', state: 'resolved', threshold: 0.85 }),
    ]);
    expect(heard.map((e) => e.state)).toEqual(['firing', 'resolved']);
  });

  it('never judge memory on a Redis without maxmemory (no division by zero, no alert)', async () => {
    const s = await server();
    const redis = client({ url: s.url });
    await redis.client.config('SET', 'maxmemory', '0');
    const m = metrics({ redis, scrapeCacheTtl: 0 });
    const alerts = createAlerts({ metrics: m, interval: 0, for: 0, hitRatio: false });
    later(() => alerts.close());
    await redis.client.set('k', 'x'.repeat(100_000));
    expect(await alerts.evaluate()).toEqual([]);
    expect(await alerts.evaluate()).toEqual([]);
    expect(alerts.firing()).toEqual([]);
  });

  it('fire on evictions per second above the threshold', async () => {
    const s = await server({ maxmemory: '2mb', maxmemoryPolicy: 'allkeys-lru' });
    const redis = client({ url: s.url });
    const m = metrics({ redis, scrapeCacheTtl: 0 });
    const alerts = createAlerts({
      metrics: m,
      interval: 0,
      for: 0,
      hitRatio: false,
      memory: false,
      evictions: { above: 5, clearBelow: 1 },
    });
    later(() => alerts.close());
    await alerts.evaluate();
    const chunk = 'y'.repeat(32 * 1024);
    const writes = Array.from({ length: 300 }, (_, i) => redis.client.set(`e:${i}`, chunk));
    await Promise.all(writes);
    const fired = await alerts.evaluate();
    expect(fired).toEqual([expect.objectContaining({ alert: 'redis-evictions-high', state: 'firing' })]);
    await eventually(async () => (await alerts.evaluate()).some((e) => e.state === 'resolved'));
  });

  it('refuse thresholds without a safe gap', () => {
    const m = metrics();
    expect(() => createAlerts({ metrics: m, hitRatio: { below: 0.8, clearAbove: 0.7 } })).toThrowError(
      /clear threshold/,
    );
    expect(() => createAlerts({ metrics: {} as never })).toThrowError(/registerMetrics/);
  });
});
