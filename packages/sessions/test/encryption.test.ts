/** Encryption at rest: AES-256-GCM, rotation, and tampering read as `tampered`, never as data. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacId } from '../src/ids.js';
import { createSessionManager } from '../src/index.js';
import { allKeys, client, manager, SECRET } from './helpers.js';

const key1 = { id: 'k1', key: randomBytes(32) };
const key2 = { id: 'k2', key: randomBytes(32) };

async function rawDump(redis: ReturnType<typeof client>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const key of await allKeys(redis)) {
    parts.push(Buffer.from(key));
    const type = await redis.client.type(key);
    if (type === 'hash') {
      const fields = await redis.client.hgetallBuffer(key);
      for (const [f, v] of Object.entries(fields)) parts.push(Buffer.from(f), v);
    } else if (type === 'zset') {
      parts.push(Buffer.from((await redis.client.zrange(key, '0', '-1')).join(',')));
    }
  }
  return Buffer.concat(parts);
}

/** The Redis key and raw value of the only session under a client's prefix. */
async function onlySession(redis: ReturnType<typeof client>): Promise<{ key: string; value: Buffer }[]> {
  const keys = (await allKeys(redis)).filter((k) => k.includes(':s:'));
  return Promise.all(keys.map(async (key) => ({ key, value: (await redis.client.hgetBuffer(key, 'v')) as Buffer })));
}

