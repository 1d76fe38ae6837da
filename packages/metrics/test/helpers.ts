/** Clients, servers, registries and real HTTP scrapes for the metrics tests, closed after each file. */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRedis, type RedisClientOptions, type StrataRedis } from '@stratacache/core-client';
import { type RedisServerHandle, startRedisServer, withTestRedis } from '@stratacache/test-utils';
import { Registry } from 'prom-client';
import { afterAll } from 'vitest';
import { type Health, httpListener, type MetricsHandle, type MetricsOptions, registerMetrics } from '../src/index.js';
import { parseExposition, type Scrape } from './exposition.js';

const open: StrataRedis[] = [];
const servers: RedisServerHandle[] = [];
const handles: MetricsHandle[] = [];
const https: Server[] = [];
const cleanups: Array<() => unknown> = [];

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

/** A fresh registry with stratacache metrics on it, unregistered after the file. */
export function metrics(options: Partial<MetricsOptions> = {}): MetricsHandle {
  const handle = registerMetrics({ registry: new Registry(), ...options });
  handles.push(handle);
  return handle;
}

/** Runs `fn` after the file. */
export function later(fn: () => unknown): void {
  cleanups.push(fn);
}

/** A real HTTP server (node:http) serving /metrics, /healthz and /readyz; resolves its base URL. */
export async function serve(options: { registry?: Registry; health?: Health }): Promise<string> {
  const http = createServer(httpListener(options));
  https.push(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

const bases = new WeakMap<Registry, Promise<string>>();

/** Scrapes `handle`'s registry over real HTTP and parses the exposition text. */
export async function scrape(handle: MetricsHandle): Promise<Scrape> {
  let base = bases.get(handle.registry);
  if (!base) {
    base = serve({ registry: handle.registry });
    bases.set(handle.registry, base);
  }
  const response = await fetch(`${await base}/metrics`);
  if (response.status !== 200) throw new Error(`scrape answered ${response.status}: ${await response.text()}`);
  return parseExposition(await response.text());
}

export const unique = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export { eventually } from '@stratacache/test-utils';

afterAll(async () => {
  for (const fn of cleanups.splice(0)) await fn();
  for (const handle of handles.splice(0)) handle.unregister();
  await Promise.all(https.splice(0).map((h) => new Promise((resolve) => h.close(resolve))));
  for (const redis of open) await redis.unlinkMatching(`${redis.options.prefix}:*`).catch(() => 0);
  await Promise.all(open.splice(0).map((r) => r.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
