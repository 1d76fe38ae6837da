/** Idle and absolute timeouts, enforced on the server; regenerate. */
import { describe, expect, it } from 'vitest';
import { createSessionManager } from '../src/index.js';
import { client, SECRET, sleep } from './helpers.js';

const make = (idleTimeout: number, absoluteTimeout: number) =>
  createSessionManager<{ n: number }>({ redis: client(), secret: SECRET, idleTimeout, absoluteTimeout });

describe('timeouts', () => {
  it('an idle session expires; the key carries the TTL on the server', async () => {
    const m = make(300, 10_000);
    const r = await m.create('u', { n: 1 });
    if (!r.created) throw new Error('not created');
    expect(r.session.expiresAt - r.session.lastSeenAt).toBe(300);
    expect(r.session.absoluteExpiresAt - r.session.createdAt).toBe(10_000);
    const keys = [];
    for await (const batch of m.options.redis.scan(`${m.options.redis.options.prefix}:*:s:*`)) keys.push(...batch);
    const pttl = await m.options.redis.client.pttl(keys[0] as string);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(300);
    await sleep(450);
    expect(await m.get(r.id)).toEqual({ valid: false, reason: 'expired' });
    // Reported as expired once, then it is simply unknown.
    expect(await m.get(r.id)).toEqual({ valid: false, reason: 'unknown' });
    expect((await m.stats()).expired).toBe(1);
  });

  it('touch slides the idle timeout but never the absolute one (connect-redis #251)', async () => {
    const m = make(600, 1500);
    const r = await m.create('u', { n: 1 });
    if (!r.created) throw new Error('not created');
    const started = Date.now();
    let last: Awaited<ReturnType<typeof m.touch>> | undefined;
    // Touch every 150 ms: well inside the idle timeout, so only the absolute one can end it.
    while (Date.now() - started < 1000) {
      await sleep(150);
      last = await m.touch(r.id);
      expect(last.valid).toBe(true);
    }
    expect(Date.now() - started).toBeGreaterThan(600); // it outlived one idle period thanks to touch
    if (!last?.valid) throw new Error('lost');
    expect(last.absoluteExpiresAt).toBe(r.session.absoluteExpiresAt);
    expect(last.expiresAt).toBeLessThanOrEqual(r.session.absoluteExpiresAt);
    // Keep touching: it ends at the absolute timeout all the same (the loop would never end otherwise).
    let touches = 0;
    while ((await m.touch(r.id)).valid) {
      touches++;
      await sleep(100);
    }
    expect(touches).toBeGreaterThan(0);
    expect(await m.get(r.id)).toEqual({ valid: false, reason: 'unknown' });
    expect((await m.stats()).expired).toBe(1);
  });

  it('get slides like touch unless touch: false', async () => {
    const m = make(1000, 10_000);
    const r = await m.create('u', { n: 1 });
    if (!r.created) throw new Error('not created');
    await sleep(600);
    const peeked = await m.get(r.id, { touch: false });
    expect(peeked.valid && peeked.lastSeenAt).toBe(r.session.lastSeenAt);
    const got = await m.get(r.id);
    expect(got.valid && got.lastSeenAt).toBeGreaterThan(r.session.lastSeenAt);
    await sleep(600); // 1200 ms after creation, 600 after the last get
    expect((await m.get(r.id)).valid).toBe(true);
  });

  it('regenerate issues a new id with the same data and absolute timeout, and invalidates the old id', async () => {
    const m = createSessionManager<{ n: number }>({ redis: client(), secret: SECRET, maxSessionsPerUser: 1 });
    const r = await m.create('u', { n: 7 });
    if (!r.created) throw new Error('not created');
    await sleep(10);
    const next = await m.regenerate(r.id);
    if (!next.valid) throw new Error('not regenerated');
    expect(next.id).not.toBe(r.id);
    expect(next).toMatchObject({ data: { n: 7 }, userId: 'u', createdAt: r.session.createdAt });
    expect(next.absoluteExpiresAt).toBe(r.session.absoluteExpiresAt);
    expect(await m.get(r.id)).toEqual({ valid: false, reason: 'unknown' });
    expect(await m.update(r.id, { n: 8 })).toEqual({ valid: false, reason: 'unknown' });
    expect(await m.regenerate(r.id)).toEqual({ valid: false, reason: 'unknown' });
    expect(await m.get(next.id)).toMatchObject({ valid: true, data: { n: 7 } });
    expect(await m.count('u')).toBe(1); // the index moved with it: still one session, no eviction
    expect(await m.stats()).toMatchObject({ created: 1, regenerated: 1, evicted: 0, active: 1 });
  });

  it('parallel updates lose nothing (compare-and-set with retries)', async () => {
    const m = createSessionManager<{ hits: number }>({ redis: client(), secret: SECRET });
    const r = await m.create('u', { hits: 0 });
    if (!r.created) throw new Error('not created');
    await Promise.all(Array.from({ length: 5 }, () => m.update(r.id, (d) => ({ hits: d.hits + 1 }))));
    expect(await m.get(r.id)).toMatchObject({ data: { hits: 5 } });
  });
});
