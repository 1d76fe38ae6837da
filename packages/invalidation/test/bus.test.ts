import { eventually } from '@stratacache/test-utils';
import { describe, expect, it } from 'vitest';
import { createInvalidationBus } from '../src/index.js';
import { client, server, unique } from './helpers.js';
import { startWorker } from './processes.js';

describe('the bus across OS processes', () => {
  it("delivers A's invalidation to B's local target; A ignores its own", async () => {
    const s = await server();
    const channel = unique('inv');
    const prefix = unique('app');
    const b = startWorker('instance', { url: s.url, prefix, namespace: 'cache', channel });
    await b.next((e) => e.ready === true);
    const a = createInvalidationBus(client({ url: s.url, prefix }), { channel });
    const ownLocal: string[][] = [];
    a.register({
      namespace: 'cache',
      deleteLocal: (keys) => ownLocal.push(keys),
      clearLocal: () => ownLocal.push(['CLEAR']),
    });
    await a.start();
    await a.publish('dk', 'cache', ['k1', 'k2']);
    await a.publish('dk', 'other-namespace', ['k3']);
    const deleted = await b.next((e) => Array.isArray(e.deleted));
    expect(deleted).toEqual({ deleted: ['k1', 'k2'], size: 98 });
    await new Promise((r) => setTimeout(r, 150));
    // A's own tier was told once, at once; its message coming back over Redis was ignored.
    expect(ownLocal).toEqual([['k1', 'k2']]);
    expect(b.events.filter((e) => e.deleted)).toHaveLength(1); // other namespaces do not reach B's target
    b.child.kill('SIGTERM');
    await b.done();
    await a.stop();
  }, 30_000);

  it('B clears its tier when its subscriber is killed or Redis restarts while A invalidates: nothing stale survives', async () => {
    const s = await server();
    const channel = unique('inv');
    const prefix = unique('app');
    const b = startWorker('instance', { url: s.url, prefix, namespace: 'cache', channel });
    await b.next((e) => e.ready === true);
    const aRedis = client({ url: s.url, prefix, commandTimeout: 500, breaker: false });
    const a = createInvalidationBus(aRedis, { channel, retryIntervalMs: 100 });
    await a.start();

    // 1. B's subscriber connection is killed; A invalidates while B is away.
    await aRedis.client.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    for (let i = 0; i < 20; i++) await a.publish('dk', 'cache', [`k${i}`]);
    const cleared = await b.next((e) => e.cleared === true, 15_000);
    // It held entries A invalidated meanwhile, and dropped them all. (How many: up to 100, fewer when
    // some of A's deletes landed between B's resubscribe and its 'resubscribed' event, on a busy machine.)
    expect(cleared).toMatchObject({ size: 0 });
    expect(cleared.sizeBefore).toBeGreaterThan(0);

    // 2. Redis restarts while A invalidates: A queues what it cannot publish, B clears on reconnect.
    const before = b.events.filter((e) => e.cleared).length;
    await s.restart();
    await eventually(() => b.events.filter((e) => e.cleared).length > before, 15_000);
    // B had refilled its tier after the first clear; the second gap clears it again.
    const second = b.events.filter((e) => e.cleared).at(-1);
    expect(second).toMatchObject({ size: 0 });
    expect(second?.sizeBefore).toBeGreaterThan(0);
    b.child.kill('SIGTERM');
    await b.done();
    await a.stop();
  }, 40_000);
});

