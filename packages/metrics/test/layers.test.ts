/** coordination, invalidation and sessions driven through their public APIs; metrics read from a real scrape. */
import {
  createHeartbeats,
  createLocks,
  createRateLimiter,
  createSemaphore,
  createTaskClaims,
} from '@stratacache/coordination';
import { createInvalidationBus, createInvalidator } from '@stratacache/invalidation';
import { createSessionManager } from '@stratacache/sessions';
import { describe, expect, it } from 'vitest';
import { find, value } from './exposition.js';
import { client, eventually, metrics, scrape, server, sleep, unique } from './helpers.js';

describe('coordination metrics', () => {
  it('counts lock outcomes per family and observes wait and hold times', async () => {
    const m = metrics();
    const locks = createLocks(client());
    const family = unique('fam').replace(/-/g, '_');
    const a = await locks.acquire(`${family}:1`, { ttl: '10s' });
    const b = await locks.acquire(`${family}:2`, { ttl: '10s' });
    expect(await locks.acquire(`${family}:1`, { wait: 60, retryDelay: 20 })).toBeNull();
    await a?.release();
    await b?.release();
    await b?.release(); // no longer held: lost
    const s = await scrape(m);
    const result = (r: string) => value(s, 'stratacache_lock_acquisitions_total', { lock: family, result: r });
    expect([result('acquired'), result('contended'), result('timeout'), result('lost')]).toEqual([2, 1, 1, 1]);
    expect(value(s, 'stratacache_lock_wait_seconds_count', { lock: family })).toBe(2);
    expect(value(s, 'stratacache_lock_held_seconds_count', { lock: family })).toBe(3);
    // Lock names never become labels: one series per family, whatever the ids.
    expect(find(s, 'stratacache_lock_acquisitions_total').some((x) => x.labels.lock?.includes(':'))).toBe(false);
  });

  it('counts rate-limit decisions, claims, heartbeats and semaphores', async () => {
    const m = metrics();
    const redis = client();
    const limiter = unique('login');
    const rl = createRateLimiter(redis, { limit: 2, window: '1h', block: '1h', name: limiter });
    for (let i = 0; i < 5; i++) await rl.limit('ip-1');
    const claims = createTaskClaims(redis, { namespace: 'claims-ns' });
    await claims.claimTask('nightly', { ttl: '10s' });
    await claims.claimTask('nightly', { ttl: '10s', owner: 'someone-else' });
    const group = unique('g');
    const beats = createHeartbeats(redis, { group, window: 30 });
    await beats.beat('w1');
    await beats.beat('w2');
    await sleep(60);
    await beats.dead();
    const semaphore = unique('pool');
    const sem = createSemaphore(redis, semaphore, { limit: 1, retryDelay: 20 });
    const permit = await sem.acquire();
    expect(await sem.acquire({ wait: 50 })).toBeNull();
    await permit?.release();

    const s = await scrape(m);
    const decision = (d: string) =>
      value(s, 'stratacache_ratelimit_decisions_total', { limiter, decision: d, source: 'redis' });
    expect([decision('allowed'), decision('limited'), decision('blocked')]).toEqual([2, 1, 2]);
    expect(value(s, 'stratacache_claims_total', { namespace: 'claims-ns', result: 'claimed' })).toBe(1);
    expect(value(s, 'stratacache_claims_total', { namespace: 'claims-ns', result: 'held' })).toBe(1);
    expect(value(s, 'stratacache_heartbeats_total', { group })).toBe(2);
    expect(value(s, 'stratacache_heartbeat_dead_workers', { group })).toBe(2);
    expect(value(s, 'stratacache_semaphore_acquisitions_total', { semaphore, result: 'acquired' })).toBe(1);
    expect(value(s, 'stratacache_semaphore_acquisitions_total', { semaphore, result: 'timeout' })).toBe(1);
    expect(value(s, 'stratacache_semaphore_held_seconds_count', { semaphore })).toBe(1);
  });

  it('counts insurance decisions while Redis is paused', async () => {
    const s = await server();
    const m = metrics();
    const limiter = unique('api');
    const rl = createRateLimiter(client({ url: s.url, commandTimeout: 200 }), {
      limit: 1,
      window: '1h',
      name: limiter,
      deadline: 50,
    });
    s.pause();
    try {
      await rl.limit('u');
      await rl.limit('u');
    } finally {
      s.resume();
    }
    const scraped = await scrape(m);
    expect(
      value(scraped, 'stratacache_ratelimit_decisions_total', { limiter, source: 'insurance', decision: 'allowed' }),
    ).toBe(1);
    expect(
      value(scraped, 'stratacache_ratelimit_decisions_total', { limiter, source: 'insurance', decision: 'limited' }),
    ).toBe(1);
  });
});

