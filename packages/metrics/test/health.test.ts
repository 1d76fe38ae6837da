import type { AddressInfo } from 'node:net';
import { createInvalidationBus } from '@stratacache/invalidation';
import express from 'express';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  breakerClosedCheck,
  busConnectedCheck,
  createHealth,
  fastifyHandlers,
  type HealthReport,
  nodeHandlers,
  pingCheck,
} from '../src/index.js';
import { parseExposition, value } from './exposition.js';
import { client, eventually, later, metrics, serve, server, unique } from './helpers.js';

async function get(url: string): Promise<{ status: number; report: HealthReport }> {
  const response = await fetch(url);
  return { status: response.status, report: (await response.json()) as HealthReport };
}

describe('health', () => {
  it('liveness and readiness flip when Redis is SIGSTOPped, and recover after SIGCONT', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: '5s', breaker: false });
    const channel = unique('inv');
    const bus = createInvalidationBus(client({ url: s.url, commandTimeout: 300, reconnectMaxDelay: 100 }), { channel });
    await bus.start();
    later(() => bus.stop());
    const health = createHealth({
      redis,
      timeout: 300,
      checks: { redis: pingCheck(redis), breaker: breakerClosedCheck(redis), bus: busConnectedCheck(bus) },
    });
    const base = await serve({ health });

    const up = await get(`${base}/healthz`);
    expect(up.status).toBe(200);
    expect(up.report.checks.process?.ok).toBe(true);
    expect(up.report.checks.redis).toMatchObject({ ok: true });
    const ready = await get(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.report.checks).sort()).toEqual(['breaker', 'bus', 'redis']);
    expect(ready.report.checks.redis?.latencyMs).toBeGreaterThanOrEqual(0);

    s.pause();
    try {
      const down = await get(`${base}/healthz`);
      expect(down.status).toBe(503);
      expect(down.report.status).toBe('fail');
      expect(down.report.checks.process?.ok).toBe(true);
      expect(down.report.checks.redis?.ok).toBe(false);
      expect(down.report.checks.redis?.error).toMatch(/did not answer within 300 ms/);
      const notReady = await get(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(notReady.report.checks.redis?.ok).toBe(false);
      expect(notReady.report.checks.breaker?.ok).toBe(true); // no breaker on this client: it cannot be open
    } finally {
      s.resume();
    }
    await eventually(async () => (await get(`${base}/healthz`)).status === 200);
    await eventually(async () => (await get(`${base}/readyz`)).status === 200);
  });

  it('readiness fails when the bus loses its connection and passes again once resubscribed', async () => {
    const s = await server();
    const bus = createInvalidationBus(
      client({ url: s.url, breaker: false, commandTimeout: 300, reconnectMaxDelay: 100 }),
      {
        channel: unique('inv'),
      },
    );
    await bus.start();
    later(() => bus.stop());
    const health = createHealth({ checks: { bus: busConnectedCheck(bus) } });
    expect((await health.readiness()).ok).toBe(true);
    await s.kill();
    await eventually(async () => !(await health.readiness()).ok);
    expect((await health.readiness()).checks.bus).toMatchObject({ ok: false, detail: { connected: false } });
    await s.restart();
    await eventually(async () => (await health.readiness()).ok);
  });

  it('a check that hangs is reported failed within its timeout, and is told to stop', async () => {
    let aborted = false;
    const health = createHealth({
      timeout: 150,
      checks: {
        hangs: (signal) =>
          new Promise(() => {
            signal.addEventListener('abort', () => {
              aborted = true;
            });
          }),
        fine: async () => true,
        detailed: async () => ({ ok: true, detail: { lag: 3 } }),
        throws: async () => {
          throw new Error('consumer crashed');
        },
      },
    });
    const report = await health.readiness();
    expect(report.ok).toBe(false);
    expect(report.checks.hangs).toMatchObject({ ok: false, error: expect.stringMatching(/within 150 ms/) });
    expect(report.checks.hangs?.latencyMs).toBeGreaterThanOrEqual(140);
    expect(aborted).toBe(true);
    expect(report.checks.fine?.ok).toBe(true);
    expect(report.checks.detailed).toMatchObject({ ok: true, detail: { lag: 3 } });
    expect(report.checks.throws).toMatchObject({ ok: false, error: 'consumer crashed' });
  });

  it('register() adds and removes checks; a duplicate name or a bad timeout is a ConfigError', async () => {
    const health = createHealth();
    expect((await health.readiness()).ok).toBe(true); // no checks: ready
    const remove = health.register('later', async () => false);
    expect((await health.readiness()).ok).toBe(false);
    expect(() => health.register('later', async () => true)).toThrowError(/already registered/);
    remove();
    expect((await health.readiness()).ok).toBe(true);
    expect(() => createHealth({ timeout: 0 })).toThrowError(/timeout/);
  });
});

describe('HTTP handlers', () => {
  it('serve /metrics, /healthz and /readyz from Express', async () => {
    const m = metrics();
    const health = createHealth({ checks: { ok: async () => true } });
    const h = nodeHandlers({ registry: m.registry, health });
    const app = express();
    app.get('/metrics', h.metrics);
    app.get('/healthz', h.healthz);
    app.get('/readyz', h.readyz);
    const listener = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => listener.once('listening', resolve));
    later(() => new Promise((resolve) => listener.close(resolve)));
    const base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(parseExposition(await res.text()).types.get('stratacache_cache_lookups_total')).toBe('counter');
    expect((await get(`${base}/healthz`)).status).toBe(200);
    expect((await get(`${base}/readyz`)).report.checks.ok?.ok).toBe(true);
  });

  it('serve /metrics, /healthz and /readyz from Fastify', async () => {
    const m = metrics();
    const health = createHealth({ checks: { down: async () => false } });
    const h = fastifyHandlers({ registry: m.registry, health });
    const app = Fastify();
    app.get('/metrics', h.metrics);
    app.get('/healthz', h.healthz);
    app.get('/readyz', h.readyz);
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    later(() => app.close());
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const s = parseExposition(await res.text());
    expect(value(s, 'stratacache_metrics_handler_errors_total')).toBe(0);
    expect(s.types.get('stratacache_lock_wait_seconds')).toBe('histogram');
    expect((await get(`${base}/healthz`)).status).toBe(200);
    const ready = await get(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.report.checks.down?.ok).toBe(false);
  });

  it('the node:http listener answers 404 off its paths', async () => {
    const m = metrics();
    const base = await serve({ registry: m.registry });
    expect((await fetch(`${base}/elsewhere`)).status).toBe(404);
    expect((await fetch(`${base}/metrics?x=1`)).status).toBe(200);
  });
});
