/**
 * Scripts are loaded on a connection before its first command (and again after
 * a restart), so a burst on a fresh connection never pays NOSCRIPT plus an
 * EVAL per call. Each test uses a private server: its script cache starts empty.
 */
import { describe, expect, it } from 'vitest';
import {
  createLocks,
  createRateLimiter,
  createSemaphore,
  createTaskClaims,
  type RateLimitAlgorithm,
} from '../src/index.js';
import { client, server, unique } from './helpers.js';

const calls = (commandstats: string, command: string) =>
  Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(commandstats)?.[1] ?? 0);

describe('scripts are loaded before the first call', () => {
  it('a 500-call rate-limit burst on a fresh connection is decided by Redis, one EVALSHA per call', async () => {
    const s = await server();
    const redis = client({ url: s.url });
    // The deadline is raised from its 250 ms default because this test asserts the structure
    // (scripts loaded before the first call: no NOSCRIPT, no EVAL of the source), which makes the
    // burst fit the default deadline on an idle machine. Whether it does is timed in
    // bench/coordination (the "fresh-connection burst" line): with both cores busy, the event loop
    // alone can take longer than 250 ms for 500 calls, and no test may depend on an idle machine.
    const limiter = createRateLimiter(redis, { limit: 1000, window: '1m', name: unique('burst'), deadline: '10s' });
    // A fresh connection to a server whose script cache is empty: the burst starts once it is up.
    await redis.client.ping();
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => limiter.limit(`user-${i % 50}`)));
    expect(results.filter((r) => r.source !== 'redis')).toEqual([]);
    expect(results.every((r) => r.allowed)).toBe(true);
    const stats = await redis.client.info('commandstats');
    expect(calls(stats, 'evalsha')).toBe(500);
    expect(calls(stats, 'eval')).toBe(0); // no fallback to EVAL of the whole source
    expect(await redis.client.info('errorstats')).not.toMatch(/NOSCRIPT/);
  });

  it('loads them again after a restart emptied the script cache', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 2000 });
    const limiter = createRateLimiter(redis, { limit: 1000, window: '1m', name: unique('restart') });
    expect((await limiter.limit('a')).source).toBe('redis');
    await s.restart();
    // The first calls after the restart may be refused while the client reconnects; once back, none is NOSCRIPT.
    let result = await limiter.limit('a');
    for (let i = 0; i < 100 && result.source !== 'redis'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      result = await limiter.limit('a');
    }
    expect(result.source).toBe('redis');
    const burst = await Promise.all(Array.from({ length: 100 }, () => limiter.limit('b')));
    expect(burst.every((r) => r.source === 'redis')).toBe(true);
    expect(await redis.client.info('errorstats')).not.toMatch(/NOSCRIPT/);
    expect(calls(await redis.client.info('commandstats'), 'eval')).toBe(0);
  });

  it('for every algorithm, and for locks, semaphores and claims', async () => {
    const s = await server();
    const redis = client({ url: s.url });
    const algorithms: RateLimitAlgorithm[] = ['fixed-window', 'sliding-log', 'sliding-window', 'token-bucket', 'gcra'];
    for (const algorithm of algorithms) {
      await createRateLimiter(redis, { algorithm, limit: 5, window: '1m', name: unique(algorithm) }).limit('x');
    }
    const lock = await createLocks(redis).acquire(unique('lock'), { ttl: '10s' });
    expect(await lock?.extend(10_000)).toBe(true);
    expect(await lock?.release()).toBe(true);
    const permit = await createSemaphore(redis, unique('sem'), { limit: 2 }).acquire();
    expect(await permit?.extend()).toBe(true);
    expect(await permit?.release()).toBe(true);
    const claims = createTaskClaims(redis);
    const task = unique('task');
    expect((await claims.ensureClaimTask(task)).status).toBe('claimed');
    expect(await claims.releaseClaim(task)).toBe(true);
    expect(await redis.client.info('errorstats')).not.toMatch(/NOSCRIPT/);
    expect(calls(await redis.client.info('commandstats'), 'eval')).toBe(0);
  });
});
