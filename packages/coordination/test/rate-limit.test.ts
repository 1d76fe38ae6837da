import { testRedisOptions } from '@stratacache/test-utils';
import { describe, expect, it } from 'vitest';
import { createRateLimiter, type RateLimitAlgorithm } from '../src/index.js';
import { client, server, sleep, unique } from './helpers.js';
import { startWorker } from './processes.js';

/**
 * The decision deadline of limiters whose test is not about it. The default (250 ms) is a wall-clock
 * race: with both cores busy a call can pass it and be decided by the insurance limiter, which these
 * tests would read as a wrong decision. The deadline itself is tested below with a frozen server.
 */
const NOT_UNDER_TEST = '10s';

const ALGORITHMS: RateLimitAlgorithm[] = ['fixed-window', 'sliding-log', 'sliding-window', 'token-bucket', 'gcra'];

describe.each(ALGORITHMS)('%s', (algorithm) => {
  it('allows exactly the limit, counts down remaining, and says when to retry', async () => {
    const limiter = createRateLimiter(client(), {
      deadline: NOT_UNDER_TEST,
      algorithm,
      limit: 5,
      window: '1h',
      name: unique('rl'),
    });
    const results = [];
    for (let i = 0; i < 7; i++) results.push(await limiter.limit('user-1'));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, true, false, false]);
    expect(results.slice(0, 5).map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0]);
    expect(results[5]?.retryAfterMs).toBeGreaterThan(0);
    expect(results[5]?.resetMs).toBeGreaterThan(0);
    expect(results.every((r) => r.limit === 5 && r.source === 'redis')).toBe(true);
    expect((await limiter.limit('user-2')).allowed).toBe(true); // per identity
  });

  it('charges a cost, and never leaves a key without a TTL', async () => {
    const redis = client();
    const limiter = createRateLimiter(redis, {
      deadline: NOT_UNDER_TEST,
      algorithm,
      limit: 10,
      window: '1h',
      name: unique('rl'),
    });
    expect((await limiter.limit('u', { cost: 7 })).remaining).toBe(3);
    expect((await limiter.limit('u', { cost: 4 })).allowed).toBe(false);
    expect((await limiter.limit('u', { cost: 3 })).allowed).toBe(true);
    for await (const batch of redis.scan(`${redis.options.prefix}:*`)) {
      for (const key of batch) expect(await redis.client.pttl(key), key).toBeGreaterThan(0);
    }
  });

  it('blocks for the penalty after a denial, past the end of the window', async () => {
    const limiter = createRateLimiter(client(), {
      deadline: NOT_UNDER_TEST,
      algorithm,
      limit: 1,
      window: 200,
      block: '700ms',
      name: unique('rl'),
    });
    expect((await limiter.limit('u')).allowed).toBe(true);
    const denied = await limiter.limit('u');
    expect(denied.allowed).toBe(false);
    expect(denied.retryAfterMs).toBeGreaterThanOrEqual(650);
    await sleep(350); // the window (and any refill) has passed; the penalty has not
    expect((await limiter.limit('u')).allowed).toBe(false);
    await sleep(450);
    expect((await limiter.limit('u')).allowed).toBe(true);
    await limiter.reset('u');
  });

  it('is exact for limits that do not divide the window (6 per second, 7 per second)', async () => {
    for (const limit of [6, 7, 9]) {
      const limiter = createRateLimiter(client(), {
        deadline: NOT_UNDER_TEST,
        algorithm,
        limit,
        window: 1000,
        name: unique('rl'),
      });
      const results = await Promise.all(Array.from({ length: limit + 1 }, () => limiter.limit('u')));
      expect(
        results.filter((r) => r.allowed),
        `limit ${limit}`,
      ).toHaveLength(limit);
      const remaining = results
        .filter((r) => r.allowed)
        .map((r) => r.remaining)
        .sort((a, b) => b - a);
      expect(remaining, `limit ${limit}`).toEqual(Array.from({ length: limit }, (_, i) => limit - 1 - i));
    }
  });

  it('refuses a cost above the limit instead of promising a retry that cannot succeed', async () => {
    const limiter = createRateLimiter(client(), {
      deadline: NOT_UNDER_TEST,
      algorithm,
      limit: 5,
      window: '1m',
      name: unique('rl'),
    });
    await expect(limiter.limit('u', { cost: 6 })).rejects.toThrowError(/cost 6 is more than the limit 5/);
  });

  it('1000 requests from 4 processes at a limit of 100: exactly 100 allowed', async () => {
    const name = unique(`rl-${algorithm}`);
    const workers = Array.from({ length: 4 }, () =>
      startWorker('ratelimit', { redis: testRedisOptions(), algorithm, n: 250, name }),
    );
    const outputs = await Promise.all(workers.map((w) => w.done()));
    const allowed = outputs.reduce((sum, events) => sum + Number(events.find((e) => 'allowed' in e)?.allowed), 0);
    expect(allowed).toBe(100);
    expect(new Set(outputs.flatMap((events) => events.find((e) => 'sources' in e)?.sources as string[]))).toEqual(
      new Set(['redis']),
    );
  }, 60_000);
});

