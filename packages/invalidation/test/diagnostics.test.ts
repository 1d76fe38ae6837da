import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { eventually } from '@stratacache/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { createInvalidationBus, createInvalidator, InvalidationChannels } from '../src/index.js';
import { client, server, unique } from './helpers.js';

type Event = { channel: string; message: Record<string, unknown> };
let events: Event[] = [];
const stops: Array<() => void> = [];

function listen(): void {
  events = [];
  for (const name of Object.values(InvalidationChannels)) {
    const listener = (message: unknown) => events.push({ channel: name, message: message as Record<string, unknown> });
    subscribe(name, listener);
    stops.push(() => unsubscribe(name, listener));
  }
}
const on = (channel: string, topic?: string) =>
  events
    .filter((e) => e.channel === channel && (topic === undefined || e.message.channel === topic))
    .map((e) => e.message);

afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

describe('invalidation diagnostics', () => {
  it('publishes published and received with readable ops and counts, never the keys', async () => {
    listen();
    const channel = unique('inv');
    const prefix = unique('app');
    const a = createInvalidationBus(client({ prefix }), { channel });
    const b = createInvalidationBus(client({ prefix }), { channel });
    await Promise.all([a.start(), b.start()]);
    expect(a.connected && b.connected).toBe(true);
    await a.publish('dk', 'users', ['user:1', 'user:2']);
    await a.publish('dt', 'users', ['team-7']);
    await eventually(() => on(InvalidationChannels.received, channel).length === 2);
    expect(on(InvalidationChannels.published, channel)).toEqual([
      { channel, namespace: 'users', op: 'delete-keys', items: 2 },
      { channel, namespace: 'users', op: 'delete-tags', items: 1 },
    ]);
    const received = on(InvalidationChannels.received, channel);
    expect(received.map((m) => [m.op, m.items])).toEqual([
      ['delete-keys', 2],
      ['delete-tags', 1],
    ]);
    expect(received[0]?.delayMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(events)).not.toContain('user:1');
    expect(on(InvalidationChannels.connected, channel)).toHaveLength(2);
    await Promise.all([a.stop(), b.stop()]);
    expect(a.connected).toBe(false);
    expect(on(InvalidationChannels.disconnected, channel)).toEqual([
      { channel, reason: 'stopped' },
      { channel, reason: 'stopped' },
    ]);
  });

  it('reports a lost connection, the gap and the clear after resubscribing, and connected again', async () => {
    listen();
    const s = await server();
    const channel = unique('inv');
    const bus = createInvalidationBus(
      client({ url: s.url, breaker: false, commandTimeout: 300, reconnectMaxDelay: 100 }),
      { channel },
    );
    bus.register({ namespace: 'cache', clearLocal: () => {} });
    await bus.start();
    await s.kill();
    await eventually(() => on(InvalidationChannels.disconnected, channel).length === 1);
    expect(bus.connected).toBe(false);
    expect(on(InvalidationChannels.disconnected, channel)[0]).toEqual({ channel, reason: 'connection-lost' });
    await s.restart();
    await eventually(() => on(InvalidationChannels.connected, channel).length === 2);
    expect(bus.connected).toBe(true);
    expect(on(InvalidationChannels.gap, channel)[0]).toMatchObject({ channel, reason: 'resubscribed' });
    expect(on(InvalidationChannels.clear, channel)).toEqual([{ channel, namespace: '*', reason: 'resubscribed' }]);
    await bus.stop();
  });

  it('publishes a sequence gap with how many messages went missing', async () => {
    listen();
    const channel = unique('inv');
    const prefix = unique('app');
    const sender = client({ prefix });
    const bus = createInvalidationBus(client({ prefix }), { channel });
    bus.register({ clearLocal: () => {} });
    await bus.start();
    const wire = (s: number) => ({ v: 1, i: 'other', s, n: 'cache', o: 'dk', d: ['k'], t: Date.now() });
    await sender.pubsub('events').publish(channel, wire(1), { sharded: bus.sharded });
    await sender.pubsub('events').publish(channel, wire(5), { sharded: bus.sharded });
    await eventually(() => on(InvalidationChannels.gap, channel).length === 1);
    expect(on(InvalidationChannels.gap, channel)).toEqual([{ channel, reason: 'sequence', missed: 3 }]);
    expect(on(InvalidationChannels.clear, channel)).toEqual([{ channel, namespace: '*', reason: 'gap' }]);
    await bus.stop();
  });

  it('publishes invalidated per call with strategy, target and count', async () => {
    listen();
    const redis = client();
    const namespace = unique('ns');
    const inv = createInvalidator(redis, { namespace });
    const k = (id: string) => inv.keys.key('data', id);
    await redis.client.set(k('a'), '1');
    await redis.client.set(k('b'), '1');
    await inv.deleteKeys([k('a'), k('missing')]);
    await inv.expireKeys([k('b')]);
    await inv.deleteByPrefix('data:');
    await inv.expireByTag(['t1', 't2']);
    await inv.clear();
    expect(on(InvalidationChannels.invalidated).filter((m) => m.namespace === namespace)).toEqual([
      { namespace, strategy: 'delete', target: 'key', count: 1 },
      { namespace, strategy: 'expire', target: 'key', count: 1 },
      { namespace, strategy: 'delete', target: 'prefix', count: 1 },
      { namespace, strategy: 'expire', target: 'tag', count: 2 },
      { namespace, strategy: 'delete', target: 'namespace', count: expect.any(Number) },
    ]);
  });
});
