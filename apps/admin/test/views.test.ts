/**
 * What each view shows and does, against data the real layers wrote: keys
 * paged by SCAN cursor, a decoded Cache entry, TTL edits, prefix deletes
 * after a dry run, tags, sessions, locks, rate limits and write-behind dead letters.
 */
import {
  createHeartbeats,
  createLocks,
  createRateLimiter,
  createRegistry,
  createTaskClaims,
} from '@stratacache/coordination';
import { parseInfo } from '@stratacache/core-client';
import { createInvalidationBus } from '@stratacache/invalidation';
import { createCache, createWriteBehind } from '@stratacache/patterns';
import { createSessionManager } from '@stratacache/sessions';
import { eventually } from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, loggedIn, startConsole, type TestConsole } from './helpers.js';

let c: TestConsole;
let admin: Client;
beforeAll(async () => {
  c = await startConsole();
  admin = await loggedIn(c.server);
});
afterAll(async () => {
  await c?.close();
});

const id = (key: string) => Buffer.from(key).toString('base64url');
const keysCalls = async () =>
  Number(/calls=(\d+)/.exec(parseInfo(await c.redis.client.info('commandstats')).cmdstat_keys ?? '')?.[1] ?? 0);

describe('keys', () => {
  it('pages through a namespace by SCAN cursor, every key once, never with KEYS', async () => {
    const keysBefore = await keysCalls();
    const pipeline = c.redis.client.pipeline();
    for (let i = 0; i < 120; i++) pipeline.set(`${c.prefix}:paged:item:${i}`, String(i), 'PX', 600_000);
    await pipeline.exec();
    const seen = new Set<string>();
    let response = await admin.get('/keys?ns=paged&kind=item');
    expect(response.statusCode).toBe(200);
    for (let page = 0; page < 20; page++) {
      for (const m of response.body.matchAll(/class="key" href="\/keys\/view\?k=([A-Za-z0-9_-]+)"/g))
        seen.add(Buffer.from(m[1] as string, 'base64url').toString());
      const next = /hx-get="(\/keys\?[^"]+cursor=[^"]+)"/.exec(response.body)?.[1];
      if (!next) break;
      response = await admin.get(next.replaceAll('&amp;', '&'), { 'hx-request': 'true' });
      expect(response.body).not.toContain('<html');
    }
    expect(seen.size).toBe(120);
    expect([...seen].every((k) => k.startsWith(`${c.prefix}:paged:item:`))).toBe(true);
    expect(response.body).toContain('End of the keyspace');
    expect(await keysCalls()).toBe(keysBefore);
  });

  it('shows a Cache entry decoded: header, tags, value; attacker text only as text', async () => {
    const cache = createCache({ redis: c.redis, defaults: { ttl: '10m', grace: '1h' } });
    await cache.set(
      '<img src=x onerror=alert(1)>',
      { note: '</script><script>alert(2)</script>' },
      { tags: ['t<b>1</b>'], version: 7 },
    );
    const list = await admin.get('/keys?ns=cache&kind=e');
    expect(list.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(list.body).not.toContain('<img src=x');
    const key = `${c.prefix}:cache:e:<img src=x onerror=alert(1)>`;
    const view = await admin.get(`/keys/view?k=${id(key)}`);
    expect(view.statusCode).toBe(200);
    expect(view.body).toContain('data-testid="entry-header"');
    expect(view.body).toContain('t&lt;b&gt;1&lt;/b&gt;');
    expect(view.body).toMatch(/<th>version<\/th><td>7<\/td>/);
    expect(view.body).toContain('&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(view.body).not.toContain('</script><script>alert(2)');
    expect(view.body).toMatch(/<th>flags<\/th><td>none<\/td>/);
    cache.close();
  });

  it('shows binary key names and values safely', async () => {
    const key = Buffer.concat([Buffer.from(`${c.prefix}:bin:k:`), Buffer.from([0xff, 0x00, 0x1b, 0x3c])]);
    await c.redis.client.set(key, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x3c]));
    const view = await admin.get(`/keys/view?k=${key.toString('base64url')}`);
    expect(view.body).toContain('\\xff\\x00\\x1b&lt;');
    expect(view.body).toContain('de ad be ef 3c');
  });

  it('edits a TTL (htmx answers the new TTL), and deletes by prefix after a dry-run count', async () => {
    const key = `${c.prefix}:app:item:ttl`;
    await c.redis.client.set(key, 'v');
    const response = await admin.post('/keys/ttl', { k: id(key), ttl: '300' }, { 'hx-request': 'true' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/data-testid="ttl">(4m 5\d|5m 0)s?/);
    expect(await c.redis.client.pttl(key)).toBeGreaterThan(290_000);
    const persisted = await admin.post('/keys/ttl', { k: id(key), ttl: '' });
    expect(persisted.statusCode).toBe(303);
    expect(await c.redis.client.pttl(key)).toBe(-1);

    for (const n of [1, 2, 3]) await c.redis.client.set(`${c.prefix}:app:old:${n}`, 'x');
    await c.redis.client.set(`${c.prefix}:app:new:1`, 'x');
    const dry = await admin.get('/keys/invalidate?ns=app&prefix=old:');
    expect(dry.body).toMatch(/data-testid="dry-run">A dry run found <strong>3<\/strong>/);
    expect(await c.redis.client.exists(`${c.prefix}:app:old:1`)).toBe(1);
    expect((await admin.post('/keys/invalidate', { ns: 'app', prefix: 'old:' })).statusCode).toBe(400); // not confirmed
    const done = await admin.post('/keys/invalidate', { ns: 'app', prefix: 'old:', confirm: 'yes', expected: '3' });
    expect(done.body).toContain('Deleted 3 keys');
    expect(await c.redis.client.exists(`${c.prefix}:app:old:1`, `${c.prefix}:app:new:1`)).toBe(1);
  });
});

describe('tags', () => {
  it('lists the tags of a namespace with member counts, and deleting one makes its entries misses', async () => {
    // An application instance with a memory tier, on the bus: the console's invalidation must reach it.
    const bus = createInvalidationBus(c.redis);
    await bus.start();
    const cache = createCache({ redis: c.redis, bus, namespace: 'shop', defaults: { ttl: '10m' } });
    for (const n of [1, 2, 3]) await cache.set(`p${n}`, { n }, { tags: ['category:7'] });
    await cache.set('other', 1, { tags: ['category:8'] });
    const list = await admin.get('/tags?ns=shop');
    expect(list.statusCode).toBe(200);
    const row = /<tr><td><code>category:7<\/code><\/td>\s*<td>(\d+)/.exec(list.body);
    expect(row?.[1]).toBe('3');
    const confirm = await admin.get('/tags/invalidate?ns=shop&tag=category%3A7&mode=delete');
    expect(confirm.body).toMatch(/<strong>3<\/strong> live entries/);
    const done = await admin.post('/tags/invalidate', { ns: 'shop', tag: 'category:7', mode: 'delete' });
    expect(done.body).toContain('3 eager members unlinked');
    await eventually(async () => (await cache.get('p1')) === undefined);
    expect(await cache.get('p2')).toBeUndefined();
    expect(await cache.get('other')).toBe(1);
    const discovered = await admin.get('/tags');
    expect(discovered.body).toContain('href="/tags?ns=shop"');
    cache.close();
    await bus.stop();
  });
});

describe('tags after deletes', () => {
  it('counts the entries a tag set still holds, not its deleted members (tombstoned or unlinked)', async () => {
    const cache = createCache({ redis: c.redis, namespace: 'shelf', memory: false, defaults: { ttl: '10m' } });
    for (const n of [1, 2, 3]) await cache.set(`q${n}`, n, { tags: ['aisle:9'] });
    await cache.delete('q1'); // leaves a tombstone, still a key
    await c.redis.client.unlink(`${c.prefix}:shelf:e:q2`); // gone
    const list = await admin.get('/tags?ns=shelf');
    expect(list.body).toMatch(
      /<code>aisle:9<\/code><\/td>\s*<td>1 <span class="muted">\(the set still lists 2 deleted\)<\/span><\/td>/,
    );
    expect(list.body).toContain('Tags read from the headers of 2 entries.'); // the tombstone is read too: it carries none
    cache.close();
  });
});

describe('sessions', () => {
  it("lists a user's sessions with IP and user agent, revokes one, then all", async () => {
    const sessions = createSessionManager({ redis: c.redis, secret: 'x'.repeat(32), namespace: 'sessions' });
    await sessions.create('ada', { userAgent: 'Firefox <b>' }, { ip: '203.0.113.7' });
    await sessions.create('ada', {}, { ip: '198.51.100.1' });
    await sessions.create('bob', {}, {});
    const list = await admin.get('/sessions?ns=sessions&user=ada');
    expect(list.body).toContain('data-testid="session-count">2 live');
    expect(list.body).toContain('203.0.113.7');
    expect(list.body).toContain('Firefox &lt;b&gt;');
    const ref = /name="ref" value="([A-Za-z0-9_-]{43})"/.exec(list.body)?.[1] as string;
    expect((await admin.post('/sessions/revoke', { ns: 'sessions', user: 'ada', ref })).statusCode).toBe(303);
    expect(await sessions.count('ada')).toBe(1);
    expect((await admin.post('/sessions/revoke-all', { ns: 'sessions', user: 'ada', confirm: 'yes' })).statusCode).toBe(
      303,
    );
    expect(await sessions.count('ada')).toBe(0);
    expect(await sessions.count('bob')).toBe(1);
    const overview = await admin.get('/sessions');
    expect(overview.body).toContain('admin-sessions');
  });
});

describe('coordination', () => {
  it('shows a held lock with its fencing token and releases it by force', async () => {
    const locks = createLocks(c.redis);
    const first = await locks.acquire('report', { ttl: '1m' });
    await first?.release();
    const lock = await locks.acquire('report', { ttl: '1m' });
    expect(lock?.fence).toBe(2);
    await createTaskClaims(c.redis).claimTask('nightly', { ttl: '1m', owner: 'worker-a' });
    await createHeartbeats(c.redis, { group: 'ingest' }).beat('w1');
    await createRegistry(c.redis, { name: 'jobs' }).register(
      'job',
      'extract',
      { url: 'x', password: 'p' },
      { privateFields: ['password'] },
    );
    const page = await admin.get('/coordination');
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/<code>report<\/code><\/td><td><code>[^<]+<\/code><\/td><td>2<\/td>/);
    expect(page.body).toContain('worker-a');
    expect(page.body).toMatch(/<code>w1<\/code>.*alive/s);
    expect(page.body).toContain('(private)');
    expect(page.body).not.toContain('"password":"p"');
    const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1] as string;
    expect((await admin.post('/coordination/locks/release', { name: 'report', token })).statusCode).toBe(303);
    expect(await lock?.extend(60_000)).toBe(false);
    // Released already: a second force release changes nothing.
    expect((await admin.post('/coordination/locks/release', { name: 'report', token })).statusCode).toBe(409);
  });

  it("shows a rate limiter's state for an identity and resets it", async () => {
    const limiter = createRateLimiter(c.redis, { name: 'api', limit: 2, window: '1m' });
    await limiter.limit('ip:1');
    await limiter.limit('ip:1');
    expect((await limiter.limit('ip:1')).allowed).toBe(false);
    const page = await admin.get('/coordination?limiter=api&id=ip%3A1');
    expect(page.body).toContain('data-testid="ratelimit"');
    expect(page.body).toMatch(/<td>hash<\/td>/);
    expect((await admin.post('/coordination/ratelimit/reset', { limiter: 'api', id: 'ip:1' })).statusCode).toBe(303);
    expect((await limiter.limit('ip:1')).allowed).toBe(true);
  });
});

