/**
 * Every command of the `stratacache` bin, spawned as a process against a real Redis, on data
 * written by the real layers (a Cache, a session manager, locks, a rate limiter).
 */
import { randomBytes } from 'node:crypto';
import { createLocks, createRateLimiter } from '@stratacache/coordination';
import { createRedis, type StrataRedis } from '@stratacache/core-client';
import { createInvalidationBus } from '@stratacache/invalidation';
import { createCache } from '@stratacache/patterns';
import { json, msgpack } from '@stratacache/serializers';
import { createSessionManager } from '@stratacache/sessions';
import { eventually, startRedisServer, testRedisUrl } from '@stratacache/test-utils';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { stratacache } from './cli.js';

// Each test spawns the bin several times under tsx (a second each on an idle machine, several with
// both cores busy): the default 20 s per test is the idle machine's budget, not a loaded one's.
vi.setConfig({ testTimeout: 90_000 });

const prefix = `t-cli-${randomBytes(4).toString('hex')}`;
const env = { REDIS_URL: testRedisUrl(), REDIS_NS: prefix };
const clients: StrataRedis[] = [];
function client(): StrataRedis {
  const redis = createRedis({ url: testRedisUrl(), env: {}, prefix });
  clients.push(redis);
  return redis;
}
afterAll(async () => {
  const redis = client();
  await redis.unlinkMatching(`${prefix}:*`);
  await Promise.all(clients.map((c) => c.close()));
});

