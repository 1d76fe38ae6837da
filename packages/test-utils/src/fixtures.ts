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
import type { ProvidedRedis } from './global-setup.js';
import { cleanupNamespace, uniqueNamespace } from './namespace.js';
import type { Topology } from './topology.js';

function provided(): ProvidedRedis {
  const redis = inject('redis');
  if (!redis) {
    throw new Error(
      "No Redis was provided: add '@stratacache/test-utils/global-setup' to test.globalSetup in vitest.config.ts",
    );
  }
  return redis;
}

/** The topology this test runs on (`standalone`, `cluster` or `sentinel`). */
export function testTopology(): Topology {
  return provided().topology ?? 'standalone';
}

/**
 * The Redis URL provided by the global setup, on `standalone`. A test that
 * also runs on Cluster or Sentinel builds its client with
 * `testRedisOptions()` instead: on those this throws, naming it.
 */
export function testRedisUrl(): string {
  const redis = provided();
  if (!redis.url) {
    throw new Error(
      `This test runs on ${redis.topology}, which has no single URL: build the client with testRedisOptions() (createRedis options for the topology), or leave the test out of the ${redis.topology} project (test/topologies.json).`,
    );
  }
  return redis.url;
}

/** `createRedis` options (address part) for the run's topology. */
export type TestRedisOptions =
  | { url: string }
  | { clusterNodes: { host: string; port: number }[] }
  | { sentinels: { host: string; port: number }[]; sentinelName: string };

/** The address options of `createRedis` for this run's Redis, whatever its topology. */
export function testRedisOptions(): TestRedisOptions {
  const redis = provided();
  if (redis.topology === 'cluster' && redis.clusterNodes) return { clusterNodes: redis.clusterNodes };
  if (redis.topology === 'sentinel' && redis.sentinels && redis.sentinelName) {
    return { sentinels: redis.sentinels, sentinelName: redis.sentinelName };
  }
  return { url: testRedisUrl() };
}

const ADDRESS_OPTIONS = ['url', 'host', 'port', 'socketPath', 'clusterNodes', 'sentinels'];

/**
 * `options` for `createRedis` with the run's Redis filled in, unless they
 * name an address of their own (a private server of a failure test keeps
 * its `url` on every topology). The environment is never read (`env: {}`).
 *
 * @example
 * ```ts
 * const redis = createRedis(withTestRedis({ prefix: 't-1', commandTimeout: '1s' }));
 * ```
 */
export function withTestRedis<T extends object>(options: T): T & { env: Record<string, string> } {
  const own = ADDRESS_OPTIONS.some((name) => (options as Record<string, unknown>)[name] !== undefined);
  return { ...(own ? {} : testRedisOptions()), env: {}, ...options } as T & { env: Record<string, string> };
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
