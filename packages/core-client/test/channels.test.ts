import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { CoreChannels, defineChannels, StratacacheError } from '../src/index.js';
import { client, eventually, server } from './helpers.js';

function record(name: string): { messages: Record<string, unknown>[]; stop(): void } {
  const messages: Record<string, unknown>[] = [];
  const listener = (m: unknown) => messages.push(m as Record<string, unknown>);
  subscribe(name, listener);
  return { messages, stop: () => unsubscribe(name, listener) };
}

describe('defineChannels', () => {
  it('names channels stratacache:<package>:<event> and publishes only to listeners', () => {
    const set = defineChannels('demo-pkg', { acquired: 'lock-acquired', lost: 'lock-lost' });
    expect(set.names).toEqual({
      acquired: 'stratacache:demo-pkg:lock-acquired',
      lost: 'stratacache:demo-pkg:lock-lost',
    });
    expect(Object.isFrozen(set.names)).toBe(true);
    expect(set.listening('acquired')).toBe(false);
    set.publish('acquired', { lock: 'nobody-hears-this' }); // no listener: nothing to observe, nothing thrown
    const heard = record(set.names.acquired);
    try {
      expect(set.listening('acquired')).toBe(true);
      expect(set.listening('lost')).toBe(false);
      set.publish('acquired', { lock: 'report' });
      expect(heard.messages).toEqual([{ lock: 'report' }]);
    } finally {
      heard.stop();
    }
    expect(set.listening('acquired')).toBe(false);
  });

  it('refuses names that are not kebab-case, naming the bad one', () => {
    expect(() => defineChannels('Bad Name', { a: 'a' })).toThrowError(/package must be kebab-case/);
    expect(() => defineChannels('ok', { a: 'Not:Ok' })).toThrowError(/event a must be kebab-case/);
    try {
      defineChannels('ok', { a: '' });
    } catch (error) {
      expect(StratacacheError.isInstance(error) && error.code).toBe('E_CONFIG');
    }
  });

  it('keeps core-client channel names as they were', () => {
    expect(CoreChannels.breaker).toBe('stratacache:core:breaker');
    expect(CoreChannels.commandError).toBe('stratacache:core:command-error');
    expect(CoreChannels.command).toBe('stratacache:core:command');
  });
});

describe('command timings', () => {
  it('publishes one timing per run() while someone listens, with ok false on failure', async () => {
    const redis = client({ connectionName: 'timing-test' });
    await redis.run('ping', (c) => c.ping()); // before anyone listens: not published
    const timings = record(CoreChannels.command);
    try {
      await redis.run('set', (c) => c.set('t:timing', 'v'));
      await expect(redis.run('lpush', (c) => c.lpush('t:timing', 'x'))).rejects.toThrowError(/WRONGTYPE/);
      await redis.run('del', (c) => c.del('t:timing'));
    } finally {
      timings.stop();
    }
    const mine = timings.messages.filter((m) => m.client === 'timing-test');
    expect(mine.map((m) => [m.command, m.ok])).toEqual([
      ['set', true],
      ['lpush', false],
      ['del', true],
    ]);
    for (const m of mine) expect(m.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe('pub/sub connection state', () => {
  it('reads connected, emits disconnected once per outage, and is connected again after resubscribing', async () => {
    const s = await server();
    const redis = client({ url: s.url, breaker: false, commandTimeout: 300, reconnectMaxDelay: 100 });
    const pubsub = redis.pubsub('state');
    expect(pubsub.connected).toBe(false);
    await pubsub.subscribe('topic', () => {});
    await eventually(() => pubsub.connected);
    const downs: unknown[] = [];
    pubsub.on('disconnected', (e) => downs.push(e));
    const resubscribed = new Promise((resolve) => pubsub.once('resubscribed', resolve));
    await s.kill();
    await eventually(() => !pubsub.connected && downs.length === 1);
    await s.restart();
    await resubscribed;
    await eventually(() => pubsub.connected);
    expect(downs).toHaveLength(1);
    await pubsub.close();
    expect(pubsub.connected).toBe(false);
  });
});
