/**
 * No coordination verb enters an AsyncLocalStorage (on Node 20 the first one
 * entered slows every later promise of the process): the verbs of several
 * commands (TIME then a write or a read) pass their time budget explicitly.
 */
import { watchAsyncContexts } from '@stratacache/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { createHeartbeats, createLocks, createRateLimiter, createSemaphore, createTaskClaims } from '../src/index.js';
import { client, unique } from './helpers.js';

describe('coordination verbs and AsyncLocalStorage', () => {
  let watch: ReturnType<typeof watchAsyncContexts> | undefined;
  afterEach(() => watch?.restore());

  it('locks, limiters, semaphores, claims and heartbeats enter no async context', async () => {
    const redis = client();
    const locks = createLocks(redis);
    const limiter = createRateLimiter(redis, { limit: 5, window: '1m' });
    const semaphore = createSemaphore(redis, unique('sem'), { limit: 2 });
    const claims = createTaskClaims(redis);
    const beats = createHeartbeats(redis, { group: unique('g') });
    watch = watchAsyncContexts();
    const lock = await locks.acquire(unique('lock'));
    expect(lock).not.toBeNull();
    await lock?.release();
    expect((await limiter.limit('u')).allowed).toBe(true);
    const permit = await semaphore.acquire();
    expect(await semaphore.held()).toBe(1);
    await permit?.release();
    expect((await claims.claimTask(unique('task'))).claimed).toBe(true);
    await beats.beat('w1', { role: 'test' });
    expect((await beats.alive()).map((w) => w.workerId)).toEqual(['w1']);
    expect(await beats.dead('1h')).toEqual([]);
    expect(watch.callers).toEqual([]);
  });
});
