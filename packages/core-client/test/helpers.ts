/** Shared helpers of core-client's tests. */
import { type RedisServerHandle, startRedisServer, withTestRedis } from '@stratacache/test-utils';
import { afterAll } from 'vitest';
import { createRedis, type RedisClientOptions, type StrataRedis } from '../src/index.js';

const open: StrataRedis[] = [];
const servers: RedisServerHandle[] = [];

/** A client to the run's Redis (or `options.url`), closed after the file. No environment is read. */
export function client(options: RedisClientOptions = {}): StrataRedis {
  const redis = createRedis(withTestRedis(options));
  open.push(redis);
  return redis;
}

/** A private server for failure tests, stopped after the file. */
export async function server(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServerHandle> {
  const s = await startRedisServer(options);
  servers.push(s);
  return s;
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export { eventually } from '@stratacache/test-utils';

afterAll(async () => {
  await Promise.all(open.map((r) => r.close()));
  await Promise.all(servers.map((s) => s.stop()));
});
