/**
 * With its Redis frozen (SIGSTOP) or killed, every page of the console
 * answers within a few seconds with an error state, never hangs; a write is
 * refused (and not half done: the audit record comes first).
 */
import { createRedis } from '@stratacache/core-client';
import { eventually, type RedisServerHandle, startRedisServer } from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, loggedIn, startConsole, type TestConsole } from './helpers.js';

let server: RedisServerHandle;
let c: TestConsole;
let admin: Client;

beforeAll(async () => {
  server = await startRedisServer();
  const redis = createRedis({ url: server.url, prefix: 'down', env: {}, commandTimeout: '1s', connectTimeout: '1s' });
  c = await startConsole({ redis });
  admin = await loggedIn(c.server);
  await redis.client.set('down:cache:e:one', 'v');
});

afterAll(async () => {
  server?.resume();
  await c?.server.close();
  await c?.redis.close();
  await server?.stop();
});

const PAGES = [
  '/',
  '/keys',
  '/keys?ns=cache&kind=e',
  `/keys/view?k=${Buffer.from('down:cache:e:one').toString('base64url')}`,
  '/tags?ns=cache',
  '/tags',
  '/sessions?ns=sessions&user=ada',
  '/coordination',
  '/write-behind?ns=orders',
  '/windows',
  '/windows?ns=streams&name=orders-1m',
  '/audit',
];

async function timed(client: Client, url: string): Promise<{ status: number; ms: number; body: string }> {
  const started = performance.now();
  const response = await client.get(url);
  return { status: response.statusCode, ms: performance.now() - started, body: response.body };
}

describe('Redis down', () => {
  it('renders every page with an error state while Redis is frozen, and the same pages work again after', {
    timeout: 60_000,
  }, async () => {
    for (const url of PAGES) expect((await timed(admin, url)).status, url).toBe(200);
    server.pause();
    try {
      for (const url of PAGES) {
        const { status, ms, body } = await timed(admin, url);
        expect([200, 503], url).toContain(status);
        expect(body, url).toMatch(/role="alert"|Redis is unavailable|>down</);
        // The page budget is 4 s per read; nothing may wait for a frozen server forever.
        expect(ms, url).toBeLessThan(15_000);
      }
      // The login session itself lives in Redis: with Redis gone the console fails closed, with a page that says why.
      const overview = await admin.get('/');
      expect(overview.statusCode).toBe(503);
      expect(overview.body).toContain('Redis is unavailable');
    } finally {
      server.resume();
    }
    // Back: the breaker lets a probe through after its open period, and the pages work again.
    await eventually(async () => (await admin.get('/keys')).statusCode === 200, 20_000);
    expect((await admin.get('/')).body).toMatch(/Redis<\/h2><p class="big">up/);
  });

  it('refuses a write while Redis is down, and does not perform it', async () => {
    await server.kill();
    const response = await admin.post('/keys/ttl', {
      k: Buffer.from('down:cache:e:one').toString('base64url'),
      ttl: '5',
    });
    expect([401, 403, 503]).toContain(response.statusCode);
    expect(response.body).not.toContain('Set TTL');
  });
});