describe('refilling', () => {
  it('lets a request through after the retryAfterMs it was told', async () => {
    for (const algorithm of ALGORITHMS) {
      const limiter = createRateLimiter(client(), {
        deadline: NOT_UNDER_TEST,
        algorithm,
        limit: 2,
        window: 300,
        name: unique('refill'),
      });
      await limiter.limit('u');
      await limiter.limit('u');
      const denied = await limiter.limit('u');
      expect(denied.allowed, algorithm).toBe(false);
      await sleep(denied.retryAfterMs + 20);
      expect((await limiter.limit('u')).allowed, `${algorithm} after ${denied.retryAfterMs} ms`).toBe(true);
    }
  });
});

describe('when Redis is down', () => {
  it('decides within the deadline by the declared policy', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: '2s', breaker: false, prefix: 'down' });
    await redis.client.ping();
    s.pause(); // frozen: connections stay open, nothing answers, the worst case for a deadline
    try {
      for (const [policy, allowed, source] of [
        ['open', true, 'fail-open'],
        ['closed', false, 'fail-closed'],
      ] as const) {
        const limiter = createRateLimiter(redis, { limit: 10, window: '1m', onRedisDown: policy, deadline: '150ms' });
        const started = performance.now();
        const result = await limiter.limit('u');
        expect(performance.now() - started).toBeLessThan(150 + 400);
        expect(result).toMatchObject({ allowed, source });
      }
      const insured = createRateLimiter(redis, {
        limit: 100,
        window: '1m',
        onRedisDown: 'insurance',
        insuranceLimit: 3,
        deadline: '100ms',
      });
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await insured.limit('u'));
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
      expect(results.every((r) => r.source === 'insurance')).toBe(true);
    } finally {
      s.resume();
    }
    await s.stop();
    const stopped = createRateLimiter(redis, { limit: 10, window: '1m', onRedisDown: 'closed', deadline: '1s' });
    expect(await stopped.limit('u')).toMatchObject({ allowed: false, source: 'fail-closed' });
  });

  it('refuses bad options with the option named', () => {
    const redis = client();
    expect(() => createRateLimiter(redis, { deadline: NOT_UNDER_TEST, limit: 0, window: '1m' })).toThrowError(
      /limit must be a positive integer/,
    );
    expect(() => createRateLimiter(redis, { deadline: NOT_UNDER_TEST, limit: 1, window: '0s' })).toThrowError(/window/);
    expect(() =>
      createRateLimiter(redis, { deadline: NOT_UNDER_TEST, limit: 1, window: '1m', algorithm: 'leaky' as never }),
    ).toThrowError(/algorithm/);
    expect(() =>
      createRateLimiter(redis, { deadline: NOT_UNDER_TEST, limit: 1, window: '1m', onRedisDown: 'maybe' as never }),
    ).toThrowError(/onRedisDown/);
  });
});
