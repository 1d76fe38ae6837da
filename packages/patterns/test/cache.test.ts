/** The verbs of the cache over both tiers, coherence across instances, tags and prefixes. */
import { ConfigError, KeyError } from '@stratacache/core-client';
import { decode } from '@stratacache/serializers';
import { describe, expect, it } from 'vitest';
import { decodeEntry } from '../src/entry.js';
import { cache, client, sleep, twoInstances, until } from './helpers.js';

describe('verbs', () => {
  it('set, get, has, delete over memory and Redis', async () => {
    const redis = client();
    const c = cache<{ n: number }>({ redis });
    expect(await c.get('a')).toBeUndefined();
    expect(await c.has('a')).toBe(false);
    expect(await c.set('a', { n: 1 })).toBe(true);
    expect(await c.get('a')).toEqual({ n: 1 });
    expect(await c.has('a')).toBe(true);
    // A second cache without a memory tier reads it from Redis (with one and no bus, it would keep its copy).
    const other = cache<{ n: number }>({ redis, memory: false });
    expect(await other.get('a')).toEqual({ n: 1 });
    expect(await c.delete('a')).toBe(true);
    expect(await c.get('a')).toBeUndefined();
    expect(await other.has('a')).toBe(false);
    expect(await c.delete('a')).toBe(false);
  });

  it('stores the serializers envelope behind an entry header in Redis', async () => {
    const redis = client();
    const c = cache({ redis, namespace: 'raw' });
    await c.set('user:1', { name: 'Ada' }, { tags: ['users'] });
    const key = `${redis.options.prefix}:raw:e:user%3A1`;
    const bytes = await redis.client.getBuffer(key);
    const entry = decodeEntry(bytes as Buffer);
    expect(entry?.tags).toEqual(['users']);
    expect(decode(entry?.payload as Buffer)).toEqual({ name: 'Ada' });
    const pttl = await redis.client.pttl(key);
    expect(pttl).toBeGreaterThan(4 * 60_000);
    expect(pttl).toBeLessThanOrEqual(5.5 * 60_000);
  });

  it('memory hits return the stored object; clone: true returns copies', async () => {
    const byRef = cache<{ n: number }>({ memory: {} });
    const value = { n: 1 };
    await byRef.set('k', value);
    expect(await byRef.get('k')).toBe(value);
    const cloning = cache<{ n: number }>({ memory: { clone: true } });
    await cloning.set('k', value);
    const got = await cloning.get('k');
    expect(got).toEqual(value);
    expect(got).not.toBe(value);
    (got as { n: number }).n = 2;
    expect(await cloning.get('k')).toEqual({ n: 1 });
  });

  it('getMany, setMany and deleteMany', async () => {
    const redis = client();
    const c = cache<number>({ redis });
    await c.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
      { key: 'c', value: 3, ttl: '1m' },
    ]);
    expect(await c.getMany(['a', 'x', 'c', 'b'])).toEqual([1, undefined, 3, 2]);
    const fresh = cache<number>({ redis, memory: false });
    expect(await fresh.getMany(['c', 'a', 'nope'])).toEqual([3, 1, undefined]);
    expect(await c.deleteMany(['a', 'b', 'zz'])).toBe(2);
    expect(await fresh.getMany(['a', 'b', 'c'])).toEqual([undefined, undefined, 3]);
  });

  it('caches null, falsy values and undefined only when asked', async () => {
    const c = cache<unknown>({ redis: client(), memory: false });
    await c.set('null', null);
    await c.set('zero', 0);
    await c.set('empty', '');
    expect(await c.getMany(['null', 'zero', 'empty'])).toEqual([null, 0, '']);
    expect(await c.has('null')).toBe(true);
  });

  it('expire keeps the value for grace readers only; touch restarts the TTL', async () => {
    const c = cache<string>({ redis: client(), defaults: { grace: '1h' } });
    await c.set('k', 'v', { ttl: '1m' });
    expect(await c.expire('k')).toBe(true);
    expect(await c.get('k')).toBeUndefined();
    // The factory fails: the expired value is still served (fail-safe).
    await expect(c.getOrSet('k', () => Promise.reject(new Error('db down')))).resolves.toBe('v');
    await c.set('t', 'v', { ttl: 300, jitter: 0 });
    expect(await c.touch('t', { ttl: '1m' })).toBe(true);
    await sleep(400);
    expect(await c.get('t')).toBe('v');
    expect(await c.touch('missing')).toBe(false);
  });

  it('expire without grace deletes', async () => {
    const c = cache<string>({ redis: client() });
    await c.set('k', 'v');
    expect(await c.expire('k')).toBe(true);
    await expect(c.getOrSet('k', () => Promise.reject(new Error('no')))).rejects.toThrow('no');
  });

  it('refuses bad keys and bad options with clear errors', async () => {
    const c = cache({ redis: client() });
    await expect(async () => c.get('')).rejects.toBeInstanceOf(KeyError);
    await expect(async () => c.get('x'.repeat(2000))).rejects.toBeInstanceOf(KeyError);
    await expect(async () => c.set('k', 1, { ttl: -1 })).rejects.toBeInstanceOf(ConfigError);
    await expect(async () => c.set('k', 1, { jitter: 2 })).rejects.toThrow(/jitter/);
    expect(() => cache({ memory: false })).toThrow(ConfigError);
    expect(() => cache({ memory: { maxEntries: 0 } })).toThrow(/maxEntries/);
    expect(() => cache({ namespace: 'a:b' })).toThrow(/namespace/);
    expect(() => c.namespace('inv')).toThrow(/reserved/);
    // Keys with separators are encoded, never confused with other keys.
    await c.set('a:b', 1);
    await c.set('a%3Ab', 2);
    expect(await c.getMany(['a:b', 'a%3Ab'])).toEqual([1, 2]);
  });

  it('bounds the memory tier by entries and bytes', async () => {
    const byCount = cache<number>({ memory: { maxEntries: 3 } });
    for (let i = 0; i < 10; i++) await byCount.set(`k${i}`, i);
    expect(byCount.stats().memoryEntries).toBe(3);
    expect(await byCount.get('k9')).toBe(9);
    expect(await byCount.get('k0')).toBeUndefined();
    const byBytes = cache<string>({ redis: client(), memory: { maxEntries: 1000, maxBytes: 5000 } });
    for (let i = 0; i < 10; i++) await byBytes.set(`k${i}`, 'x'.repeat(1000));
    expect(byBytes.stats().memoryEntries).toBeLessThanOrEqual(5);
    // Evicted from memory, still in Redis.
    expect(await byBytes.get('k0')).toBe('x'.repeat(1000));
  });

  it('memory.ttl makes memory re-read Redis sooner than the entry TTL', async () => {
    const { a, r2 } = await twoInstances<number>({ memory: { ttl: 200 } });
    await a.set('k', 1);
    // Redis changes behind a's back without a bus message (as a lost message would).
    await r2.client.del(`${r2.options.prefix}:cache:e:k`);
    expect(await a.get('k')).toBe(1);
    await sleep(250);
    expect(await a.get('k')).toBeUndefined();
  });
});

