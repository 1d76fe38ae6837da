/** Clients, servers and managers for the sessions tests, closed after each file. */
import { randomBytes } from 'node:crypto';
import { createRedis, type RedisClientOptions, type StrataRedis } from '@stratacache/core-client';
import { type RedisServerHandle, startRedisServer, withTestRedis } from '@stratacache/test-utils';
import { afterAll } from 'vitest';
import { createSessionManager, type SessionManager, type SessionManagerOptions } from '../src/index.js';

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

/** A secret of the right size. */
export const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';

/** A manager on its own prefix with test defaults. */
export function manager<T = unknown>(
  options: Partial<SessionManagerOptions> = {},
): SessionManager<T> & { redis: StrataRedis } {
  const redis = options.redis ?? client();
  const m = createSessionManager<T>({ secret: SECRET, ...options, redis });
  return Object.assign(m, { redis });
}

/** Every key under a client's prefix. */
export async function allKeys(redis: StrataRedis): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of redis.scan(`${redis.options.prefix}:*`)) out.push(...batch);
  return out.sort();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  for (const redis of open) await redis.unlinkMatching(`${redis.options.prefix}:*`).catch(() => 0);
  await Promise.all(open.map((r) => r.close()));
  await Promise.all(servers.map((s) => s.stop()));
});
