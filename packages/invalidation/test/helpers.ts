/** Clients and servers for invalidation's tests, closed after each file. */
import { randomBytes } from 'node:crypto';
import { createRedis, type RedisClientOptions, type StrataRedis } from '@stratacache/core-client';
import { type RedisServerHandle, startRedisServer, withTestRedis } from '@stratacache/test-utils';
import { afterAll } from 'vitest';

const open: StrataRedis[] = [];
const servers: RedisServerHandle[] = [];

/** A client; pass the same `prefix` to share keys between "instances". */
export function client(options: RedisClientOptions = {}): StrataRedis {
  const redis = createRedis(withTestRedis({ prefix: `t-${randomBytes(5).toString('hex')}`, ...options }));
  open.push(redis);
  return redis;
}

export async function server(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServerHandle> {
  const s = await startRedisServer(options);
  servers.push(s);
  return s;
}

export const unique = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

afterAll(async () => {
  for (const redis of open) await redis.unlinkMatching(`${redis.options.prefix}:*`).catch(() => 0);
  await Promise.all(open.map((r) => r.close()));
  await Promise.all(servers.map((s) => s.stop()));
});
