import type { StrataRedis } from '@stratacache/core-client';
import { eventually } from '@stratacache/test-utils';
import { describe, expect, it } from 'vitest';
import { createInvalidationBus, createInvalidator, type Invalidator } from '../src/index.js';
import { client, server, unique } from './helpers.js';

/**
 * Writes an entry the way a cache would: the value, and its tags in the same
 * pipeline (`recordTags`), or right after it on Cluster (`addTags`: a pipeline
 * cannot span a key's slot and its tag sets' slots).
 */
async function write(
  inv: Invalidator,
  id: string,
  tags: string[],
  ttlMs = 60_000,
): Promise<{ key: string; writtenAt: number; tags: string[] }> {
  const key = inv.keys.key('data', id);
  const writtenAt = Date.now();
  const redis = (inv as unknown as { redis: StrataRedis }).redis;
  const ttl = ttlMs ?? undefined;
  if (redis.mode === 'cluster') {
    await (ttl === undefined
      ? redis.client.set(key, `value of ${id}`)
      : redis.client.set(key, `value of ${id}`, 'PX', ttl));
    await inv.addTags(key, tags, ttl);
    return { key, writtenAt, tags };
  }
  const pipeline = redis.client.pipeline();
  if (ttl === undefined) pipeline.set(key, `value of ${id}`);
  else pipeline.set(key, `value of ${id}`, 'PX', ttl);
  inv.recordTags(pipeline, key, tags, ttl);
  await pipeline.exec();
  return { key, writtenAt, tags };
}

/** How many of `keys` exist (one EXISTS per key: they may live in different Cluster slots). */
async function existing(redis: StrataRedis, ...keys: string[]): Promise<number> {
  return (await Promise.all(keys.map((key) => redis.client.exists(key)))).reduce((a, b) => a + b, 0);
}
const tick = () => new Promise((r) => setTimeout(r, 3));

describe('tags: deleteByTag and expireByTag are two verbs with two meanings', () => {
  it.each(['eager', 'lazy'] as const)(
    '%s mode: delete makes entries misses, expire keeps them as stale',
    async (mode) => {
      const redis = client();
      const inv = createInvalidator(redis, { namespace: 'cache', tags: mode });
      const a = await write(inv, 'a', ['users']);
      const b = await write(inv, 'b', ['orders']);
      await tick();
      await inv.expireByTag(['users']);
      expect(await inv.judge(a)).toBe('stale');
      expect(await redis.client.exists(a.key)).toBe(1); // kept for grace readers
      await inv.deleteByTag(['orders']);
      expect(await inv.judge(b)).toBe('deleted');
      if (mode === 'eager') expect(await redis.client.exists(b.key)).toBe(0); // gone from Redis too
      // judge() counts a write in the invalidation's own millisecond as invalidated (the safe side).
      await tick();
      const later = await write(inv, 'c', ['users', 'orders']);
      expect(await inv.judge(later)).toBe('fresh'); // written after both invalidations
    },
  );

  it('eager and lazy give the same answers on the same script of writes and invalidations', async () => {
    const answers: Record<string, string[]> = {};
    for (const mode of ['eager', 'lazy'] as const) {
      const inv = createInvalidator(client(), { namespace: 'cache', tags: mode });
      const entries = [];
      const out: string[] = [];
      for (let step = 0; step < 30; step++) {
        const tags = [`t${step % 3}`, `t${(step * 7) % 5}`];
        entries.push(await write(inv, `e${step}`, tags));
        await tick();
        if (step % 4 === 1) await inv.expireByTag([`t${step % 5}`]);
        if (step % 6 === 3) await inv.deleteByTag([`t${step % 3}`]);
        await tick();
      }
      // What a reader sees: a key gone from Redis is a miss; otherwise the judgement.
      const redis = (inv as unknown as { redis: { client: import('ioredis').Redis } }).redis;
      for (const entry of entries)
        out.push((await redis.client.exists(entry.key)) ? await inv.judge(entry) : 'deleted');
      answers[mode] = out;
    }
    expect(answers.eager).toEqual(answers.lazy);
    expect(new Set(answers.eager)).toEqual(new Set(['fresh', 'stale', 'deleted']));
  });

  it('other instances learn tag invalidations from the bus, without reading Redis again', async () => {
    const prefix = unique('shared');
    const channel = unique('inv');
    const busA = createInvalidationBus(client({ prefix }), { channel });
    const redisB = client({ prefix });
    const busB = createInvalidationBus(redisB, { channel });
    await busA.start();
    await busB.start();
    const a = createInvalidator(client({ prefix }), { namespace: 'cache', tags: 'lazy', bus: busA });
    const b = createInvalidator(redisB, { namespace: 'cache', tags: 'lazy', bus: busB });
    const entry = await write(b, 'x', ['news']);
    expect(b.judgeCached(entry)).toBeUndefined(); // nothing read yet: the caller must judge() (one read)
    expect(await b.judge(entry)).toBe('fresh'); // B has now cached the tag times
    expect(b.judgeCached(entry)).toBe('fresh'); // and judges without a round trip
    await tick();
    await a.expireByTag(['news']);
    await eventually(async () => b.judgeCached(entry) === 'stale'); // learnt from the bus
    expect(await b.judge(entry)).toBe('stale');
    await a.deleteByTag(['news']);
    await eventually(async () => b.judgeCached(entry) === 'deleted');
  });
});

