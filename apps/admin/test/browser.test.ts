/**
 * The console in a real Chromium (Debian's, driven by playwright-core; no
 * browser download): log in, browse keys, view a decoded Cache entry, edit a
 * TTL through htmx (its CSRF header included), invalidate a tag, revoke a
 * session, see charts drawn by the vendored uPlot (the overview's, and a
 * window series' redrawn on a live update), watch the live feed; a
 * key named `<img src=x onerror=alert(1)>` and a value holding `</script>`
 * render as text and no dialog ever opens; a cross-site form post is refused.
 * A screenshot of each page goes to `.tmp/admin-screenshots/`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createHeartbeats, createLocks, createTaskClaims } from '@stratacache/coordination';
import { createInvalidationBus, type InvalidationBus } from '@stratacache/invalidation';
import { type Cache, createCache, createWriteBehind } from '@stratacache/patterns';
import { createSessionManager } from '@stratacache/sessions';
import { eventually } from '@stratacache/test-utils';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, aggregateOrders, type OrderWindows, startConsole, type TestConsole } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '..', '..', '..', '.tmp', 'admin-screenshots');
const XSS_KEY = '<img src=x onerror=alert(1)>';

let c: TestConsole;
let base: string;
let browser: Browser;
let page: Page;
let bus: InvalidationBus;
let cache: Cache;
let evil: Server;
let orders: OrderWindows;
const dialogs: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does this)`,
    );
  }
  mkdirSync(SHOTS, { recursive: true });
  c = await startConsole({ sampleInterval: 250 });
  const address = await c.server.app.listen({ host: '127.0.0.1', port: 0 });
  base = address;
  // An application instance: a Cache on the bus, with tagged entries (one with a hostile key and value).
  bus = createInvalidationBus(c.redis);
  await bus.start();
  cache = createCache({ redis: c.redis, bus, defaults: { ttl: '10m', grace: '1h' } });
  await cache.set(XSS_KEY, { html: '</script><script>alert(2)</script>', n: 1 }, { tags: ['team:7'], version: 2 });
  await cache.set('user:42', { name: 'Ada Lovelace', roles: ['admin'] }, { tags: ['team:7', 'users'] });
  await cache.set('user:43', { name: 'Grace Hopper' }, { tags: ['users'] });
  const sessions = createSessionManager({ redis: c.redis, secret: 's'.repeat(32), namespace: 'sessions' });
  await sessions.create('ada', { userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' }, { ip: '203.0.113.7' });
  await sessions.create('ada', { userAgent: 'curl/8.5' }, { ip: '198.51.100.20' });
  // Coordination and write-behind state, for the screenshots.
  await createLocks(c.redis).acquire('nightly-report', { ttl: '10m' });
  await createTaskClaims(c.redis).claimTask('reindex', { ttl: '10m', owner: 'worker-a:4242' });
  await createHeartbeats(c.redis, { group: 'ingest' }).beat('worker-a');
  const journal = createWriteBehind<{ total: number }>({
    redis: c.redis,
    namespace: 'orders',
    writer: async () => {
      throw new Error('connection refused by the orders database');
    },
    maxAttempts: 1,
    flushInterval: 20,
  });
  journal.on('error', () => {});
  await journal.start();
  await journal.write('order:1001', { total: 42 });
  await eventually(async () => (await journal.deadLetterDepth()) === 1);
  await journal.close().catch(() => {});
  // Windowed aggregates from a real streams aggregator, for the windows view.
  orders = await aggregateOrders(c.redis, [{ name: 'orders-1m', size: '1m' }]);
  // A page on another site that posts a form to the console as soon as it loads.
  evil = createServer((_req, res) => {
    const target = `${base}/keys/delete`;
    const k = Buffer.from(`${c.prefix}:cache:e:user%3A43`).toString('base64url');
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      `<form id="f" method="post" action="${target}"><input name="k" value="${k}"></form><script>document.getElementById('f').submit()</script>`,
    );
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15_000);
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await orders?.aggregator.stop();
  await new Promise((resolve) => (evil ? evil.close(resolve) : resolve(undefined)));
  cache?.close();
  await bus?.stop();
  await c?.close();
});

/**
 * The page's `document`, as the predicates below use it (the tests compile without the DOM library).
 * Predicates are functions, never strings: Playwright evaluates a string with `eval` inside the page when
 * it polls, which the console's Content-Security-Policy (no 'unsafe-eval') refuses.
 */
