/** Per-user limits: atomic under parallel logins from several connections, with both policies. */
import { describe, expect, it } from 'vitest';
import { createSessionManager, type SessionManager } from '../src/index.js';
import { client, SECRET, sleep } from './helpers.js';

/** `n` managers on one prefix, each with its own connection, so logins really race on the server. */
function fleet(n: number, options: { maxSessionsPerUser: number; onLimit: 'reject' | 'evict-oldest' }) {
  const first = client();
  const prefix = first.options.prefix;
  return Array.from({ length: n }, (_, i) =>
    createSessionManager<{ i: number }>({ redis: i === 0 ? first : client({ prefix }), secret: SECRET, ...options }),
  );
}

async function login(managers: SessionManager<{ i: number }>[], count: number, userId: string) {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      (managers[i % managers.length] as SessionManager<{ i: number }>).create(userId, { i }),
    ),
  );
}

describe('maxSessionsPerUser', () => {
  it("'reject': 40 parallel logins from 4 connections leave exactly the limit", async () => {
    const managers = fleet(4, { maxSessionsPerUser: 3, onLimit: 'reject' });
    const m = managers[0] as SessionManager<{ i: number }>;
    const results = await login(managers, 40, 'carol');
    expect(results.filter((r) => r.created)).toHaveLength(3);
    expect(results.filter((r) => !r.created)).toEqual(
      Array.from({ length: 37 }, () => ({ created: false, reason: 'limit', limit: 3 })),
    );
    expect(await m.count('carol')).toBe(3);
    for (const r of results) if (r.created) expect((await m.get(r.id)).valid).toBe(true);
    const stats = await m.stats();
    expect(stats).toMatchObject({ created: 3, rejected: 37, active: 3 });
    // Another user is not affected; after a logout there is room again.
    expect((await m.create('dave', { i: 0 })).created).toBe(true);
    const first = results.find((r) => r.created);
    if (first?.created) await m.destroy(first.id);
    expect((await m.create('carol', { i: 99 })).created).toBe(true);
    expect(await m.count('carol')).toBe(3);
  });

  it("'evict-oldest': 40 parallel logins all succeed and leave exactly the limit alive", async () => {
    const managers = fleet(4, { maxSessionsPerUser: 3, onLimit: 'evict-oldest' });
    const m = managers[0] as SessionManager<{ i: number }>;
    const results = await login(managers, 40, 'erin');
    expect(results.every((r) => r.created)).toBe(true);
    const alive = [];
    for (const r of results) if (r.created && (await m.get(r.id, { touch: false })).valid) alive.push(r.id);
    expect(alive).toHaveLength(3);
    expect(await m.count('erin')).toBe(3);
    expect(await m.stats()).toMatchObject({ created: 40, evicted: 37, active: 3 });
  });

  it("'evict-oldest' destroys the least recently used session, not the oldest created", async () => {
    const m = createSessionManager({ redis: client(), secret: SECRET, maxSessionsPerUser: 2 });
    const a = await m.create('frank', 'a');
    await sleep(5);
    const b = await m.create('frank', 'b');
    await sleep(5);
    if (!a.created || !b.created) throw new Error('not created');
    await m.touch(a.id); // a is now more recent than b
    await sleep(5);
    const c = await m.create('frank', 'c');
    expect(c).toMatchObject({ created: true, evicted: 1 });
    expect((await m.get(a.id)).valid).toBe(true);
    expect(await m.get(b.id)).toEqual({ valid: false, reason: 'unknown' });
    expect((await m.list('frank')).map((s) => s.data).sort()).toEqual(['a', 'c']);
  });

  it('cleans expired members out of the index as it is read, counting each expiry once', async () => {
    const m = createSessionManager({
      redis: client(),
      secret: SECRET,
      maxSessionsPerUser: 2,
      onLimit: 'reject',
      idleTimeout: 1000,
      absoluteTimeout: '1m',
    });
    expect((await m.create('gina', 1)).created).toBe(true);
    expect((await m.create('gina', 2)).created).toBe(true);
    expect((await m.create('gina', 3)).created).toBe(false);
    await sleep(1200);
    // Both expired: the next login is admitted because the script drops them first.
    expect((await m.create('gina', 4)).created).toBe(true);
    expect(await m.count('gina')).toBe(1);
    const stats = await m.stats();
    expect(stats).toMatchObject({ created: 3, rejected: 1, expired: 2, active: 1 });
  });

  it('destroyAllForUser keeps the current session; list gives refs that revoke one device', async () => {
    const m = createSessionManager<{ device: string }>({ redis: client(), secret: SECRET });
    const ids: string[] = [];
    for (const device of ['phone', 'laptop', 'tablet']) {
      const r = await m.create('hal', { device }, {});
      if (r.created) ids.push(r.id);
    }
    const other = await m.create('ivy', { device: 'phone' });
    const listed = await m.list('hal');
    expect(listed.map((s) => s.data.device).sort()).toEqual(['laptop', 'phone', 'tablet']);
    expect(listed.every((s) => s.ref.length === 43 && !ids.includes(s.ref))).toBe(true);
    const tablet = listed.find((s) => s.data.device === 'tablet');
    expect(await m.revoke('ivy', tablet?.ref as string)).toBe(false); // not ivy's
    expect(await m.revoke('hal', tablet?.ref as string)).toBe(true);
    expect(await m.count('hal')).toBe(2);
    expect(await m.destroyAllForUser('hal', { except: ids[0] })).toBe(1);
    expect((await m.get(ids[0] as string)).valid).toBe(true);
    expect((await m.get(ids[1] as string)).valid).toBe(false);
    expect(await m.count('ivy')).toBe(1);
    expect(other.created && (await m.get(other.id)).valid).toBe(true);
  });
});
