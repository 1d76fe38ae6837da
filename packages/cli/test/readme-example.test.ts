/**
 * The README's example, run line by line as written (each `stratacache ...` line spawned as the
 * bin, with the environment the example exports pointed at the test Redis), on data the layers
 * wrote first; and the README documents every command the help lists.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRateLimiter } from '@stratacache/coordination';
import { createRedis } from '@stratacache/core-client';
import { createCache } from '@stratacache/patterns';
import { createSessionManager } from '@stratacache/sessions';
import { testRedisUrl } from '@stratacache/test-utils';
import { expect, it } from 'vitest';
import { USAGE } from '../src/main.js';
import { stratacache } from './cli.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

it('runs every line of the README example against data the layers wrote', async () => {
  const prefix = `t-readme-${randomBytes(4).toString('hex')}`;
  const secret = randomBytes(32).toString('hex');
  const redis = createRedis({ url: testRedisUrl(), env: {}, prefix });
  try {
    const cache = createCache({ redis });
    await cache.namespace('users').set('42', { id: 42 }, { tags: ['team:7'] });
    cache.close();
    await createSessionManager({ redis, secret }).create('user-42', {});
    await createRateLimiter(redis, { name: 'login', limit: 5, window: '15m' }).limit('user:42');

    const block = /## Example\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] as string;
    const lines = block
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter((line) => line.includes('stratacache '));
    expect(lines.length).toBeGreaterThanOrEqual(9);
    const env = { REDIS_URL: testRedisUrl(), REDIS_NS: prefix, SESSION_SECRET: secret };
    for (const line of lines) {
      const args = line
        .replace(/^SESSION_SECRET=\S+ /, '')
        .split(/\s+/)
        .slice(1);
      const run = await stratacache(args, env);
      expect(run.code, `${line}\n${run.stderr}`).toBe(0);
    }
    // The example's invalidate ran for real: the tagged entry is gone (eager tags unlink it).
    expect(await redis.client.exists(redis.keys('cache.users').key('e', '42'))).toBe(0);
  } finally {
    await redis.unlinkMatching(`${prefix}:*`);
    await redis.close();
  }
}, 180_000);

it('documents every command the help lists', () => {
  const commands = [...USAGE.matchAll(/^ {2}([a-z]+(?: [a-z]+)?)/gm)].map((m) => (m[1] as string).split(' ')[0]);
  for (const command of new Set(commands)) expect(readme, command).toContain(`\`${command}`);
});
