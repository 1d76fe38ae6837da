import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CoordinationChannels,
  createHeartbeats,
  createLocks,
  createRateLimiter,
  createSemaphore,
  createTaskClaims,
  lockFamily,
} from '../src/index.js';
import { client, sleep, unique } from './helpers.js';

type Event = { channel: string; message: Record<string, unknown> };
let events: Event[] = [];
const stops: Array<() => void> = [];

function listen(): void {
  events = [];
  for (const name of Object.values(CoordinationChannels)) {
    const listener = (message: unknown) => events.push({ channel: name, message: message as Record<string, unknown> });
    subscribe(name, listener);
    stops.push(() => unsubscribe(name, listener));
  }
}
const on = (channel: string) => events.filter((e) => e.channel === channel).map((e) => e.message);

afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

describe('coordination diagnostics', () => {
  it('names every channel stratacache:coordination:<event>', () => {
    for (const name of Object.values(CoordinationChannels)) expect(name).toMatch(/^stratacache:coordination:[a-z-]+$/);
    expect(lockFamily('invoice:42:pdf')).toBe('invoice');
    expect(lockFamily('nightly')).toBe('nightly');
  });

  it('publishes lock acquired, contended, timeout, released, lost and fence refusals with the family as the bounded name', async () => {
    listen();
    const locks = createLocks(client(), { namespace: 'locks-ns' });
    const name = `report:${unique('id')}`;
    const first = await locks.acquire(name, { ttl: '10s' });
    expect(first).not.toBeNull();
    expect(await locks.acquire(name, { wait: 120, retryDelay: 20 })).toBeNull();
    await first?.release();
    expect(await first?.release()).toBe(false); // a second release: no longer ours, so lost once
    expect(await first?.extend(1000)).toBe(false); // still reported only once

    const acquired = on(CoordinationChannels.lockAcquired);
    expect(acquired).toHaveLength(1);
    expect(acquired[0]).toMatchObject({ namespace: 'locks-ns', lock: 'report', name, attempts: 1 });
    expect(on(CoordinationChannels.lockContended)).toEqual([{ namespace: 'locks-ns', lock: 'report', name }]);
    const timeout = on(CoordinationChannels.lockTimeout);
    expect(timeout).toHaveLength(1);
    expect(timeout[0]?.waitMs).toBeGreaterThanOrEqual(100);
    expect(timeout[0]?.aborted).toBe(false);
    expect(on(CoordinationChannels.lockReleased).map((m) => m.held)).toEqual([true, false]);
    expect(on(CoordinationChannels.lockLost)).toEqual([
      { namespace: 'locks-ns', lock: 'report', name, reason: 'not-held' },
    ]);

    const resource = `res:{${unique('r')}}`;
    expect(await locks.fencedSet(resource, 'new', 10)).toBe(true);
    expect(await locks.fencedSet(resource, 'old', 9)).toBe(false);
    expect(on(CoordinationChannels.fenceRefused)).toEqual([{ namespace: 'locks-ns', key: resource, fence: 9 }]);
  });

  it('reports a lock lost inside using() once, with the reason', async () => {
    listen();
    const redis = client();
    const locks = createLocks(redis);
    const name = `job:${unique('id')}`;
    const result = await locks.using(
      name,
      async (signal) => {
        await redis.client.del(locks.lockKey(name)); // another process's TTL-expiry, forced
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        return 'done';
      },
      // Long enough that the TTL cannot run out on a busy machine before the watchdog's extend
      // finds the key gone (which would report 'expired', a different loss).
      { ttl: 1500 },
    );
    expect(result).toMatchObject({ acquired: true, lost: true });
    const lost = on(CoordinationChannels.lockLost);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ lock: 'job', reason: 'not-held' });
  });

  it('publishes rate-limit decisions: allowed, limited, then blocked by the penalty', async () => {
    listen();
    const limiter = createRateLimiter(client(), { limit: 1, window: '1h', block: '1h', name: 'login' });
    const id = unique('ip');
    await limiter.limit(id);
    await limiter.limit(id);
    await limiter.limit(id);
    expect(on(CoordinationChannels.rateLimit)).toEqual(
      ['allowed', 'limited', 'blocked'].map((decision) => ({
        namespace: 'ratelimit',
        limiter: 'login',
        algorithm: 'sliding-window',
        decision,
        source: 'redis',
      })),
    );
  });

  it('publishes claims, heartbeats and semaphore slots', async () => {
    listen();
    const redis = client();
    const claims = createTaskClaims(redis, { owner: 'me' });
    const task = unique('task');
    await claims.claimTask(task, { ttl: '10s' });
    await claims.claimTask(task, { ttl: '10s', owner: 'other' });
    await claims.ensureClaimTask(task);
    await claims.releaseClaim(task);
    await claims.releaseClaim(task);
    expect(on(CoordinationChannels.claim).map((m) => m.result)).toEqual([
      'claimed',
      'held',
      'renewed',
      'released',
      'not-owner',
    ]);

    const beats = createHeartbeats(redis, { group: 'indexers', window: 50 });
    await beats.beat('w1');
    await sleep(80);
    expect(await beats.dead()).toHaveLength(1);
    expect(on(CoordinationChannels.heartbeat)).toEqual([{ namespace: 'coord', group: 'indexers' }]);
    expect(on(CoordinationChannels.heartbeatDead)).toEqual([{ namespace: 'coord', group: 'indexers', count: 1 }]);

    const semaphore = createSemaphore(redis, unique('pool'), { limit: 1, ttl: '10s', retryDelay: 20 });
    const permit = await semaphore.acquire();
    expect(await semaphore.acquire({ wait: 60 })).toBeNull();
    await permit?.release();
    expect(on(CoordinationChannels.semaphoreAcquired)).toHaveLength(1);
    expect(on(CoordinationChannels.semaphoreTimeout)).toHaveLength(1);
    expect(on(CoordinationChannels.semaphoreReleased)[0]).toMatchObject({ held: true });
  });
});