describe('encryption at rest', () => {
  it('keeps no plaintext field of the session in Redis', async () => {
    const m = manager({ encryption: { keys: [key1] } });
    const secretData = { email: 'ada@example.org', role: 'superuser-role', note: 'plaintext-canary' };
    const r = await m.create('user-canary-7', secretData, { ip: '203.0.113.77', userAgent: 'Canary/1.0' });
    if (!r.created) throw new Error('not created');
    const dump = (await rawDump(m.redis)).toString('latin1');
    for (const needle of [
      'ada@example.org',
      'superuser-role',
      'plaintext-canary',
      'user-canary-7',
      '203.0.113.77',
      'Canary/1.0',
      'email',
    ]) {
      expect(dump).not.toContain(needle);
    }
    expect(await m.get(r.id)).toMatchObject({
      valid: true,
      data: secretData,
      userId: 'user-canary-7',
      ip: '203.0.113.77',
    });
  });

  it('uses a fresh 96-bit nonce per write', async () => {
    const m = manager({ encryption: { keys: [key1] } });
    const r = await m.create('u', { same: 1 });
    if (!r.created) throw new Error('not created');
    const [first] = await onlySession(m.redis);
    await m.update(r.id, { same: 1 });
    const [second] = await onlySession(m.redis);
    expect(first?.value.equals(second?.value as Buffer)).toBe(false);
  });

  it('reads sessions written under key 1 after rotating to key 2, and writes with key 2', async () => {
    const redis = client();
    const before = createSessionManager({ redis, secret: SECRET, encryption: { keys: [key1] } });
    const r = await before.create('u1', { written: 'under k1' });
    if (!r.created) throw new Error('not created');
    const rotated = createSessionManager({ redis, secret: SECRET, encryption: { keys: [key1, key2], current: 'k2' } });
    expect(await rotated.get(r.id)).toMatchObject({ valid: true, data: { written: 'under k1' } });
    await rotated.update(r.id, { written: 'under k2' });
    const [stored] = await onlySession(redis);
    expect(stored?.value.subarray(5, 7).toString()).toBe('k2'); // magic(4) | id length(1) | id
    // Once k1 is retired, k2 values still read; a k1-only reader cannot read them.
    const retired = createSessionManager({ redis, secret: SECRET, encryption: { keys: [key2] } });
    expect(await retired.get(r.id)).toMatchObject({ valid: true, data: { written: 'under k2' } });
    expect(await before.get(r.id)).toEqual({ valid: false, reason: 'tampered' });
  });

  it('reads a tampered, truncated, swapped or relabelled value as tampered', async () => {
    const m = manager({ encryption: { keys: [key1, key2] } });
    const a = await m.create('a', { who: 'a' });
    const b = await m.create('b', { who: 'b' });
    if (!a.created || !b.created) throw new Error('not created');
    const sessions = await onlySession(m.redis);
    const member = hmacId(Buffer.from(SECRET), a.id);
    const sa = sessions.find((x) => x.key.endsWith(member)) as { key: string; value: Buffer };
    const sb = sessions.find((x) => !x.key.endsWith(member)) as { key: string; value: Buffer };
    const idA = a.id;
    const flip = (at: number) => {
      const v = Buffer.from(sa.value);
      v[at] = (v[at] as number) ^ 0x01;
      return v;
    };
    const cases: [string, Buffer][] = [
      ['flipped ciphertext byte', flip(sa.value.length - 1)],
      ['flipped nonce byte', flip(5 + 2)],
      ['flipped tag byte', flip(5 + 2 + 12)],
      ['truncated tag', Buffer.concat([sa.value.subarray(0, 5 + 2 + 12 + 8)])],
      ['swapped with another session', sb.value],
      ['relabelled key id', Buffer.concat([sa.value.subarray(0, 5), Buffer.from('k2'), sa.value.subarray(7)])],
      ['unknown key id', Buffer.concat([sa.value.subarray(0, 5), Buffer.from('k9'), sa.value.subarray(7)])],
      ['plaintext downgrade', Buffer.from('{"u":"a","d":{"who":"evil"}}')],
      ['empty', Buffer.alloc(0)],
    ];
    for (const [label, value] of cases) {
      await m.redis.client.hset(sa.key, 'v', value);
      expect(await m.get(idA, { touch: false }), label).toEqual({ valid: false, reason: 'tampered' });
      expect(await m.peek(idA), label).toEqual({ valid: false, reason: 'tampered' });
    }
    await m.redis.client.hset(sa.key, 'v', sa.value);
    expect(await m.get(idA)).toMatchObject({ valid: true });
  });

  it('refuses bad keys with a ConfigError naming the option', () => {
    const redis = client();
    const make = (encryption: unknown) =>
      createSessionManager({ redis, secret: SECRET, encryption: encryption as never });
    expect(() => make({ keys: [] })).toThrow(/encryption.keys/);
    expect(() => make({ keys: [{ id: 'x', key: randomBytes(16) }] })).toThrow(/must be 32 bytes/);
    expect(() => make({ keys: [key1, { ...key2, id: 'k1' }] })).toThrow(/twice/);
    expect(() => make({ keys: [key1], current: 'nope' })).toThrow(/encryption.current/);
  });
});

describe('HMAC secret rotation', () => {
  it('accepts ids signed with an older secret and signs new ones with the first', async () => {
    const redis = client();
    const old = 'the-old-secret-which-is-long-enough-0000';
    const next = 'the-new-secret-which-is-long-enough-1111';
    const before = createSessionManager({ redis, secret: old });
    const r = await before.create('u', { v: 1 });
    if (!r.created) throw new Error('not created');
    const after = createSessionManager({ redis, secret: [next, old] });
    expect(await after.get(r.id)).toMatchObject({ valid: true, data: { v: 1 } });
    expect(await after.update(r.id, { v: 2 })).toMatchObject({ valid: true });
    const fresh = await after.create('u', { v: 3 });
    if (!fresh.created) throw new Error('not created');
    expect(await before.get(fresh.id)).toEqual({ valid: false, reason: 'unknown' });
    expect(await after.count('u')).toBe(2);
    // Regenerating moves an old-secret session to the new secret.
    const moved = await after.regenerate(r.id);
    if (!moved.valid) throw new Error('not regenerated');
    expect(await createSessionManager({ redis, secret: next }).get(moved.id)).toMatchObject({ valid: true });
    expect(await after.destroy(moved.id)).toBe(true);
  });
});
