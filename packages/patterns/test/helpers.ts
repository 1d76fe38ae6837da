/** Clients, caches and servers for patterns' tests, closed after each file. */
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createRedis, type RedisClientOptions, type StrataRedis } from '@stratacache/core-client';
import { createInvalidationBus, type InvalidationBus } from '@stratacache/invalidation';
import { type RedisServerHandle, startRedisServer, withTestRedis } from '@stratacache/test-utils';
import { afterAll } from 'vitest';
import { type Cache, type CacheOptions, createCache } from '../src/index.js';

const open: StrataRedis[] = [];
const buses: InvalidationBus[] = [];
const caches: Cache<unknown>[] = [];
const servers: RedisServerHandle[] = [];

/** A random key prefix: tests never share keys. */
export const prefix = () => `t-${randomBytes(5).toString('hex')}`;

/** A client; pass the same `prefix` to clients meant to share keys (two "instances"). */
export function client(options: RedisClientOptions = {}): StrataRedis {
  const redis = createRedis(withTestRedis({ prefix: prefix(), ...options }));
  open.push(redis);
  return redis;
}

/** A started bus on `redis`. */
export async function bus(redis: StrataRedis): Promise<InvalidationBus> {
  const b = createInvalidationBus(redis);
  await b.start();
  buses.push(b);
  return b;
}

/** A cache closed after the file. */
export function cache<T = unknown>(options: CacheOptions<T>): Cache<T> {
  const c = createCache<T>(options);
  caches.push(c as Cache<unknown>);
  return c;
}

/**
 * Two instances of one cache: separate connections (same prefix), separate
 * buses and memory tiers, as two processes of a service would have.
 */
export async function twoInstances<T = unknown>(options: Omit<CacheOptions<T>, 'redis' | 'bus'> = {}) {
  const p = prefix();
  const r1 = client({ prefix: p });
  const r2 = client({ prefix: p });
  const a = cache<T>({ ...options, redis: r1, bus: await bus(r1) });
  const b = cache<T>({ ...options, redis: r2, bus: await bus(r2) });
  return { a, b, r1, r2 };
}

/** A private server for failure tests. */
export async function server(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServerHandle> {
  const s = await startRedisServer(options);
  servers.push(s);
  return s;
}

/** Collects messages of a diagnostics channel until the returned stop is called. */
export function listen(name: string): { messages: Record<string, unknown>[]; stop: () => void } {
  const messages: Record<string, unknown>[] = [];
  const handler = (m: unknown) => messages.push(m as Record<string, unknown>);
  subscribe(name, handler);
  return { messages, stop: () => unsubscribe(name, handler) };
}

/** A unique name. */
export const unique = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `check` holds, polling; throws after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** A promise with its resolve exposed. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

afterAll(async () => {
  for (const c of caches) c.close();
  await Promise.all(buses.map((b) => b.stop().catch(() => {})));
  for (const redis of open) await redis.unlinkMatching(`${redis.options.prefix}:*`).catch(() => 0);
  await Promise.all(open.map((r) => r.close()));
  await Promise.all(servers.map((s) => s.stop()));
});
