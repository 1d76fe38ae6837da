/**
 * On a three-master Redis Cluster: the login (sessions, limiter, audit) works,
 * the key browser pages through every master by cursor, the overview sums the
 * masters and says so, and tags say they are lazy there.
 */
import { createRedis, type StrataRedis } from '@stratacache/core-client';
import { createCache } from '@stratacache/patterns';
import { type RedisClusterHandle, startRedisCluster } from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, loggedIn, startConsole, type TestConsole } from './helpers.js';

let cluster: RedisClusterHandle;
let redis: StrataRedis;
let c: TestConsole;
let admin: Client;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  redis = createRedis({ clusterNodes: [...cluster.seeds], prefix: 'cl', env: {} });
  await redis.client.ping();
  c = await startConsole({ redis });
  admin = await loggedIn(c.server);
}, 60_000);

afterAll(async () => {
  await c?.server.close();
  await redis?.close();
  await cluster?.stop();
});

describe('on Redis Cluster', () => {
  it('pages through the keys of every master by cursor', async () => {
    for (let i = 0; i < 90; i++) await redis.client.set(`cl:spread:k:${i}`, String(i));
    const seen = new Set<string>();
    let response = await admin.get('/keys?ns=spread&kind=k');
    expect(response.body).toContain('Cluster: scanning 3 masters');
    for (let page = 0; page < 30; page++) {
      for (const m of response.body.matchAll(/class="key" href="\/keys\/view\?k=([A-Za-z0-9_-]+)"/g))
        seen.add(Buffer.from(m[1] as string, 'base64url').toString());
      const next = /hx-get="(\/keys\?[^"]+cursor=[^"]+)"/.exec(response.body)?.[1];
      if (!next) break;
      response = await admin.get(next.replaceAll('&amp;', '&'), { 'hx-request': 'true' });
    }
    expect(seen.size).toBe(90);
  });

  it('sums the masters on the overview and says what it cannot show', async () => {
    const overview = await admin.get('/');
    expect(overview.statusCode).toBe(200);
    expect(overview.body.match(/<td>master<\/td>/g)?.length).toBe(3);
    expect(overview.body).toContain('Cluster: every figure and chart sums the masters');
    const cache = createCache({ redis, defaults: { ttl: '5m' } });
    await cache.set('a', 1, { tags: ['t1'] });
    const tags = await admin.get('/tags?ns=cache');
    expect(tags.body).toContain('Cluster: tags are lazy');
    expect(tags.body).toContain('<code>t1</code>');
    cache.close();
    const view = await admin.get(`/keys/view?k=${Buffer.from('cl:cache:e:a').toString('base64url')}`);
    expect(view.body).toContain('data-testid="entry-header"');
  });
});
