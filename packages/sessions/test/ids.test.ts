/** Ids: only ids the manager issued are accepted, and Redis never holds one. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSessionId, isWellFormedId, SESSION_ID_LENGTH } from '../src/index.js';
import { allKeys, client, manager, server } from './helpers.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Runs `fn` over `items`, `width` at a time. */
async function inBatches<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

function mutate(id: string): string {
  const at = Math.floor(Math.random() * id.length);
  let c = id[at] as string;
  while (c === id[at]) c = ALPHABET[Math.floor(Math.random() * ALPHABET.length)] as string;
  return id.slice(0, at) + c + id.slice(at + 1);
}

describe('session ids', () => {
  it('are 256-bit base64url, canonical, and distinct', () => {
    const ids = new Set(Array.from({ length: 1000 }, generateSessionId));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toHaveLength(SESSION_ID_LENGTH);
      expect(isWellFormedId(id)).toBe(true);
      expect(Buffer.from(id, 'base64url')).toHaveLength(32);
    }
    // A non-canonical last character decodes to the same bytes: refused as malformed.
    const id = generateSessionId();
    const sloppy = id.slice(0, 42) + ALPHABET[ALPHABET.indexOf(id[42] as string) + 1];
    expect(Buffer.from(sloppy, 'base64url').equals(Buffer.from(id, 'base64url'))).toBe(true);
    expect(isWellFormedId(sloppy)).toBe(false);
    for (const bad of ['', 'short', `${id}x`, `${id.slice(0, 42)}!`, id.replace(/.$/, '='), 42, null, undefined]) {
      expect(isWellFormedId(bad)).toBe(false);
    }
  });

  it('accepts none of 10k random ids and none of 10k mutations of real ids', async () => {
    const m = manager({ maxSessionsPerUser: 100 });
    const real = await inBatches(
      Array.from({ length: 50 }, (_, i) => i),
      25,
      async (i) => {
        const r = await m.create(`user-${i % 5}`, { i });
        if (!r.created) throw new Error('not created');
        return r.id;
      },
    );
    const random = Array.from({ length: 10_000 }, () => randomBytes(32).toString('base64url'));
    const mutated = Array.from({ length: 10_000 }, (_, i) => mutate(real[i % real.length] as string));
    const realSet = new Set(real);
    expect(mutated.some((id) => realSet.has(id))).toBe(false);
    const results = await inBatches([...random, ...mutated], 500, (id) => m.get(id, { touch: false }));
    expect(results.filter((r) => r.valid)).toHaveLength(0);
    expect(new Set(results.map((r) => (r.valid ? 'valid' : r.reason)))).toEqual(new Set(['unknown']));
    // The real ones are still there.
    const back = await inBatches(real, 50, (id) => m.get(id));
    expect(back.every((r) => r.valid)).toBe(true);
  });

  it('refuses a malformed id without a round trip', async () => {
    const s = await server();
    const m = manager({ redis: client({ url: s.url, commandTimeout: 300, breaker: false }) });
    await s.stop(); // any command would now fail
    expect(await m.get('not-an-id')).toEqual({ valid: false, reason: 'unknown' });
    expect(await m.get(`${generateSessionId()}x`)).toEqual({ valid: false, reason: 'unknown' });
    expect(await m.destroy('../../etc')).toBe(false);
    expect(await m.put('x', null, {})).toBe('refused');
  });

  it('stores an HMAC of the id, never the id, in keys and values', async () => {
    const m = manager({ maxSessionsPerUser: 3 });
    const r = await m.create('alice', { theme: 'dark' }, {});
    if (!r.created) throw new Error('not created');
    await m.touch(r.id);
    const keys = await allKeys(m.redis);
    let dump = keys.join('\n');
    for (const key of keys) {
      const type = await m.redis.client.type(key);
      if (type === 'hash') dump += JSON.stringify(await m.redis.client.hgetall(key));
      if (type === 'zset') dump += JSON.stringify(await m.redis.client.zrange(key, '0', '-1', 'WITHSCORES'));
    }
    expect(dump).not.toContain(r.id);
    expect(dump).not.toContain(Buffer.from(r.id, 'base64url').toString('hex'));
    expect(keys.join('\n')).not.toContain('alice'); // user ids are hashed in key names
  });

  it('never accepts an id it did not issue through put', async () => {
    const m = manager();
    const foreign = generateSessionId();
    expect(await m.put(foreign, 'mallory', { admin: true })).toBe('refused');
    expect(await m.get(foreign)).toEqual({ valid: false, reason: 'unknown' });
    const issued = m.issueId();
    expect(await m.put(issued, 'bob', { n: 1 })).toBe('created');
    expect(await m.put(issued, 'bob', { n: 2 })).toBe('saved');
    expect(await m.peek(issued)).toMatchObject({ valid: true, userId: 'bob', data: { n: 2 } });
    expect(await m.destroy(issued)).toBe(true);
    // Once destroyed, a late save (a request racing the logout) cannot bring it back.
    expect(await m.put(issued, 'bob', { n: 3 })).toBe('refused');
    expect(await m.peek(issued)).toMatchObject({ valid: false });
  });
});
