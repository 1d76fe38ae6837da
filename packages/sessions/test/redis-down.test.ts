/** With Redis down every call fails fast with a connection error, and nothing is half-written. */
import { ConnectionError, StratacacheError, TimeoutError } from '@stratacache/core-client';
import { describe, expect, it } from 'vitest';
import { createSessionManager } from '../src/index.js';
import { allKeys, client, SECRET, server } from './helpers.js';

describe('Redis down', () => {
  it('get, create, touch and destroy reject quickly with a connection error', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 500, breaker: false });
    const m = createSessionManager({ redis, secret: SECRET });
    const r = await m.create('u', { n: 1 });
    if (!r.created) throw new Error('not created');
    await s.stop();
    for (const call of [() => m.get(r.id), () => m.create('u', {}), () => m.touch(r.id), () => m.destroy(r.id)]) {
      const started = performance.now();
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(performance.now() - started).toBeLessThan(5000);
      expect(StratacacheError.isInstance(error)).toBe(true);
      expect(error instanceof ConnectionError || error instanceof TimeoutError).toBe(true);
    }
  });

  it('a create cut off by a frozen server is all or nothing', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 300, breaker: false });
    const m = createSessionManager({ redis, secret: SECRET, maxSessionsPerUser: 2 });
    expect((await m.create('u', { n: 0 })).created).toBe(true);
    s.pause();
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => m.create('u', { n: i + 1 })));
    s.resume();
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    for (const o of outcomes) {
      expect((o as PromiseRejectedResult).reason).toMatchObject({
        code: expect.stringMatching(/E_TIMEOUT|E_CONNECTION/),
      });
    }
    // Whatever ran once the server woke up ran whole: every session key is in the index,
    // the expiry set and the counters agree, and the limit holds.
    const check = createSessionManager({ redis: client({ url: s.url, prefix: redis.options.prefix }), secret: SECRET });
    const keys = await allKeys(check.options.redis);
    const sessionKeys = keys.filter((k) => k.includes(':s:'));
    const stats = await check.stats();
    expect(await check.count('u')).toBe(sessionKeys.length);
    expect(stats.active).toBe(sessionKeys.length);
    expect(stats.created - stats.evicted).toBe(sessionKeys.length);
    expect(sessionKeys.length).toBeLessThanOrEqual(2);
    for (const key of sessionKeys) {
      const fields = await check.options.redis.client.hgetall(key);
      expect(Object.keys(fields).sort()).toEqual(['a', 'c', 'i', 'l', 'v', 'w', 'x']);
    }
  });
});
