/**
 * The landed signal: a load that holds the stampede lock announces its write
 * (`w<key>`) in the same script as the write, or its release without a write
 * (`r<key>`), on the cache's landed channel; loads of other processes waiting
 * on the lock wake on it, read Redis again and return what they find there.
 * The waits below are armed with timers far longer than any test, so only a
 * message can end them.
 */
import { CoordinationChannels, createLocks } from '@stratacache/coordination';
import { describe, expect, it } from 'vitest';
import { LandedSignal } from '../src/cache/landed.js';
import { cache, client, deferred, listen, prefix, server, until } from './helpers.js';

const NEVER = 10 * 60_000;

/** Two instances of one cache with the lock (separate connections: two processes' worth), and a listener. */
async function setup(url?: string) {
  const p = prefix();
  const open = () => {
    const redis = client({ prefix: p, ...(url ? { url } : {}) });
    return { redis, cache: cache<string>({ redis, lock: createLocks(redis), memory: false }) };
  };
  const a = open();
  const b = open();
  const listener = new LandedSignal(client({ prefix: p, ...(url ? { url } : {}) }), 'cache');
  await listener.start();
  const rk = `${p}:cache:e:k`;
  return { a, b, listener, rk };
}

describe('the landed signal', () => {
  it("a lock holder's write-back announces the key in the same step as the write", async () => {
    const { a, listener, rk } = await setup();
    const woke = listener.arm(rk, NEVER).woke;
    expect(await a.cache.getOrSet('k', () => 'loaded')).toBe('loaded');
    expect(await woke).toBe('written');
    // The write happened before the message: what a woken waiter reads is the value.
    expect(await a.cache.get('k')).toBe('loaded');
  });

  it('a holder whose factory fails announces the release, once the lock is free', async () => {
    const { a, b, listener, rk } = await setup();
    const woke = listener.arm(rk, NEVER).woke;
    await expect(a.cache.getOrSet('k', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await woke).toBe('released');
    // The lock is free when the message arrives: a waiter takes it and loads at once.
    expect(await b.cache.getOrSet('k', () => 'own')).toBe('own');
  });

  it('writes made without the lock announce nothing', async () => {
    const { a, listener, rk } = await setup();
    const quiet = listener.arm(rk, NEVER).woke;
    await a.cache.set('k', 'plain set');
    const noLock = cache<string>({ redis: a.redis, memory: false });
    await noLock.getOrSet('other', () => 'no lock');
    // Messages on one channel arrive in order: once a later announcement is in, an earlier one would be too.
    const later = listener.arm(`${rk}-later`, NEVER).woke;
    await a.cache.getOrSet('k-later', () => 'with the lock');
    expect(await later).toBe('written');
    expect(await Promise.race([quiet, Promise.resolve('still waiting')])).toBe('still waiting');
  });

  it("a load waiting on another instance's lock returns the holder's value, read from Redis after the message", async () => {
    const s = await server();
    const { a, b } = await setup(s.url);
    const contended = listen(CoordinationChannels.lockContended);
    const gate = deferred();
    const holding = deferred();
    let ownCalls = 0;
    const first = a.cache.getOrSet('k', async () => {
      holding.resolve();
      await gate.promise;
      return 'from the holder';
    });
    await holding.promise;
    const second = b.cache.getOrSet('k', () => {
      ownCalls++;
      return 'own';
    });
    await until(() => contended.messages.length > 0);
    contended.stop();
    gate.resolve();
    expect(await first).toBe('from the holder');
    expect(await second).toBe('from the holder');
    expect(ownCalls).toBe(0);
    expect(b.cache.stats()).toMatchObject({ factoryCalls: 0, redisMisses: 1 });
  });
});
