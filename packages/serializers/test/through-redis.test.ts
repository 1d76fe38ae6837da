/**
 * Encoded values survive a real Redis byte for byte: every serializer's output
 * is stored with SET and read back with GETBUFFER by another client.
 */

import { compress, json, msgpack, v8 } from '@stratacache/serializers';
import { redisTest } from '@stratacache/test-utils';
import { describe, expect } from 'vitest';

const value = {
  id: 7,
  name: 'ünïcødé ✓',
  at: new Date('2026-11-22T00:00:00.000Z'),
  big: 2n ** 65n,
  bytes: Buffer.from([0, 1, 2, 0xf5, 0xff]),
  rows: Array.from({ length: 300 }, (_, i) => ({ i, label: `row ${i}` })),
};

describe('through Redis', () => {
  const serializers = [
    json({ rich: true }),
    msgpack(),
    msgpack({ records: true }),
    v8(),
    compress(json({ rich: true }), { algorithm: 'brotli', threshold: 0 }),
    compress(msgpack(), { threshold: 0 }),
  ];
  redisTest('every serializer round-trips through SET and GETBUFFER', async ({ redis, ns }) => {
    for (const serializer of serializers) {
      const key = `${ns}:${serializer.name}`;
      await redis.set(key, serializer.encode(value));
      const stored = await redis.getBuffer(key);
      expect(stored).not.toBeNull();
      expect(serializer.decode(stored as Buffer), serializer.name).toEqual(value);
    }
  });

  redisTest('reads a value another tool wrote as plain JSON text', async ({ redis, ns }) => {
    await redis.set(`${ns}:plain`, JSON.stringify({ from: 'redis-cli', n: 1 }));
    expect(json().decode((await redis.getBuffer(`${ns}:plain`)) as Buffer)).toEqual({ from: 'redis-cli', n: 1 });
  });
});