describe('write-behind', () => {
  it('shows depth, consumers and dead letters, and retries or drops a dead letter', async () => {
    const wb = createWriteBehind<{ v: number }>({
      redis: c.redis,
      namespace: 'orders',
      writer: async () => {
        throw new Error('the database said no');
      },
      maxAttempts: 1,
      flushInterval: 20,
      consumer: 'worker-1',
    });
    wb.on('error', () => {});
    await wb.start();
    await wb.write('o1', { v: 1 });
    await wb.write('o2', { v: 2 });
    await eventually(async () => (await wb.deadLetterDepth()) === 2);
    await wb.close().catch(() => {});
    const page = await admin.get('/write-behind?ns=orders');
    expect(page.body).toContain('href="/write-behind?ns=orders"');
    expect(page.body).toContain('data-testid="dead-depth">2');
    expect(page.body).toContain('the database said no');
    // Two forms per dead letter (retry, drop): the ids of the first and of the second letter.
    const ids = [...page.body.matchAll(/name="id" value="(\d+-\d+)"/g)].map((m) => m[1] as string);
    expect((await admin.post('/write-behind/dead/retry', { ns: 'orders', id: ids[0] as string })).statusCode).toBe(303);
    expect((await admin.post('/write-behind/dead/drop', { ns: 'orders', id: ids[2] as string })).statusCode).toBe(303);
    expect(await c.redis.client.xlen(`${c.prefix}:orders:wb:dead`)).toBe(0);
    const journal = await c.redis.client.xrange(`${c.prefix}:orders:wb:journal`, '-', '+');
    expect(journal.map(([, f]) => f[1])).toEqual(['o1']);
    const audit = await c.server.context.audit.recent(2);
    expect(audit.map((e) => e.action)).toEqual(['write-behind.drop', 'write-behind.retry']);
  });
});

describe('the other views', () => {
  it('serves the chart series the overview draws', async () => {
    await eventually(async () => c.server.context.sampler.series().t.length >= 2);
    const response = await admin.get('/api/series');
    const series = response.json() as { t: number[]; opsPerSec: number[]; usedMemory: number[] };
    expect(series.t.length).toBeGreaterThanOrEqual(2);
    expect(series.usedMemory.at(-1)).toBeGreaterThan(0);
    const overview = await admin.get('/');
    expect(overview.body).toContain('data-series="opsPerSec"');
    expect(overview.body).toMatch(/Redis<\/h2><p class="big">up/);
  });
});