describe('invalidation metrics', () => {
  it('counts published and received messages by op, delivery delays, the connected gauge and invalidator calls', async () => {
    const m = metrics();
    const channel = unique('inv');
    const prefix = unique('app');
    const a = createInvalidationBus(client({ prefix }), { channel });
    const b = createInvalidationBus(client({ prefix }), { channel });
    await Promise.all([a.start(), b.start()]);
    const inv = createInvalidator(client({ prefix }), { namespace: 'users', bus: a });
    await inv.deleteKeys([inv.keys.key('u', '1')]);
    await inv.expireByTag(['team:1']);
    await eventually(
      async () =>
        value(await scrape(m), 'stratacache_invalidation_messages_total', { channel, direction: 'received' }) === 2,
    );
    const s = await scrape(m);
    expect(
      value(s, 'stratacache_invalidation_messages_total', { channel, direction: 'published', op: 'delete-keys' }),
    ).toBe(1);
    expect(
      value(s, 'stratacache_invalidation_messages_total', { channel, direction: 'received', op: 'expire-tags' }),
    ).toBe(1);
    expect(value(s, 'stratacache_invalidation_delivery_seconds_count', { channel })).toBe(2);
    expect(value(s, 'stratacache_invalidation_bus_connected', { channel })).toBe(1);
    expect(value(s, 'stratacache_invalidations_total', { namespace: 'users', strategy: 'delete', target: 'key' })).toBe(
      1,
    );
    expect(value(s, 'stratacache_invalidations_total', { namespace: 'users', strategy: 'expire', target: 'tag' })).toBe(
      1,
    );
    await Promise.all([a.stop(), b.stop()]);
    // Stopped on purpose: the series goes, so no "bus disconnected" alert fires for it.
    expect(find(await scrape(m), 'stratacache_invalidation_bus_connected', { channel })).toEqual([]);
  });

  it('shows the bus disconnected, the gap and the clear when its Redis dies, and connected again after', async () => {
    const srv = await server();
    const m = metrics();
    const channel = unique('inv');
    const bus = createInvalidationBus(
      client({ url: srv.url, breaker: false, commandTimeout: 300, reconnectMaxDelay: 100 }),
      {
        channel,
      },
    );
    bus.register({ clearLocal: () => {} });
    await bus.start();
    await srv.kill();
    await eventually(async () => value(await scrape(m), 'stratacache_invalidation_bus_connected', { channel }) === 0);
    await srv.restart();
    await eventually(async () => value(await scrape(m), 'stratacache_invalidation_bus_connected', { channel }) === 1);
    const s = await scrape(m);
    expect(value(s, 'stratacache_invalidation_gaps_total', { channel, reason: 'resubscribed' })).toBe(1);
    expect(value(s, 'stratacache_invalidation_clears_total', { channel, reason: 'resubscribed' })).toBe(1);
    await bus.stop();
  });
});

describe('sessions metrics', () => {
  it('counts created, rejected by reason, destroyed, and reads the live count at scrape', async () => {
    const redis = client();
    const namespace = unique('sess');
    const sessions = createSessionManager({
      redis,
      namespace,
      secret: 'a-test-secret-that-is-at-least-32-bytes-long',
      maxSessionsPerUser: 2,
      onLimit: 'reject',
    });
    const m = metrics({ sessions: [sessions] });
    const one = await sessions.create('user-1', {});
    await sessions.create('user-1', {});
    expect((await sessions.create('user-1', {})).created).toBe(false);
    await sessions.create('user-2', {});
    if (one.created) await sessions.destroy(one.id);
    const s = await scrape(m);
    expect(value(s, 'stratacache_sessions_created_total', { namespace })).toBe(3);
    expect(value(s, 'stratacache_sessions_rejected_total', { namespace, reason: 'limit' })).toBe(1);
    expect(value(s, 'stratacache_sessions_destroyed_total', { namespace })).toBe(1);
    expect(value(s, 'stratacache_sessions_active', { namespace })).toBe(2);
    // Never a user id or session id in a label.
    expect(s.samples.some((x) => Object.values(x.labels).some((v) => v.includes('user-')))).toBe(false);
  });
});