describe('publishing through an outage', () => {
  it('queues failed publishes, replays them after the outage, and collapses an overflow into one clear', async () => {
    const s = await server();
    const channel = unique('inv');
    const prefix = unique('app');
    const a = createInvalidationBus(client({ url: s.url, prefix, commandTimeout: 300, breaker: false }), {
      channel,
      maxRetryQueue: 5,
      retryIntervalMs: 60_000,
    });
    const bRedis = client({ url: s.url, prefix, commandTimeout: 300, breaker: false, reconnectMaxDelay: '100ms' });
    const b = createInvalidationBus(bRedis, { channel });
    const seen: string[] = [];
    b.onInvalidation((e) => {
      if (!e.local) seen.push(`${e.op}:${e.items.join(',')}`);
    });
    await a.start();
    await b.start();

    s.pause();
    try {
      await a.publish('dk', 'cache', ['x']);
      await a.publish('dk', 'cache', ['x']); // the same key again: kept once
      await a.publish('dt', 'cache', ['t1']);
      expect(a.pending).toBe(2);
    } finally {
      s.resume();
    }
    await eventually(async () => (await bRedis.client.ping().catch(() => '')) === 'PONG');
    expect(await a.flush()).toBe(0);
    await eventually(() => seen.length >= 2);
    expect(seen).toEqual(expect.arrayContaining(['dk:x', 'dt:t1']));

    s.pause();
    try {
      for (let i = 0; i < 10; i++) await a.publish('dk', 'cache', [`k${i}`]);
      expect(a.pending).toBe(1); // overflowed: one clear instead of ten deletes, nothing silently dropped
    } finally {
      s.resume();
    }
    seen.length = 0;
    await eventually(async () => (await a.flush()) === 0);
    await eventually(() => seen.includes('c:'));
  }, 30_000);

  it("detects a gap in a sender's sequence and clears local targets", async () => {
    const redis = client();
    const channel = unique('inv');
    const a = createInvalidationBus(redis, { channel });
    const b = createInvalidationBus(client({ prefix: redis.options.prefix }), { channel });
    const cleared: number[] = [];
    b.register({ deleteLocal: () => {}, clearLocal: () => cleared.push(Date.now()) });
    const gaps: unknown[] = [];
    b.on('gap', (g) => gaps.push(g));
    await b.start();
    await a.publish('dk', 'cache', ['k1']);
    // Simulate a lost message: skip a sequence number by publishing with a raw client.
    await redis
      .pubsub('events')
      .publish(
        channel,
        { v: 1, i: a.instanceId, s: 3, n: 'cache', o: 'dk', d: ['k3'], t: Date.now() },
        { sharded: b.sharded },
      );
    await eventually(() => gaps.length === 1);
    expect(gaps[0]).toMatchObject({ from: a.instanceId, expected: 2, got: 3 });
    expect(cleared).toHaveLength(1);
  });

  it('runs an event broker: emitInvalidation reaches onInvalidation handlers everywhere', async () => {
    const prefix = unique('broker');
    const channel = unique('inv');
    const a = createInvalidationBus(client({ prefix }), { channel });
    const b = createInvalidationBus(client({ prefix }), { channel });
    const got: unknown[] = [];
    b.onInvalidation((e) => got.push({ op: e.op, payload: e.payload, local: e.local }));
    await b.start();
    await a.emitInvalidation('orders', { orderId: 7, reason: 'refund' });
    await eventually(() => got.length === 1);
    expect(got[0]).toEqual({ op: 'ev', payload: { orderId: 7, reason: 'refund' }, local: false });
  });
});

describe('ordering and what survives an overflow', () => {
  it('does not call reordered messages a gap, only a real jump', async () => {
    const redis = client();
    const channel = unique('inv');
    const b = createInvalidationBus(client({ prefix: redis.options.prefix }), { channel });
    const gaps: unknown[] = [];
    b.on('gap', (g) => gaps.push(g));
    await b.start();
    const send = (s: number) =>
      redis
        .pubsub('events')
        .publish(
          channel,
          { v: 1, i: 'sender', s, n: 'cache', o: 'dk', d: [`k${s}`], t: Date.now() },
          { sharded: b.sharded },
        );
    for (const s of [1, 3, 2, 4]) await send(s);
    await send(7);
    await eventually(() => gaps.length >= 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(gaps).toEqual([
      { from: 'sender', expected: 2, got: 3 },
      { from: 'sender', expected: 5, got: 7 },
    ]);
  });

  it('keeps application events when invalidations overflow into a clear', async () => {
    const s = await server();
    const prefix = unique('app');
    const channel = unique('inv');
    const a = createInvalidationBus(client({ url: s.url, prefix, commandTimeout: 300, breaker: false }), {
      channel,
      maxRetryQueue: 2,
      retryIntervalMs: 60_000,
    });
    const b = createInvalidationBus(
      client({ url: s.url, prefix, commandTimeout: 300, breaker: false, reconnectMaxDelay: '100ms' }),
      { channel },
    );
    const got: string[] = [];
    b.onInvalidation((e) => {
      if (!e.local) got.push(e.op === 'ev' ? `ev:${JSON.stringify(e.payload)}` : e.op);
    });
    await b.start();
    s.pause();
    try {
      await a.emitInvalidation('orders', { id: 1 });
      for (let i = 0; i < 5; i++) await a.publish('dk', 'cache', [`k${i}`]);
    } finally {
      s.resume();
    }
    await eventually(async () => (await a.flush()) === 0, 10_000);
    await eventually(() => got.includes('c') && got.includes('ev:{"id":1}'));
  }, 20_000);
});