interface PageDocument {
  querySelector(selector: string): { getAttribute(name: string): string | null } | null;
  querySelectorAll(
    selector: string,
  ): ArrayLike<{ dataset: Record<string, string | undefined>; querySelector(selector: string): unknown }>;
}

describe('in Chromium', { timeout: 60_000 }, () => {
  it('logs in and shows the overview with charts drawn', async () => {
    await page.goto(`${base}/`);
    expect(page.url()).toContain('/login');
    await shot('login');
    await page.fill('input[name=password]', ADMIN_PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/`);
    await page.waitForSelector('figure.chart[data-rendered="1"] canvas', { timeout: 20_000 });
    await page.waitForFunction(
      () =>
        Number(
          (globalThis as unknown as { document: PageDocument }).document
            .querySelector('figure.chart')
            ?.getAttribute('data-points'),
        ) >= 2,
      null,
      { timeout: 20_000 },
    );
    expect(await page.locator('figure.chart canvas').count()).toBe(4);
    expect(await page.textContent('main')).toContain('Invalidation bus');
    await shot('overview');
  });

  it('browses keys; the hostile key name is text, not markup', async () => {
    await page.goto(`${base}/keys?ns=cache&kind=e`);
    const link = page.locator('a.key', { hasText: XSS_KEY });
    await expect.poll(() => link.count()).toBe(1);
    expect(await page.locator('main img').count()).toBe(0);
    await shot('keys');
    await link.click();
    await page.waitForSelector('[data-testid=entry-header]');
    expect(await page.textContent('[data-testid=key-name]')).toBe(`${c.prefix}:cache:e:${XSS_KEY}`);
    const decoded = await page.textContent('[data-testid=decoded]');
    expect(decoded).toContain('</script><script>alert(2)</script>');
    expect(await page.textContent('[data-testid=entry-header]')).toContain('team:7');
    expect(await page.locator('main script').count()).toBe(0);
  });

  it('views a decoded Cache entry and edits its TTL through htmx', async () => {
    await page.goto(`${base}/keys?ns=cache&kind=e`);
    await page.locator('a.key', { hasText: 'user%3A42' }).click();
    await page.waitForSelector('[data-testid=entry-header]');
    const header = await page.textContent('[data-testid=entry-header]');
    expect(header).toContain('value');
    expect(header).toContain('users');
    expect(await page.textContent('[data-testid=decoded]')).toContain("name: 'Ada Lovelace'");
    await page.fill('input[name=ttl]', '300');
    await page.click('button:has-text("Set TTL")');
    await expect.poll(() => page.textContent('[data-testid=ttl]')).toMatch(/^(4m 5\ds|5m 0s)$/);
    const pttl = await c.redis.client.pttl(`${c.prefix}:cache:e:user%3A42`);
    expect(pttl).toBeGreaterThan(290_000);
    expect(pttl).toBeLessThanOrEqual(300_000);
    await shot('key-view');
  });

  it('invalidates a tag: its entries become misses on the application instance', async () => {
    expect(await cache.get('user:42')).toMatchObject({ name: 'Ada Lovelace' });
    await page.goto(`${base}/tags?ns=cache`);
    await page.waitForSelector('[data-testid=tags]');
    await shot('tags');
    await page.locator('tr', { hasText: 'team:7' }).locator('a', { hasText: 'delete' }).click();
    await page.waitForSelector('[data-testid=tag-count]');
    await page.click('button:has-text("Delete the tag")');
    await page.waitForSelector('[data-testid=tag-done]');
    await expect.poll(() => cache.get('user:42')).toBeUndefined();
    expect(await cache.get('user:43')).toMatchObject({ name: 'Grace Hopper' });
    await page.goto(`${base}/tags?ns=cache`);
    await page.waitForSelector('[data-testid=tags]');
    await shot('tags-after-delete');
  });

  it('revokes a session', async () => {
    await page.goto(`${base}/sessions?ns=sessions&user=ada`);
    await page.waitForSelector('[data-testid=sessions]');
    expect(await page.textContent('[data-testid=session-count]')).toContain('2 live');
    expect(await page.textContent('[data-testid=sessions]')).toContain('203.0.113.7');
    await shot('sessions');
    await page.locator('[data-testid=sessions] button:has-text("Revoke")').first().click();
    await page.waitForSelector('[data-testid=session-count]');
    expect(await page.textContent('[data-testid=session-count]')).toContain('1 live');
  });

  it('follows the live invalidation feed over SSE', async () => {
    await page.goto(`${base}/feed`);
    await expect.poll(() => page.textContent('[data-testid=feed-status]')).toBe('live');
    await cache.deleteByTag(['users']);
    await expect.poll(() => page.textContent('#feed-rows')).toContain('delete tags');
    await shot('feed');
  });

  it('charts a window series and redraws it when the aggregator publishes an update', async () => {
    await page.goto(`${base}/windows`);
    await page.locator('[data-testid=series] a', { hasText: 'orders-1m' }).click();
    await page.waitForSelector('[data-testid=series-shape]');
    await page.waitForFunction(
      () =>
        Array.from(
          (globalThis as unknown as { document: PageDocument }).document.querySelectorAll(
            '[data-testid=window-charts] figure.chart',
          ),
        ).every((f) => f.dataset.rendered === '1' && f.querySelector('canvas') !== null),
      null,
      { timeout: 20_000 },
    );
    const figures = page.locator('[data-testid=window-charts] figure.chart');
    expect(await figures.count()).toBe(3);
    expect(await figures.first().getAttribute('data-points')).toBe('5');
    expect(await page.textContent('[data-testid=breakdown-country]')).toContain('de');
    await expect.poll(() => page.textContent('[data-testid=window-live]')).toContain('waiting for updates');
    await shot('windows');
    // One more order in the newest window: the page hears the update and redraws from the new data.
    const newest = orders.first + 4 * 60_000;
    const redrawn = page.waitForResponse(
      async (r) =>
        r.url().includes('/api/windows?') &&
        r.status() === 200 &&
        ((await r.json()) as { count: number[] }).count.at(-1) === 26,
    );
    await orders.add(newest + 30_000, 100, 'it');
    await expect.poll(() => page.getAttribute('[data-testid=window-live]', 'data-updates')).toBe('1');
    await redrawn;
    // The tables are read again too: the newest window now counts 26 records.
    await expect.poll(() => page.textContent('[data-testid=windows] tbody tr:first-child td:nth-child(3)')).toBe('26');
    await shot('windows-updated');
  });

  it('refuses a cross-site form post, and nothing is deleted', async () => {
    const key = `${c.prefix}:cache:e:user%3A43`;
    await c.redis.client.set(key, 'still here');
    const evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}/`;
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/keys/delete')),
      page.goto(evilUrl),
    ]);
    expect(response.status()).toBe(403);
    expect(await c.redis.client.get(key)).toBe('still here');
    // The refusal started no session of its own: the user is still logged in.
    await page.goto(`${base}/keys`);
    expect(page.url()).not.toContain('/login');
  });

  it('renders every other page (screenshots), and no dialog ever opened', async () => {
    for (const [path, name] of [
      ['/coordination', 'coordination'],
      ['/write-behind?ns=orders', 'write-behind'],
      ['/windows', 'windows-list'],
      ['/audit', 'audit'],
    ] as const) {
      const response = await page.goto(`${base}${path}`);
      expect(response?.status(), path).toBe(200);
      await shot(name);
    }
    expect(await page.textContent('[data-testid=audit]')).toContain('tag.delete');
    expect(dialogs).toEqual([]);
  });
});