describe('inspect', () => {
  it('decodes a Cache entry: header, tags, envelope and value', async () => {
    const redis = client();
    const cache = createCache({ redis, namespace: 'shop', serializer: msgpack(), defaults: { ttl: '10m' } });
    await cache
      .namespace('users')
      .set('42', { id: 42, name: 'Ada', born: new Date(0) }, { tags: ['team:7'], version: 3 });
    const run = await stratacache(['inspect', '--cache', 'shop.users', '42', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({
      key: `${prefix}:shop.users:e:42`,
      exists: true,
      type: 'string',
      decoded: {
        entry: { kind: 'value', undefinedValue: false, expiredByCall: false, version: 3, tags: ['team:7'] },
        envelope: { format: 'Msgpack', compression: 'None', version: 1 },
        value: { id: 42, name: 'Ada', born: '1970-01-01T00:00:00.000Z' },
      },
    });
    const { ttlMs, decoded } = run.json as { ttlMs: number; decoded: { entry: { asOf: number; expiresAt: number } } };
    expect(ttlMs).toBeGreaterThan(0);
    expect(decoded.entry.expiresAt - decoded.entry.asOf).toBeGreaterThan(8 * 60_000); // 10m with 10% jitter
    const text = await stratacache(['inspect', '--cache', 'shop.users', '42'], env);
    expect(text.stdout).toMatch(/cache entry\s+value/);
    expect(text.stdout).toMatch(/tags\s+team:7/);
    expect(text.stdout).toMatch(/envelope\s+Msgpack, compression None, v1/);
    cache.close();
  });

  it('reads a tombstone, a serialized value, plain JSON, a hash, and says when a key is missing', async () => {
    const redis = client();
    const cache = createCache({ redis, namespace: 'tomb' });
    await cache.set('gone', 1);
    await cache.delete('gone');
    const tomb = await stratacache(['inspect', '--cache', 'tomb', 'gone', '--json'], env);
    expect(tomb.json).toMatchObject({ decoded: { entry: { kind: 'tombstone' } } });

    const keys = redis.keys('misc');
    await redis.client.set(keys.key('v', 'rich'), json({ rich: true }).encode({ at: new Date(0), n: 10n }));
    await redis.client.set(keys.key('v', 'plain'), '{"written":"by redis-cli"}');
    await redis.client.hset(keys.key('h', '1'), 'count', '3');
    const rich = await stratacache(['inspect', keys.key('v', 'rich'), '--json'], env);
    expect(rich.json).toMatchObject({
      decoded: { envelope: { format: 'JsonRich' }, value: { at: '1970-01-01T00:00:00.000Z', n: '10n' } },
    });
    const plainJson = await stratacache(['inspect', keys.key('v', 'plain'), '--json'], env);
    expect(plainJson.json).toMatchObject({ decoded: { value: { written: 'by redis-cli' } } });
    const hash = await stratacache(['inspect', keys.key('h', '1'), '--json'], env);
    expect(hash.json).toMatchObject({ type: 'hash', fields: { count: { value: 3 } } });

    const missing = await stratacache(['inspect', keys.key('v', 'nothing')], env);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/type\s+none/);
    cache.close();
  });
});

describe('scan', () => {
  it('lists the keys of a namespace (of one kind) with type and TTL, as a table or JSON', async () => {
    const redis = client();
    const cache = createCache({ redis, namespace: 'catalog', defaults: { ttl: '1h' } });
    for (const id of ['a', 'b', 'c']) await cache.set(id, { id });
    const run = await stratacache(['scan', 'catalog', '--kind', 'e', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const found = run.json as { keys: { key: string; type: string; ttlMs: number }[]; truncated: boolean };
    expect(found.keys.map((k) => k.key)).toEqual(['a', 'b', 'c'].map((id) => `${prefix}:catalog:e:${id}`));
    expect(found.keys.every((k) => k.type === 'string' && k.ttlMs > 0)).toBe(true);
    expect(found.truncated).toBe(false);
    const limited = await stratacache(['scan', 'catalog', '--kind', 'e', '--limit', '2'], env);
    expect(limited.stdout).toMatch(/^KEY\s+TYPE\s+TTL/);
    expect(limited.stdout).toMatch(/first 2 keys/);
    cache.close();
  });
});

describe('invalidate', () => {
  it('by tag: a dry run counts and changes nothing; the real run reaches Redis and another instance memory', async () => {
    const redis = client();
    const bus = createInvalidationBus(redis);
    await bus.start();
    const cache = createCache({ redis, bus, namespace: 'inv', defaults: { ttl: '1h' } });
    let loads = 0;
    const load = () => cache.getOrSet('p1', () => ({ n: ++loads }), { tags: ['team:7'] });
    await load();
    await cache.set('p2', 'x', { tags: ['team:7'] });
    await cache.set('p3', 'y', { tags: ['team:8'] });

    const dry = await stratacache(['invalidate', '--namespace', 'inv', '--tag', 'team:7', '--dry-run', '--json'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json).toMatchObject({ by: 'tag', targets: ['team:7'], dryRun: true, matched: 2 });
    expect(await load()).toEqual({ n: 1 }); // still cached

    const real = await stratacache(['invalidate', '--namespace', 'inv', '--tag', 'team:7'], env);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toMatch(/invalidated tag team:7 in inv: 2 entries/);
    // This process's memory tier heard it on the bus: the next read loads again.
    await eventually(async () => (await load()).n === 2);
    expect(await cache.get('p3')).toBe('y');
    cache.close();
    await bus.stop();
  });

  it('by key prefix, with a dry run first', async () => {
    const redis = client();
    const cache = createCache({ redis, namespace: 'pre', memory: false });
    for (const id of ['user:1', 'user:2', 'order:1']) await cache.set(id, id);
    const dry = await stratacache(
      ['invalidate', '--namespace', 'pre', '--key-prefix', 'user:', '--dry-run', '--json'],
      env,
    );
    expect(dry.json).toMatchObject({ by: 'prefix', matched: 2, dryRun: true });
    const real = await stratacache(['invalidate', '--namespace', 'pre', '--key-prefix', 'user:', '--json'], env);
    expect(real.json).toMatchObject({ by: 'prefix', matched: 2, deleted: 2, dryRun: false });
    expect(await cache.get('user:1')).toBeUndefined();
    expect(await cache.get('order:1')).toBe('order:1');
    cache.close();
  });

  it('refuses to run without a namespace, or with both a tag and a prefix', async () => {
    expect((await stratacache(['invalidate', '--tag', 'x'], env)).code).toBe(2);
    const both = await stratacache(['invalidate', '--namespace', 'a', '--tag', 'x', '--key-prefix', 'y'], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/one of the two/);
  });
});

describe('sessions', () => {
  it('lists a user sessions, revokes one by ref, then all', async () => {
    const secret = randomBytes(32).toString('hex');
    const sessions = createSessionManager({ redis: client(), secret });
    const a = await sessions.create('ada', { role: 'admin' }, { ip: '203.0.113.7' });
    await sessions.create('ada', { role: 'admin' });
    await sessions.create('ada', { role: 'admin' });
    const withSecret = { ...env, SESSION_SECRET: secret };
    const list = await stratacache(['sessions', 'list', 'ada', '--json', '--data'], withSecret);
    expect(list.code, list.stderr).toBe(0);
    const rows = list.json as { ref: string; ip: string | null; data: unknown }[];
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => /^[A-Za-z0-9_-]{43}$/.test(r.ref))).toBe(true);
    expect(rows.some((r) => r.ip === '203.0.113.7')).toBe(true);
    expect(rows[0]?.data).toEqual({ role: 'admin' });
    expect(JSON.stringify(rows)).not.toContain(a.created ? a.id : 'never'); // a ref is never the id

    // A ref may start with '-' (base64url): the command still reads it as the ref.
    for (const row of rows.slice(0, 2)) {
      const revoke = await stratacache(['sessions', 'revoke', 'ada', row.ref], withSecret);
      expect(revoke.code, `${row.ref}: ${revoke.stderr}`).toBe(0);
    }
    expect(await sessions.count('ada')).toBe(1);
    const dashed = await stratacache(['sessions', 'revoke', 'ada', `-${'Y'.repeat(42)}`, '--json'], withSecret);
    expect(dashed.json).toEqual({ userId: 'ada', ref: `-${'Y'.repeat(42)}`, revoked: 0 }); // no such session, not a usage error
    expect(dashed.code).toBe(1);
    const all = await stratacache(['sessions', 'revoke', 'ada', '--all', '--json'], withSecret);
    expect(all.json).toEqual({ userId: 'ada', revoked: 1 });
    expect(await sessions.count('ada')).toBe(0);
    const stats = await stratacache(['sessions', 'stats', '--json'], withSecret);
    expect(stats.json).toMatchObject({ active: 0, created: 3, destroyed: 3 });
  });

  it('needs SESSION_SECRET, and says so', async () => {
    const run = await stratacache(['sessions', 'list', 'ada'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/SESSION_SECRET/);
  });
});

describe('locks and limits', () => {
  it('locks list: held locks with TTL and fencing token', async () => {
    const locks = createLocks(client());
    const lock = await locks.acquire('invoice:42', { ttl: '30s' });
    const run = await stratacache(['locks', 'list', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const held = run.json as { name: string; holder: string; ttlMs: number; fence: number }[];
    expect(held).toEqual([
      {
        name: 'invoice:42',
        holder: expect.stringMatching(/^.{8}\.\.\.$/),
        ttlMs: expect.any(Number),
        fence: lock?.fence,
      },
    ]);
    expect(held[0]?.ttlMs).toBeGreaterThan(0);
    await lock?.release();
    expect((await stratacache(['locks', 'list'], env)).stdout.trim()).toBe('(none)');
  });

  it('limits show and reset: the state of one id, then forgotten', async () => {
    const limiter = createRateLimiter(client(), { name: 'api', limit: 2, window: '1m', algorithm: 'fixed-window' });
    await limiter.limit('ip:203.0.113.7');
    await limiter.limit('ip:203.0.113.7');
    expect((await limiter.limit('ip:203.0.113.7')).allowed).toBe(false);
    const show = await stratacache(['limits', 'show', 'api', 'ip:203.0.113.7', '--json'], env);
    expect(show.code, show.stderr).toBe(0);
    expect(show.json).toMatchObject({ limiter: 'api', id: 'ip:203.0.113.7', type: 'string', blocked: false });
    expect((show.json as { ttlMs: number }).ttlMs).toBeGreaterThan(0);
    const reset = await stratacache(['limits', 'reset', 'api', 'ip:203.0.113.7', '--json'], env);
    expect(reset.json).toEqual({ limiter: 'api', id: 'ip:203.0.113.7', removed: 1 });
    expect((await limiter.limit('ip:203.0.113.7')).allowed).toBe(true);
  });
});

describe('health and failures', () => {
  it('health: ok with exit 0; a Redis that is gone: exit 1 with the reason', async () => {
    const ok = await stratacache(['health', '--json'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json).toMatchObject({ ok: true, mode: 'standalone' });
    const server = await startRedisServer();
    const url = server.url;
    await server.stop();
    const down = await stratacache(['health', '--url', url], env);
    expect(down.code).toBe(1);
    const scanDown = await stratacache(['scan', 'cache', '--url', url], env);
    expect(scanDown.code).toBe(1);
    expect(scanDown.stderr).toMatch(/^stratacache scan: /);
  });

  it('usage errors exit 2 and point at --help', async () => {
    const help = await stratacache(['--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: stratacache <command>/);
    for (const args of [['bogus'], ['inspect'], ['limits', 'show', 'api'], ['scan', 'x', '--limit', '0'], ['--nope']]) {
      const run = await stratacache(args, env);
      expect(run.code, args.join(' ')).toBe(2);
    }
  });
});
