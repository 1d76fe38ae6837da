import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { CoreChannels, type ResubscribedEvent } from '../src/index.js';
import { client, eventually, server, sleep } from './helpers.js';

describe('pub/sub', () => {
  it('routes JSON messages by topic, with a filter, and binary payloads untouched', async () => {
    const redis = client();
    const bus = redis.pubsub(`ps${Date.now()}`);
    const orders: unknown[] = [];
    const bigOrders: unknown[] = [];
    const blobs: Buffer[] = [];
    await bus.subscribe<{ id: number; total: number }>('orders', (p, meta) => orders.push({ ...p, topic: meta.topic }));
    await bus.subscribe<{ id: number; total: number }>('orders', (p) => bigOrders.push(p), {
      filter: (p) => p.total > 100,
    });
    await bus.subscribe<Buffer>('blobs', (p) => blobs.push(p), { binary: true });

    expect(await bus.publish('orders', { id: 1, total: 50 })).toBe(1); // one connection, however many handlers
    await bus.publish('orders', { id: 2, total: 500 });
    await bus.publish('blobs', Buffer.from([0, 0xff, 0xf5]));
    await eventually(() => orders.length === 2 && blobs.length === 1);
    expect(orders).toEqual([
      { id: 1, total: 50, topic: 'orders' },
      { id: 2, total: 500, topic: 'orders' },
    ]);
    expect(bigOrders).toEqual([{ id: 2, total: 500 }]);
    expect(blobs[0]).toEqual(Buffer.from([0, 0xff, 0xf5]));
  });

  it('namespaces channels and matches pattern subscriptions inside the namespace only', async () => {
    const redis = client();
    const ns = `ps${Date.now()}b`;
    const bus = redis.pubsub(ns);
    const got: string[] = [];
    await bus.psubscribe('user.*', (_p, meta) => got.push(meta.topic));
    expect(bus.channelOf('user.1')).toBe(`strata:${ns}:chan:user.1`);
    await redis.client.publish(`other:${ns}:chan:user.9`, '{}'); // not ours
    await bus.publish('user.1', {});
    await bus.publish('order.1', {});
    await bus.publish('user.2', {});
    await eventually(() => got.length === 2);
    await sleep(50);
    expect(got).toEqual(['user.1', 'user.2']);
  });

  it('keeps delivering to other handlers when one throws or a payload is not JSON', async () => {
    const redis = client();
    const bus = redis.pubsub(`ps${Date.now()}c`);
    const errors: unknown[] = [];
    bus.on('message-error', (e) => errors.push(e));
    const ok: unknown[] = [];
    await bus.subscribe('t', () => {
      throw new Error('handler bug');
    });
    await bus.subscribe('t', (p) => ok.push(p));
    await bus.publish('t', { n: 1 });
    await redis.client.publish(bus.channelOf('t'), 'not json');
    await eventually(() => ok.length === 1 && errors.length >= 2);
    expect(ok).toEqual([{ n: 1 }]);
  });

  it('unsubscribes a handler, and the channel with the last one', async () => {
    const redis = client();
    const bus = redis.pubsub(`ps${Date.now()}d`);
    const got: unknown[] = [];
    const a = await bus.subscribe('t', (p) => got.push(['a', p]));
    const b = await bus.subscribe('t', (p) => got.push(['b', p]));
    await a.unsubscribe();
    await bus.publish('t', 1);
    await eventually(() => got.length === 1);
    expect(got).toEqual([['b', 1]]);
    await b.unsubscribe();
    expect(bus.subscriptions().channels).toEqual([]);
    expect(await bus.publish('t', 2)).toBe(0);
  });

  it('resubscribes after Redis restarts and emits resubscribed with how long it was away', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 500, breaker: false });
    const bus = redis.pubsub('restart');
    const got: unknown[] = [];
    await bus.subscribe('t', (p) => got.push(p));
    await bus.psubscribe('p.*', (p) => got.push(p));
    const events: ResubscribedEvent[] = [];
    bus.on('resubscribed', (e) => events.push(e));
    const published: unknown[] = [];
    const listener = (m: unknown) => published.push(m);
    subscribe(CoreChannels.resubscribed, listener);
    try {
      await s.restart();
      await eventually(() => events.length === 1, 15_000);
      expect(events[0]?.downtimeMs).toBeGreaterThan(0);
      expect(events[0]?.channels).toEqual([bus.channelOf('t')]);
      expect(events[0]?.patterns).toHaveLength(1);
      expect(published).toHaveLength(1);
      // Subscribed again: messages flow.
      await eventually(async () => (await redis.client.ping().catch(() => '')) === 'PONG');
      await bus.publish('t', 'after');
      await bus.publish('p.x', 'after-pattern');
      await eventually(() => got.length === 2);
      expect(got).toEqual(['after', 'after-pattern']);
    } finally {
      unsubscribe(CoreChannels.resubscribed, listener);
    }
  });
});
