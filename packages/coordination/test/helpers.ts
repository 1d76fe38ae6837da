/** Clients and servers for coordination's tests, closed after each file. */
import { randomBytes } from 'node:crypto';
import { createRedis, type RedisClientOptions, type StrataRedis } from '@stratacache/core-client';
import { type RedisServerHandle, startRedisServer, withTestRedis } from '@stratacache/test-utils';
import { afterAll } from 'vitest';

const open: StrataRedis[] = [];
const servers: RedisServerHandle[] = [];

/** A client with its own key prefix, so tests never share keys. */
export function client(options: RedisClientOptions = {}): StrataRedis {
  const redis = createRedis(withTestRedis({ prefix: `t-${randomBytes(5).toString('hex')}`, ...options }));
  open.push(redis);
  return redis;
}

/** A private server for failure tests. */
export async function server(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServerHandle> {
  const s = await startRedisServer(options);
  servers.push(s);
  return s;
}

/** A unique name. */
export const unique = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  for (const redis of open) await redis.unlinkMatching(`${redis.options.prefix}:*`).catch(() => 0);
  await Promise.all(open.map((r) => r.close()));
  await Promise.all(servers.map((s) => s.stop()));
});