describe('coherence across instances', () => {
  it('a write or delete on one instance reaches the other instance memory', async () => {
    const { a, b } = await twoInstances<string>();
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1'); // b now holds it in memory
    await a.set('k', 'v2');
    await until(async () => (await b.get('k')) === 'v2');
    await a.delete('k');
    await until(async () => (await b.get('k')) === undefined);
  });

  it('clear of a child namespace empties it on every instance and nothing else', async () => {
    const { a, b } = await twoInstances<string>();
    const ua = a.namespace('users');
    const ub = b.namespace('users');
    await ua.set('1', 'ada');
    await a.set('1', 'root');
    expect(await ub.get('1')).toBe('ada');
    await ua.clear();
    await until(async () => (await ub.get('1')) === undefined);
    expect(await b.get('1')).toBe('root');
    expect(await ua.get('1')).toBeUndefined();
  });

  it('a gap in the bus (resubscribe) clears memory: nothing stale is trusted', async () => {
    const { a, b, r1, r2 } = await twoInstances<string>();
    await a.set('k', 'v');
    // a's broadcast of its own write may reach b after b read the key: let it land first.
    await sleep(200);
    expect(await b.get('k')).toBe('v');
    // A change nobody heard about (its message lost), then b's subscriber reconnects.
    await r1.client.del(`${r1.options.prefix}:cache:e:k`);
    expect(await b.get('k')).toBe('v');
    r2.pubsub('events').emit('resubscribed', { downtimeMs: 10, channels: [], patterns: [] });
    expect(await b.get('k')).toBeUndefined();
  });
});

describe('tags and prefixes', () => {
  for (const mode of ['eager', 'lazy'] as const) {
    it(`deleteByTag removes tagged entries everywhere (${mode})`, async () => {
      const { a, b } = await twoInstances<string>({ tags: mode });
      await a.set('p1', 'x', { tags: ['product:1', 'products'] });
      await a.set('p2', 'y', { tags: ['products'] });
      await a.set('o1', 'z', { tags: ['orders'] });
      expect(await b.get('p1')).toBe('x');
      await a.deleteByTag(['products']);
      await until(async () => (await b.get('p1')) === undefined);
      expect(await b.get('p2')).toBeUndefined();
      expect(await a.get('p1')).toBeUndefined();
      expect(await b.get('o1')).toBe('z');
      // Written again after the invalidation: fresh.
      await a.set('p1', 'x2', { tags: ['products'] });
      expect(await a.get('p1')).toBe('x2');
    });

    it(`expireByTag keeps tagged entries for grace (${mode})`, async () => {
      const { a } = await twoInstances<string>({ tags: mode, defaults: { grace: '1h' } });
      await a.set('p1', 'x', { tags: ['products'] });
      await a.expireByTag(['products']);
      expect(await a.get('p1')).toBeUndefined();
      await expect(a.getOrSet('p1', () => Promise.reject(new Error('down')))).resolves.toBe('x');
    });
  }

  it('deleteByPrefix removes keys under a prefix, with separators in it', async () => {
    const { a, b } = await twoInstances<number>();
    await a.set('user:1', 1);
    await a.set('user:2', 2);
    await a.set('users', 3);
    expect(await b.get('user:1')).toBe(1);
    expect(await a.deleteByPrefix('user:')).toBe(2);
    await until(async () => (await b.get('user:1')) === undefined);
    expect(await b.getMany(['user:2', 'users'])).toEqual([undefined, 3]);
  });

  it('works memory-only, without Redis', async () => {
    const c = cache<number>({});
    await c.set('a', 1, { tags: ['t'] });
    await c.set('b', 2);
    await c.deleteByTag(['t']);
    expect(await c.getMany(['a', 'b'])).toEqual([undefined, 2]);
    expect(await c.getOrSet('c', () => 3)).toBe(3);
    await c.clear();
    expect(await c.get('b')).toBeUndefined();
  });
});