describe('keys, prefixes and TTLs', () => {
  it('expires a key (stale, still readable) or shortens its TTL, never lengthening it', async () => {
    const redis = client();
    const inv = createInvalidator(redis, { namespace: 'cache' });
    const a = await write(inv, 'a', [], 60_000);
    await tick();
    await inv.expireKeys([a.key]);
    expect(await inv.judge(a)).toBe('stale');
    expect(await redis.client.get(a.key)).toBe('value of a');
    expect(await inv.shortenTtl([a.key], '2s')).toBe(1);
    expect(await redis.client.pttl(a.key)).toBeLessThanOrEqual(2000);
    expect(await inv.shortenTtl([a.key], '1h')).toBe(0);
    expect(await redis.client.pttl(a.key)).toBeLessThanOrEqual(2000);
  });

  it('deletes by prefix with * ? [ in user parts deleting only what they should', async () => {
    const redis = client();
    const inv = createInvalidator(redis, { namespace: 'cache' });
    const ids = ['user*', 'user1', 'user?', 'userA', 'user[1]', 'user1x'];
    for (const id of ids) await write(inv, id, []);
    expect(await inv.deleteByPrefix('data:user*', { dryRun: true })).toBe(1);
    expect(await inv.deleteByPrefix('data:user*')).toBe(1);
    expect(await inv.deleteByPrefix('data:user?')).toBe(1);
    expect(await inv.deleteByPrefix('data:user[')).toBe(1);
    const left = [];
    for (const id of ids) if (await redis.client.exists(inv.keys.key('data', id))) left.push(id);
    expect(left).toEqual(['user1', 'userA', 'user1x']);
    expect(await inv.deleteByPrefix('data:user1')).toBe(2); // user1 and user1x: a real prefix
  });
});

