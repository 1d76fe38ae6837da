/**
 * Every option of every coordination feature (and of their calls) fed a wrong
 * type, a negative, zero, NaN, an unknown value and an out-of-range value:
 * each is refused, before anything is sent, with a ConfigError (E_CONFIG)
 * naming the option and the value received.
 */
import { BAD_OPTION_VALUES as BAD, badEnumValues, expectConfigError, shown } from '@stratacache/test-utils';
import { describe, expect, it } from 'vitest';
import {
  createHeartbeats,
  createLocks,
  createRateLimiter,
  createRegistry,
  createRetryBudget,
  createSemaphore,
  createTaskClaims,
} from '../src/index.js';
import { client } from './helpers.js';

const redis = client();
const never = (v: unknown) => v as never;

interface Row {
  option: string;
  values: readonly unknown[];
  run: (value: unknown) => unknown;
  hideValue?: boolean;
}

const rows: Record<string, Row[]> = {
  locks: [
    { option: 'redis', values: ['x', 5, {}], run: (v) => createLocks(never(v)) },
    { option: 'options', values: BAD.object, run: (v) => createLocks(redis, never(v)) },
    { option: 'namespace', values: BAD.namespace, run: (v) => createLocks(redis, { namespace: never(v) }) },
    { option: 'ttl', values: BAD.positiveDuration, run: (v) => createLocks(redis, { ttl: never(v) }) },
    { option: 'retryDelay', values: BAD.positiveDuration, run: (v) => createLocks(redis, { retryDelay: never(v) }) },
  ],
  'locks.acquire': [
    { option: 'name', values: BAD.name, run: (v) => createLocks(redis).acquire(never(v)) },
    { option: 'ttl', values: BAD.positiveDuration, run: (v) => createLocks(redis).acquire('n', { ttl: never(v) }) },
    {
      option: 'wait',
      values: BAD.nonNegativeDuration,
      run: (v) => createLocks(redis).acquire('n', { wait: never(v) }),
    },
    {
      option: 'retryDelay',
      values: BAD.positiveDuration,
      run: (v) => createLocks(redis).acquire('n', { retryDelay: never(v) }),
    },
    { option: 'ttlMs', values: BAD.positiveInt, run: (v) => createLocks(redis).acquire('n', { ttlMs: never(v) }) },
    {
      option: 'waitMs',
      values: BAD.nonNegativeDuration,
      run: (v) => createLocks(redis).acquire('n', { ttlMs: 1000, waitMs: never(v) }),
    },
    { option: 'signal', values: ['x', 5, {}], run: (v) => createLocks(redis).acquire('n', { signal: never(v) }) },
  ],
  'locks.using': [
    {
      option: 'extendAt',
      values: BAD.openFraction,
      run: (v) => createLocks(redis).using('n', async () => 1, { extendAt: never(v) }),
    },
    {
      option: 'maxExtensions',
      values: BAD.positiveInt,
      run: (v) => createLocks(redis).using('n', async () => 1, { maxExtensions: never(v) }),
    },
    { option: 'fn', values: BAD.function, run: (v) => createLocks(redis).using('n', never(v)) },
  ],
  rateLimiter: [
    {
      option: 'algorithm',
      values: badEnumValues(),
      run: (v) => createRateLimiter(redis, { limit: 1, window: '1s', algorithm: never(v) }),
    },
    {
      option: 'limit',
      values: BAD.positiveInt,
      run: (v) => createRateLimiter(redis, { limit: never(v), window: '1s' }),
    },
    {
      option: 'window',
      values: BAD.positiveDuration,
      run: (v) => createRateLimiter(redis, { limit: 1, window: never(v) }),
    },
    {
      option: 'block',
      values: BAD.nonNegativeDuration,
      run: (v) => createRateLimiter(redis, { limit: 1, window: '1s', block: never(v) }),
    },
    {
      option: 'name',
      values: BAD.name,
      run: (v) => createRateLimiter(redis, { limit: 1, window: '1s', name: never(v) }),
    },
    {
      option: 'namespace',
      values: BAD.namespace,
      run: (v) => createRateLimiter(redis, { limit: 1, window: '1s', namespace: never(v) }),
    },
    {
      option: 'onRedisDown',
      values: badEnumValues(),
      run: (v) => createRateLimiter(redis, { limit: 1, window: '1s', onRedisDown: never(v) }),
    },
    {
      option: 'deadline',
      values: BAD.positiveDuration,
      run: (v) => createRateLimiter(redis, { limit: 1, window: '1s', deadline: never(v) }),
    },
    {
      option: 'insuranceLimit',
      values: BAD.positiveInt,
      run: (v) => createRateLimiter(redis, { limit: 1, window: '1s', insuranceLimit: never(v) }),
    },
  ],
  'rateLimiter.limit': [
    {
      option: 'cost',
      values: BAD.positiveInt,
      run: (v) => createRateLimiter(redis, { limit: 5, window: '1s' }).limit('id', { cost: never(v) }),
    },
    // Out of range: more than the limit could ever allow.
    {
      option: 'cost',
      values: [6],
      run: (v) => createRateLimiter(redis, { limit: 5, window: '1s' }).limit('id', { cost: never(v) }),
      hideValue: true,
    },
    {
      option: 'id',
      values: BAD.name,
      run: (v) => createRateLimiter(redis, { limit: 5, window: '1s' }).limit(never(v)),
    },
  ],
  semaphore: [
    { option: 'name', values: BAD.name, run: (v) => createSemaphore(redis, never(v), { limit: 1 }) },
    { option: 'limit', values: BAD.positiveInt, run: (v) => createSemaphore(redis, 's', { limit: never(v) }) },
    {
      option: 'ttl',
      values: BAD.positiveDuration,
      run: (v) => createSemaphore(redis, 's', { limit: 1, ttl: never(v) }),
    },
    {
      option: 'namespace',
      values: BAD.namespace,
      run: (v) => createSemaphore(redis, 's', { limit: 1, namespace: never(v) }),
    },
    {
      option: 'retryDelay',
      values: BAD.positiveDuration,
      run: (v) => createSemaphore(redis, 's', { limit: 1, retryDelay: never(v) }),
    },
    {
      option: 'wait',
      values: BAD.nonNegativeDuration,
      run: (v) => createSemaphore(redis, 's', { limit: 1 }).acquire({ wait: never(v) }),
    },
  ],
  taskClaims: [
    { option: 'namespace', values: BAD.namespace, run: (v) => createTaskClaims(redis, { namespace: never(v) }) },
    { option: 'owner', values: BAD.name, run: (v) => createTaskClaims(redis, { owner: never(v) }) },
    { option: 'ttl', values: BAD.positiveDuration, run: (v) => createTaskClaims(redis, { ttl: never(v) }) },
    {
      option: 'ttl',
      values: BAD.positiveDuration,
      run: (v) => createTaskClaims(redis).claimTask('t', { ttl: never(v) }),
    },
    {
      option: 'interval',
      values: BAD.positiveDuration,
      run: (v) => createTaskClaims(redis).claimTask('t', { interval: never(v) }),
    },
    {
      option: 'probability',
      values: BAD.fraction,
      run: (v) => createTaskClaims(redis).claimTask('t', { probability: never(v) }),
    },
  ],
  heartbeats: [
    { option: 'namespace', values: BAD.namespace, run: (v) => createHeartbeats(redis, { namespace: never(v) }) },
    { option: 'group', values: BAD.name, run: (v) => createHeartbeats(redis, { group: never(v) }) },
    { option: 'window', values: BAD.positiveDuration, run: (v) => createHeartbeats(redis, { window: never(v) }) },
    { option: 'workerId', values: BAD.name, run: (v) => createHeartbeats(redis).beat(never(v)) },
    { option: 'within', values: BAD.nonNegativeDuration, run: (v) => createHeartbeats(redis).alive(never(v)) },
  ],
  registry: [
    { option: 'name', values: BAD.name, run: (v) => createRegistry(redis, { name: never(v) }) },
    { option: 'namespace', values: BAD.namespace, run: (v) => createRegistry(redis, { namespace: never(v) }) },
    { option: 'lockWait', values: BAD.nonNegativeDuration, run: (v) => createRegistry(redis, { lockWait: never(v) }) },
  ],
  retryBudget: [
    { option: 'maxRetries', values: BAD.positiveInt, run: (v) => createRetryBudget(redis, { maxRetries: never(v) }) },
    {
      option: 'window',
      values: BAD.positiveDuration,
      run: (v) => createRetryBudget(redis, { maxRetries: 1, window: never(v) }),
    },
    {
      option: 'namespace',
      values: BAD.namespace,
      run: (v) => createRetryBudget(redis, { maxRetries: 1, namespace: never(v) }),
    },
  ],
};

for (const [feature, featureRows] of Object.entries(rows)) {
  describe(`${feature} options`, () => {
    for (const row of featureRows) {
      for (const value of row.values) {
        it(`refuses ${row.option} = ${shown(value)}`, () =>
          expectConfigError(() => row.run(value), row.option, value, { hideValue: row.hideValue }));
      }
    }
  });
}

describe('strings stored outside keys', () => {
  it('refuses lone surrogates in owners, worker ids and registry names (E_KEY): UTF-8 would merge them', async () => {
    const illFormed = ['\uD800', 'w\uDC00'];
    for (const id of illFormed) {
      expect(() => createTaskClaims(redis, { owner: id })).toThrowError(expect.objectContaining({ code: 'E_KEY' }));
      await expect(createHeartbeats(redis).beat(id)).rejects.toMatchObject({ code: 'E_KEY' });
      await expect(createRegistry(redis).register('job', id, {})).rejects.toMatchObject({ code: 'E_KEY' });
      await expect(createLocks(redis).acquire(id)).rejects.toMatchObject({ code: 'E_KEY' });
    }
  });
});
