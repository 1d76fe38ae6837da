import { testRedisOptions } from '@stratacache/test-utils';
import { describe, expect, it } from 'vitest';
import { createHeartbeats, createRetryBudget, createSemaphore, createTaskClaims } from '../src/index.js';
import { processId } from '../src/process-id.js';
import { client, sleep, unique } from './helpers.js';
import { startWorker } from './processes.js';

describe('task claims', () => {
  it('4 processes race for one claim: exactly one owner', async () => {
    const task = unique('task');
    const workers = Array.from({ length: 4 }, () => startWorker('claim', { redis: testRedisOptions(), task }));
    const results = (await Promise.all(workers.map((w) => w.done()))).map(
      (events) => events[0] as Record<string, unknown>,
    );
    const winners = results.filter((r) => r.claimed);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((r) => !r.claimed)) expect(loser.owner).toBe(winners[0]?.me);
  }, 30_000);

  it('ensureClaimTask renews only for the owner, and claims when free', async () => {
    const redis = client();
    const a = createTaskClaims(redis, { owner: 'worker-a' });
    const b = createTaskClaims(redis, { owner: 'worker-b' });
    const task = unique('task');
    expect(await a.ensureClaimTask(task, { ttl: 300 })).toEqual({ status: 'claimed', owner: 'worker-a' });
    expect(await b.ensureClaimTask(task, { ttl: '10s' })).toEqual({ status: 'held', owner: 'worker-a' });
    expect((await b.isTaskClaimed(task)).ttlMs).toBeLessThanOrEqual(300); // b did not renew it
    expect(await a.ensureClaimTask(task, { ttl: '10s' })).toEqual({ status: 'renewed', owner: 'worker-a' });
    expect((await a.isTaskClaimed(task)).ttlMs).toBeGreaterThan(5000);
    expect(await b.releaseClaim(task)).toBe(false);
    expect(await a.releaseClaim(task)).toBe(true);
    expect(await b.ensureClaimTask(task)).toEqual({ status: 'claimed', owner: 'worker-b' });
  });

  it('claims for an interval, and probability spreads attempts', async () => {
    const claims = createTaskClaims(client());
    expect(claims.owner).toBe(processId());
    const task = unique('periodic');
    const first = await claims.claimTask(task, { interval: 200 });
    expect(first).toEqual({ claimed: true, owner: claims.owner, skipped: false });
    expect((await claims.claimTask(task)).claimed).toBe(false);
    await sleep(250);
    expect((await claims.isTaskClaimed(task)).claimed).toBe(false);
    expect(await claims.claimTask(unique('never'), { probability: 0 })).toEqual({
      claimed: false,
      owner: null,
      skipped: true,
    });
    let tried = 0;
    for (let i = 0; i < 400; i++)
      if (!(await claims.claimTask(unique('p'), { probability: 0.25, ttl: 1000 })).skipped) tried++;
    expect(tried).toBeGreaterThan(50);
    expect(tried).toBeLessThan(150);
    await expect(claims.claimTask('x', { probability: 2 })).rejects.toThrowError(/probability/);
  });
});

describe('heartbeats', () => {
  it('knows who is alive and who went quiet, with their metadata', async () => {
    const hb = createHeartbeats(client(), { group: unique('g'), window: '300ms' });
    await hb.beat('w1', { version: '1.0' });
    await hb.beat('w2');
    expect((await hb.alive()).map((w) => w.workerId).sort()).toEqual(['w1', 'w2']);
    await sleep(350);
    await hb.beat('w2', { busy: true });
    expect((await hb.alive()).map((w) => w.workerId)).toEqual(['w2']);
    const dead = await hb.dead();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ workerId: 'w1', meta: { version: '1.0' } });
    expect((await hb.alive('1m')).find((w) => w.workerId === 'w2')?.meta).toEqual({ busy: true });
    await hb.forget('w1');
    expect(await hb.dead()).toEqual([]);
  });
});

describe('semaphore', () => {
  it('admits up to the limit, with growing fences, and frees slots on release or expiry', async () => {
    const redis = client();
    const sem = createSemaphore(redis, unique('sem'), { limit: 3, ttl: 300 });
    const permits = await Promise.all([sem.acquire(), sem.acquire(), sem.acquire()]);
    expect(permits.every(Boolean)).toBe(true);
    expect(new Set(permits.map((p) => p?.fence)).size).toBe(3);
    expect(await sem.acquire()).toBeNull();
    expect(await sem.held()).toBe(3);
    expect(await permits[0]?.release()).toBe(true);
    const fourth = await sem.acquire();
    expect(fourth?.fence).toBeGreaterThan(Math.max(...permits.map((p) => p?.fence as number)));
    expect(await fourth?.extend('5s')).toBe(true);
    await sleep(350); // the other two expire, the extended one stays
    expect(await sem.held()).toBe(1);
    expect(await permits[1]?.extend()).toBe(false);
    expect(await permits[2]?.release()).toBe(false); // it had expired: not a release of a held slot
    expect(await sem.acquire({ wait: '200ms' })).not.toBeNull();
  });
});

describe('retry budget', () => {
  it('lets all instances together retry at most maxRetries times per window', async () => {
    const dependency = unique('payments-api');
    const prefix = unique('fleet');
    // Three instances: three connections, one shared key space.
    const fleet = [0, 1, 2].map(() => createRetryBudget(client({ prefix }), { maxRetries: 5, window: '1m' }));
    let allowed = 0;
    for (let i = 0; i < 12; i++)
      if ((await (fleet[i % 3] as (typeof fleet)[0]).tryRetry(dependency)).allowed) allowed++;
    expect(allowed).toBe(5);
    const denied = await (fleet[0] as (typeof fleet)[0]).tryRetry(dependency);
    expect(denied).toMatchObject({ allowed: false, remaining: 0 });
    expect(denied.retryAfterMs).toBeGreaterThan(0);
    expect((await (fleet[1] as (typeof fleet)[0]).tryRetry(unique('other-dependency'))).allowed).toBe(true);
  });
});
