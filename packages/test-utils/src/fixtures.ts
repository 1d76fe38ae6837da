/**
 * vitest fixtures: `redisTest` gives each test a connected ioredis client and
 * its own namespace, cleaned after the test whether it passed or failed.
 *
 * ```ts
 * import { redisTest } from '@stratacache/test-utils';
 * redisTest('stores a value', async ({ redis, ns }) => {
 *   await redis.set(`${ns}:a`, '1');
 *   expect(await redis.get(`${ns}:a`)).toBe('1');
 * });
 * ```
 */
import { Redis, type RedisOptions } from 'ioredis';
import { inject, test } from 'vitest';
import { cleanupNamespace, uniqueNamespace } from './namespace.js';

/** The Redis URL provided by the global setup. */
export function testRedisUrl(): string {
  const provided = inject('redis');
  if (!provided?.url) {
    throw new Error(
      "No Redis was provided: add '@stratacache/test-utils/global-setup' to test.globalSetup in vitest.config.ts",
    );
  }
  return provided.url;
}

/**
 * A new ioredis client to the test Redis, failing fast rather than hanging
 * (one retry per command, a 5 s connect timeout) so a broken test errors soon.
 */
export function connectTestRedis(options: RedisOptions = {}): Redis {
  return new Redis(testRedisUrl(), {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 5000,
    ...options,
  });
}

/** Fixtures of {@link redisTest}. */
export interface RedisTestFixtures {
  /** A connected client, closed after the test. */
  redis: Redis;
  /** A namespace for this test's keys, deleted after the test. */
  ns: string;
}

/** `test` with a Redis client and a per-test namespace. */
export const redisTest = test.extend<RedisTestFixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest fixtures require a destructuring pattern.
  redis: async ({}, use) => {
    const redis = connectTestRedis();
    await use(redis);
    redis.disconnect();
  },
  ns: async ({ redis, task }, use) => {
    const ns = uniqueNamespace(task.name);
    await use(ns);
    await cleanupNamespace(redis, ns);
  },
});
