/** Analytics from Redis (cross-instance) and diagnostics-channel events. */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { createSessionManager, SessionChannels } from '../src/index.js';
import { client, SECRET, sleep } from './helpers.js';

describe('stats()', () => {
  it('counts across instances: active, active within a window, lifetimes and durations', async () => {
    const redis = client();
    const options = { secret: SECRET, maxSessionsPerUser: 2, onLimit: 'reject' as const, idleTimeout: 1200 };
    const a = createSessionManager({ ...options, redis });
    const b = createSessionManager({ ...options, redis: client({ prefix: redis.options.prefix }) });
    const s1 = await a.create('u1', 1);
    const s2 = await b.create('u1', 2);
    expect((await a.create('u1', 3)).created).toBe(false);
    const s3 = await b.create('u2', 4);
    if (!s1.created || !s2.created || !s3.created) throw new Error('not created');
    expect(await a.stats()).toMatchObject({ active: 3, created: 3, rejected: 1, activeWithin: { count: 3 } });
    await b.destroy(s1.id);
    await sleep(700);
    await a.touch(s2.id);
    // Only s2 was used in the last 500 ms.
    expect((await b.stats({ activeWithin: 500 })).activeWithin).toEqual({ windowMs: 500, count: 1 });
    await sleep(1300); // everything left is idle past 1200 ms now
    const stats = await b.stats();
    expect(stats).toMatchObject({ active: 0, created: 3, destroyed: 1, expired: 2, rejected: 1, evicted: 0 });
    expect(stats.durations.count).toBe(3);
    expect(stats.durations.sumMs).toBeGreaterThan(0);
    expect(stats.durations.buckets[0]).toEqual({ le: 60_000, count: 3 }); // all lived under a minute
    expect(stats.durations.buckets.at(-1)).toEqual({ le: Number.POSITIVE_INFINITY, count: 3 });
    // Counted once: a second sweep and a late read change nothing.
    expect(await a.get(s3.id)).toEqual({ valid: false, reason: 'unknown' });
    expect((await a.stats()).expired).toBe(2);
  });

  it('publishes created, destroyed, expired, evicted, rejected, regenerated and tampered events without ids', async () => {
    const events: [string, Record<string, unknown>][] = [];
    const listeners = Object.entries(SessionChannels).map(([name, channel]) => {
      const listener = (message: unknown) => events.push([name, message as Record<string, unknown>]);
      subscribe(channel, listener);
      return () => unsubscribe(channel, listener);
    });
    try {
      const redis = client();
      const m = createSessionManager({
        redis,
        secret: SECRET,
        namespace: 'obs',
        maxSessionsPerUser: 1,
        idleTimeout: 500,
      });
      const r1 = await m.create('ann', 1);
      const r2 = await m.create('ann', 2); // evicts r1
      if (!r1.created || !r2.created) throw new Error('not created');
      const r3 = await m.regenerate(r2.id);
      if (!r3.valid) throw new Error('lost');
      await m.destroy(r3.id);
      const r4 = await m.create('bob', 4);
      await sleep(700);
      if (r4.created) expect(await m.get(r4.id)).toEqual({ valid: false, reason: 'expired' });
      const strict = createSessionManager({
        redis,
        secret: SECRET,
        namespace: 'obs2',
        maxSessionsPerUser: 1,
        onLimit: 'reject',
      });
      await strict.create('cid', 1);
      await strict.create('cid', 2);
      const names = events.map(([name]) => name);
      expect(names).toEqual([
        'created',
        'evicted',
        'created',
        'regenerated',
        'destroyed',
        'created',
        'expired',
        'created',
        'rejected',
      ]);
      expect(events[1]?.[1]).toEqual({ namespace: 'obs', userId: 'ann', count: 1 });
      expect(events[8]?.[1]).toEqual({ namespace: 'obs2', userId: 'cid', limit: 1 });
      const text = JSON.stringify(events);
      for (const id of [r1.id, r2.id, r3.id]) expect(text).not.toContain(id);
    } finally {
      for (const off of listeners) off();
    }
  });
});
