/**
 * `stratacache limits show|reset <limiter> <id>`: the state a rate limiter
 * keeps for one identity (`ip:203.0.113.7`, `user:42`), and forgetting it.
 * The state is one key per identity whose shape depends on the algorithm
 * (a counter, a hash, or a sorted set of request times), plus a penalty key.
 */
import type { StrataRedis } from '@stratacache/core-client';

/** The keys of `limiter`'s state for `id` in `namespace` (coordination's default is `ratelimit`). */
export function limitKeys(redis: StrataRedis, namespace: string, limiter: string, id: string): [string, string] {
  const keys = redis.keys(namespace);
  const tag = keys.tag(`${limiter}:${id}`);
  return [keys.key('rl', tag, 'state'), keys.key('rl', tag, 'block')];
}

/** What the limiter keeps for `id`. */
export async function showLimit(redis: StrataRedis, namespace: string, limiter: string, id: string) {
  const [stateKey, blockKey] = limitKeys(redis, namespace, limiter, id);
  return redis.run('limits', async (c) => {
    const [type, ttlMs, blockTtlMs] = await Promise.all([c.type(stateKey), c.pttl(stateKey), c.pttl(blockKey)]);
    let state: unknown = null;
    if (type === 'string') state = await c.get(stateKey);
    else if (type === 'hash') state = await c.hgetall(stateKey);
    else if (type === 'zset') state = { entries: await c.zcard(stateKey) };
    return {
      limiter,
      id,
      key: stateKey,
      type,
      state,
      ttlMs,
      blocked: blockTtlMs > 0,
      blockTtlMs: Math.max(blockTtlMs, 0),
    };
  });
}

/** Forgets `id`'s state and penalty; resolves how many keys were removed. */
export async function resetLimit(redis: StrataRedis, namespace: string, limiter: string, id: string): Promise<number> {
  const keys = limitKeys(redis, namespace, limiter, id);
  return Number(await redis.run('limits', (c) => c.del(...keys)));
}
