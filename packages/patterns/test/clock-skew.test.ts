/**
 * Instances whose wall clocks disagree by minutes still agree on freshness:
 * entries are stamped and judged on the Redis server's clock (core-client's
 * `redis.clock`), never on each process's Date.now().
 */
import { fileURLToPath } from 'node:url';
import { eventually, startWorker, testRedisUrl } from '@stratacache/test-utils';
import { describe, expect, it } from 'vitest';
import { cache, client, prefix } from './helpers.js';

const script = fileURLToPath(new URL('./fixtures/skewed-clock.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('./fixtures/tsconfig.json', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));

async function run(mode: string, args: Record<string, unknown>) {
  const events = await startWorker(script, mode, { url: testRedisUrl(), ...args }, { tsconfig, cwd }).done();
  return events.at(-1) ?? {};
}

describe.each([
  ['ten minutes ahead', 600_000],
  ['ten minutes behind', -600_000],
])('an instance whose clock is %s', (_label, skewMs) => {
  it('writes entries that expire for everyone when their TTL ends', async () => {
    const p = prefix();
    const here = cache<string>({ redis: client({ prefix: p }), memory: false });
    await run('write', { prefix: p, skewMs, key: 'a', value: 'v', ttlMs: 1500 });
    expect(await here.get('a')).toBe('v');
    await eventually(async () => (await here.get('a')) === undefined, 8000);
  });

  it('reads entries written here as fresh while their TTL runs', async () => {
    const p = prefix();
    const here = cache<string>({ redis: client({ prefix: p }), memory: false });
    await here.set('b', 'v', { ttl: '1m', jitter: 0 });
    expect(await run('read', { prefix: p, skewMs, key: 'b' })).toEqual({ value: 'v' });
  });
});