describe('dependencies', () => {
  it('cascades transitively, and a cycle ends the walk', async () => {
    const redis = client();
    const inv = createInvalidator(redis, { namespace: 'cache' });
    const [page, list, item, other] = await Promise.all(
      ['page', 'list', 'item', 'other'].map((id) => write(inv, id, [])),
    );
    await inv.dependOn(list?.key as string, [item?.key as string]);
    await inv.dependOn(page?.key as string, [list?.key as string]);
    await inv.dependOn(item?.key as string, [page?.key as string]); // a cycle: item -> list -> page -> item
    const counts = await inv.invalidate({ keys: [item?.key as string], dependents: true });
    expect(counts).toEqual({ keys: 1, prefixes: 0, patterns: 0, tags: 0, dependents: 2 });
    expect(await existing(redis, page?.key as string, list?.key as string, item?.key as string)).toBe(0);
    expect(await redis.client.exists(other?.key as string)).toBe(1);
    // The dependency sets of deleted keys went with them.
    const meta = redis.keys('cache.inv');
    expect(await existing(redis, ...[page, list, item].map((e) => meta.key('deps', e?.key as string)))).toBe(0);
  });

  it('invalidate() applies one strategy to keys, prefixes and tags and counts each kind', async () => {
    const redis = client();
    const inv = createInvalidator(redis, { namespace: 'cache' });
    const a = await write(inv, 'a', ['t']);
    await write(inv, 'p1', []);
    await write(inv, 'p2', []);
    await tick();
    const expired = await inv.invalidate({ keys: [a.key], tags: ['t'], strategy: 'expire' });
    expect(expired).toEqual({ keys: 1, prefixes: 0, patterns: 0, tags: 1, dependents: 0 });
    expect(await inv.judge(a)).toBe('stale');
    const deleted = await inv.invalidate({ prefixes: ['data:p'] });
    expect(deleted.prefixes).toBe(2);
  });

  it('deletes by a configured glob inside the namespace only, telling local tiers its literal start', async () => {
    const redis = client();
    const channel = unique('inv');
    const bus = createInvalidationBus(redis, { channel });
    const seen: string[][] = [];
    bus.onInvalidation((e) => seen.push([e.op, ...e.items]));
    const inv = createInvalidator(redis, { namespace: 'cache', bus });
    for (const id of ['u1', 'u2', 'x1']) await write(inv, id, []);
    await redis.client.set(`${redis.options.prefix}:other:data:u1`, 'not ours');
    expect(await inv.invalidate({ patterns: ['data:u?'] })).toMatchObject({ patterns: 2 });
    expect(await existing(redis, inv.keys.key('data', 'x1'), `${redis.options.prefix}:other:data:u1`)).toBe(2);
    expect(seen).toContainEqual(['dp', 'data:u']);
  });

  it('collects members of expired keys from eager tag sets', async () => {
    const redis = client();
    const inv = createInvalidator(redis, { namespace: 'cache', tags: 'eager' });
    await write(inv, 'short', ['t'], 50);
    const long = await write(inv, 'long', ['t'], 60_000);
    await new Promise((r) => setTimeout(r, 80));
    expect(await redis.client.zcard(inv.tagSetKey('t'))).toBe(2);
    expect(await inv.collectTagGarbage()).toBe(1);
    expect(await redis.client.zrange(inv.tagSetKey('t'), 0, -1)).toEqual([long.key]);
    // The set lives as long as its longest member, and forever when one has no TTL.
    expect(await redis.client.pttl(inv.tagSetKey('t'))).toBeGreaterThan(50_000);
    await write(inv, 'forever', ['t'], null);
    expect(await redis.client.pttl(inv.tagSetKey('t'))).toBe(-1);
    await write(inv, 'later', ['t'], 1000); // a shorter-lived member does not bring the expiry back
    expect(await redis.client.pttl(inv.tagSetKey('t'))).toBe(-1);
  });
});

describe('cached tag times', () => {
  it("without a bus, reads tag times on every judgement, so another instance's invalidation is seen", async () => {
    const prefix = unique('nobus');
    const a = createInvalidator(client({ prefix }), { namespace: 'cache', tags: 'lazy' });
    const b = createInvalidator(client({ prefix }), { namespace: 'cache', tags: 'lazy' });
    const entry = { key: 'k', writtenAt: Date.now() - 1000, tags: ['news'] };
    expect(await b.judge(entry)).toBe('fresh');
    expect(b.judgeCached(entry)).toBeUndefined(); // no bus: a cached time could be out of date
    await a.expireByTag(['news']);
    expect(await b.judge(entry)).toBe('stale');
  });

  it('judges concurrently with one read per tag', async () => {
    const redis = client();
    const bus = createInvalidationBus(redis, { channel: unique('inv') });
    const inv = createInvalidator(redis, { namespace: 'cache', tags: 'lazy', bus });
    await inv.expireByTag(['hot']);
    const entry = { key: 'k', writtenAt: 1, tags: ['hot'] };
    const results = await Promise.all(Array.from({ length: 20 }, () => inv.judge(entry)));
    expect(new Set(results)).toEqual(new Set(['stale']));
  });
});

describe('cached key times', () => {
  it('reuses a key time read from Redis, and learns newer ones from the bus', async () => {
    // A private server: its command count is ours alone.
    const { url } = await server();
    const prefix = unique('keys');
    const channel = unique('inv');
    const busA = createInvalidationBus(client({ url, prefix }), { channel });
    const redisB = client({ url, prefix });
    const busB = createInvalidationBus(redisB, { channel });
    await busA.start();
    await busB.start();
    const a = createInvalidator(client({ url, prefix }), { namespace: 'cache', bus: busA });
    const b = createInvalidator(redisB, { namespace: 'cache', bus: busB });
    const entry = { key: b.keys.key('data', 'hot'), writtenAt: Date.now() - 1000 };
    expect(await b.judge(entry)).toBe('fresh');
    const before = Number((await redisB.client.info('stats')).match(/total_commands_processed:(\d+)/)?.[1]);
    for (let i = 0; i < 20; i++) await b.judge(entry);
    const after = Number((await redisB.client.info('stats')).match(/total_commands_processed:(\d+)/)?.[1]);
    expect(after - before).toBeLessThan(10); // 20 judgements of a hot key, no read each (INFO itself counts)
    await a.expireKeys([entry.key]);
    await eventually(async () => (await b.judge(entry)) === 'stale');
  });
});
