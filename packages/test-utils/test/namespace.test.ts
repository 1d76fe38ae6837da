import { describe, expect, it } from 'vitest';
import { cleanupNamespace, connectTestRedis, escapeGlob, redisTest, uniqueNamespace } from '../src/index.ts';

describe('uniqueNamespace', () => {
  it('never repeats and needs no escaping', () => {
    const seen = new Set(Array.from({ length: 2000 }, () => uniqueNamespace('My Test: *weird* {label}')));
    expect(seen.size).toBe(2000);
    for (const ns of seen) {
      expect(ns).toMatch(/^t\.[a-z0-9]+\.[0-9a-f]{12}$/);
      expect(escapeGlob(ns)).toBe(ns);
    }
  });
});

describe('cleanupNamespace', () => {
  it('deletes the namespace and nothing else', async () => {
    const redis = connectTestRedis();
    const ns = uniqueNamespace('cleanup');
    const neighbours = [`${ns}x:a`, `${ns}x`, `other.${ns}:a`, `${ns.slice(0, -1)}*:a`];
    try {
      await redis.mset(`${ns}:a`, '1', `${ns}:b:c`, '2', ns, '3', ...neighbours.flatMap((k) => [k, 'keep']));
      for (let i = 0; i < 1200; i++) await redis.set(`${ns}:bulk:${i}`, 'x');
      expect(await cleanupNamespace(redis, ns)).toBe(1203);
      expect(await redis.exists(`${ns}:a`, `${ns}:b:c`, ns)).toBe(0);
      expect(await redis.exists(...neighbours)).toBe(neighbours.length);
    } finally {
      await redis.del(...neighbours);
      redis.disconnect();
    }
  });

  it('treats glob characters in a namespace literally', async () => {
    const redis = connectTestRedis();
    const base = uniqueNamespace('glob');
    try {
      await redis.mset(`${base}:a`, '1', `${base}[x]:a`, '1', `${base}*:a`, '1');
      expect(await cleanupNamespace(redis, `${base}*`)).toBe(1);
      expect(await redis.exists(`${base}:a`, `${base}[x]:a`)).toBe(2);
      expect(await cleanupNamespace(redis, `${base}[x]`)).toBe(1);
      expect(await redis.exists(`${base}:a`)).toBe(1);
    } finally {
      await cleanupNamespace(redis, base);
      redis.disconnect();
    }
  });
});

describe('redisTest fixture', () => {
  let previous = '';
  redisTest('gives a client and a namespace', async ({ redis, ns }) => {
    await redis.set(`${ns}:k`, 'v');
    expect(await redis.get(`${ns}:k`)).toBe('v');
    previous = ns;
  });

  redisTest('cleaned the previous namespace after its test', async ({ redis, ns }) => {
    expect(previous).not.toBe('');
    expect(ns).not.toBe(previous);
    expect(await redis.exists(`${previous}:k`)).toBe(0);
  });
});
