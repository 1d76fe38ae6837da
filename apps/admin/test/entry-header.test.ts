/**
 * The console's decoder of Cache entries against entries a real
 * `@stratacache/patterns` Cache wrote: header fields, tags, the expire()
 * flag, versions, and the envelope behind them (JSON, msgpack, gzip).
 */
import { createRedis, type StrataRedis } from '@stratacache/core-client';
import { createCache } from '@stratacache/patterns';
import { compress, json, msgpack } from '@stratacache/serializers';
import { cleanupNamespace, connectTestRedis, testRedisUrl } from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEntryHeader } from '../src/entry-header.js';
import { decodeValue } from '../src/value-decode.js';
import { uniquePrefix } from './helpers.js';

let redis: StrataRedis;
const prefix = uniquePrefix();
beforeAll(() => {
  redis = createRedis({ url: testRedisUrl(), prefix, env: {} });
});
afterAll(async () => {
  await redis.close();
  const raw = connectTestRedis();
  await cleanupNamespace(raw, prefix);
  raw.disconnect();
});

async function raw(key: string): Promise<Buffer> {
  const value = await redis.client.getBuffer(`${prefix}:cache:e:${key}`);
  if (!value) throw new Error(`no entry ${key}`);
  return value;
}

describe('Cache entries written by patterns', () => {
  it('decodes as-of, logical expiry, version and tags, and the JSON value behind them', async () => {
    const cache = createCache({ redis, defaults: { ttl: '10m', grace: '1h', jitter: 0 } });
    await redis.clock.ready();
    const before = redis.clock.lower();
    await cache.set('user:1', { name: 'Ada', born: 1815 }, { tags: ['team:7', 'users'], version: 3 });
    const after = redis.clock.upper();
    const header = decodeEntryHeader(await raw('user%3A1'));
    expect(header).toMatchObject({
      kind: 1,
      kindName: 'value',
      isUndefined: false,
      expiredByCall: false,
      version: 3,
      tags: ['team:7', 'users'],
    });
    expect(header?.asOf).toBeGreaterThanOrEqual(before - 1);
    expect(header?.asOf).toBeLessThanOrEqual(after + 1);
    expect((header?.expiresAt ?? 0) - (header?.asOf ?? 0)).toBeCloseTo(600_000, -2);
    const decoded = decodeValue(await raw('user%3A1'));
    expect(decoded.envelope).toMatchObject({ format: 'json', compression: 'none' });
    expect(decoded.decoded).toContain("name: 'Ada'");
    expect(decoded.decodeError).toBeUndefined();
    cache.close();
  });

  it('shows the "expired by expire()" flag and the moved expiry after cache.expire()', async () => {
    const cache = createCache({ redis, defaults: { ttl: '10m', grace: '1h' } });
    await cache.set('soon-stale', 'v');
    expect(decodeEntryHeader(await raw('soon-stale'))?.expiredByCall).toBe(false);
    await cache.expire('soon-stale');
    const header = decodeEntryHeader(await raw('soon-stale'));
    expect(header?.expiredByCall).toBe(true);
    expect(header?.expiresAt).toBeLessThanOrEqual(redis.clock.upper());
    cache.close();
  });

  it('decodes msgpack and compressed values, undefined values and tombstones', async () => {
    const packed = createCache({
      redis,
      namespace: 'packed',
      serializer: compress(msgpack(), { threshold: 10 }),
      defaults: { cacheUndefined: true },
    });
    await packed.set('big', { rows: Array.from({ length: 50 }, (_, i) => ({ i, at: new Date(0) })) });
    const big = await redis.client.getBuffer(`${prefix}:packed:e:big`);
    const decoded = decodeValue(big as Buffer);
    expect(decoded.envelope).toMatchObject({ format: 'msgpack', compression: 'gzip' });
    expect(decoded.decoded).toContain('1970-01-01T00:00:00.000Z');
    await packed.getOrSet('nothing', async () => undefined);
    const nothing = decodeEntryHeader((await redis.client.getBuffer(`${prefix}:packed:e:nothing`)) as Buffer);
    expect(nothing?.isUndefined).toBe(true);
    await packed.delete('big');
    const tombstone = decodeEntryHeader((await redis.client.getBuffer(`${prefix}:packed:e:big`)) as Buffer);
    expect(tombstone?.kindName).toBe('tombstone');
    packed.close();
  });

  it('refuses what is not an entry, and never decodes v8 values', () => {
    expect(decodeEntryHeader(Buffer.from('plain text'))).toBeNull();
    expect(decodeEntryHeader(Buffer.from([0xc5, 1, 0, 5, ...Buffer.alloc(24)]))).toBeNull(); // 5 tags promised, none there
    const v8 = Buffer.from([0xf5, 1, 5, 0, 1, 2, 3]);
    expect(decodeValue(v8).decodeError).toMatch(/v8/);
    expect(decodeValue(v8).decoded).toBeUndefined();
    expect(decodeValue(Buffer.from([0, 1, 2, 255])).hex).toContain('00 01 02 ff');
    expect(decodeValue(json().encode({ a: 1 })).decoded).toBe('{ a: 1 }');
  });
});
