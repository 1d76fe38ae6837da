/**
 * The recent-windows HTTP API and the health checks, including while Redis is
 * stopped: health says 503 within its timeout, reads answer 503, nothing hangs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRedis } from '@stratacache/core-client';
import { eventually } from '@stratacache/test-utils';
import { afterEach, describe, expect, test } from 'vitest';
import {
  createWindowAggregator,
  createWindowReader,
  createWindowsHandler,
  type HealthCheck,
  RedisStreamSource,
  runHealthChecks,
  type WindowSpec,
} from '../src/index.js';
import { client, produce, server, streamKey, track } from './helpers.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const http = createServer(handler);
  servers.push(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const spec: WindowSpec = {
  name: 'orders',
  size: '1m',
  grace: '5s',
  retention: '1h',
  fields: ['amount'],
  dimensions: ['country'],
};

describe('HTTP API and health', () => {
  test('recent windows, one window, errors as JSON; healthz and readyz from the aggregator checks', async () => {
    const redis = client();
    const stream = streamKey(redis);
    const source = new RedisStreamSource({ redis, stream, group: 'g', consumer: 'c', block: '100ms' });
    const aggregator = track(
      createWindowAggregator({ redis, source, windows: [spec], lagInterval: '100ms', batch: { linger: 0 } }),
    );
    const base = await listen(createWindowsHandler(aggregator));
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;

    // Not started: not alive as an aggregator, not ready.
    expect((await get(`${base}/healthz`)).status).toBe(503);
    await aggregator.start();
    await produce(redis, stream, [
      { time: t0 + 1, amount: 5, country: 'de' },
      { time: t0 + 66_000, amount: 7, country: 'fr' },
    ]);
    await eventually(() => aggregator.stats().totals.records === 2, 10_000);

    const health = await get(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', checks: { redis: { ok: true }, aggregator: { ok: true } } });
    // Lag is sampled every lagInterval: the sample taken before the two records were acknowledged may say 2.
    await eventually(async () => {
      const r = await get(`${base}/readyz`);
      const checks = r.body.checks as { lag?: { detail?: { lag?: number } } } | undefined;
      return r.status === 200 && checks?.lag?.detail?.lag === 0;
    }, 10_000);
    const ready = await get(`${base}/readyz`);
    expect(ready.body.checks).toMatchObject({
      source: { ok: true, detail: { connected: true, assigned: 1 } },
      lag: { ok: true, detail: { lag: 0 } },
      breaker: { ok: true, detail: { state: 'closed' } },
    });

    expect((await get(`${base}/windows`)).body).toEqual({ names: ['orders'] });
    const recent = await get(`${base}/windows/orders?count=1`);
    expect(recent.status).toBe(200);
    expect(recent.body).toMatchObject({ name: 'orders', windows: [{ start: t0 + 60_000, count: 1 }] });
    const since = await get(`${base}/windows/orders?since=${t0}`);
    expect((since.body.windows as unknown[]).length).toBe(2);
    const one = await get(`${base}/windows/orders/${t0}`);
    expect(one.body).toMatchObject({
      start: t0,
      end: t0 + 60_000,
      count: 1,
      fields: { amount: { sum: 5, min: 5, max: 5 } },
      dimensions: { country: { de: { count: 1 } } },
      final: true,
    });
    expect((await get(`${base}/windows/orders/${t0 + 1}`)).status).toBe(404);
    expect((await get(`${base}/windows/nope`)).status).toBe(404);
    expect((await get(`${base}/windows/orders?count=0`)).status).toBe(400);
    expect((await get(`${base}/windows/orders?since=yesterday`)).status).toBe(400);
    expect((await get(`${base}/windows/orders`, { method: 'POST' })).status).toBe(405);
    expect((await get(`${base}/elsewhere`)).status).toBe(404);
    await aggregator.stop();
    expect((await get(`${base}/healthz`)).body).toMatchObject({
      status: 'fail',
      checks: { aggregator: { ok: false } },
    });
  });

  test('Redis stopped: healthz and readyz answer 503 within the health timeout, reads 503, then recover', async () => {
    const redisServer = await server();
    const redis = createRedis({
      url: redisServer.url,
      env: {},
      prefix: 'hz',
      commandTimeout: '300ms',
      breaker: { failureThreshold: 5, window: '10s', openDuration: '300ms' },
    });
    const stream = 'hz:stream';
    const source = new RedisStreamSource({ redis, stream, group: 'g', consumer: 'c', block: '100ms' });
    const aggregator = track(createWindowAggregator({ redis, source, windows: [spec], lagInterval: '100ms' }));
    await aggregator.start();
    const base = await listen(createWindowsHandler(aggregator, { healthTimeout: '500ms', basePath: '/streams' }));
    await eventually(async () => (await get(`${base}/streams/readyz`)).status === 200, 10_000);

    redisServer.pause();
    try {
      const started = Date.now();
      const health = await get(`${base}/streams/healthz`);
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ status: 'fail', checks: { redis: { ok: false }, aggregator: { ok: true } } });
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await get(`${base}/streams/readyz`)).status).toBe(503);
      const read = await get(`${base}/streams/windows/orders?count=5`);
      expect(read.status).toBe(503);
      expect(read.body.code).toMatch(/^E_(TIMEOUT|CONNECTION|CIRCUIT_OPEN)$/);
    } finally {
      redisServer.resume();
    }
    await eventually(async () => (await get(`${base}/streams/healthz`)).status === 200, 15_000);
    expect((await get(`${base}/healthz`)).status).toBe(404);
    await aggregator.stop();
    await redis.close();
  });

  test('healthChecks() has the shape createHealth({ checks }) of the metrics package takes', async () => {
    const redis = client();
    const source = new RedisStreamSource({ redis, stream: streamKey(redis), group: 'g', consumer: 'c' });
    const aggregator = track(createWindowAggregator({ redis, source, windows: [spec] }));
    const checks = aggregator.healthChecks();
    expect(Object.keys(checks.live).sort()).toEqual(['aggregator', 'redis']);
    expect(Object.keys(checks.ready).sort()).toEqual(['breaker', 'lag', 'source']);
    const signal = new AbortController().signal;
    for (const check of [...Object.values(checks.live), ...Object.values(checks.ready)] as HealthCheck[]) {
      const result = await check(signal);
      expect(typeof result === 'boolean' || typeof result.ok === 'boolean').toBe(true);
    }
    // A boolean result and a throwing check are both understood.
    const outcome = await runHealthChecks(
      { yes: async () => true, boom: async () => Promise.reject(new Error('x')) },
      500,
    );
    expect(outcome).toEqual({ ok: false, checks: { yes: { ok: true }, boom: { ok: false, error: 'x' } } });
  });

  test('a reader serves the API without an aggregator (health has no checks then)', async () => {
    const redis = client();
    const reader = createWindowReader({ redis, windows: [spec] });
    const base = await listen(createWindowsHandler(reader));
    expect((await get(`${base}/windows/orders?count=3`)).body).toEqual({ name: 'orders', windows: [] });
    expect((await get(`${base}/healthz`)).body).toEqual({ status: 'ok', checks: {} });
  });
});
