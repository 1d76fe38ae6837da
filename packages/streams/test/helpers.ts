/**
 * Clients, servers, producers and an independent offline recomputation for
 * the streams tests; everything opened here is closed after each file.
 */
import { randomBytes } from 'node:crypto';
import { createRedis, type RedisClientOptions, type StrataRedis } from '@stratacache/core-client';
import { type RedisServerHandle, startRedisServer, withTestRedis } from '@stratacache/test-utils';
import { afterAll } from 'vitest';
import type { WindowAggregator, WindowResult } from '../src/index.js';

const open: StrataRedis[] = [];
const servers: RedisServerHandle[] = [];
const aggregators: WindowAggregator[] = [];

/** A client with its own key prefix, so tests never share keys. */
export function client(options: RedisClientOptions = {}): StrataRedis {
  const redis = createRedis(withTestRedis({ prefix: `t-${randomBytes(5).toString('hex')}`, ...options }));
  open.push(redis);
  return redis;
}

/** A private server for failure tests, stopped after the file. */
export async function server(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServerHandle> {
  const s = await startRedisServer(options);
  servers.push(s);
  return s;
}

/** Stops `aggregator` after the file (unless the test already did). */
export function track<T extends WindowAggregator>(aggregator: T): T {
  aggregators.push(aggregator);
  return aggregator;
}

/** A stream key under the client's prefix (cleaned with it). */
export function streamKey(redis: StrataRedis, name = 'events'): string {
  return `${redis.options.prefix}:stream:${name}`;
}

/** One test event. */
export interface TestEvent {
  time: number;
  amount?: number;
  country?: string;
  user?: string;
}

/** Writes `events` to `stream` (pipelined XADDs), in order. */
export async function produce(redis: StrataRedis, stream: string, events: readonly TestEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const pipeline = redis.client.pipeline();
    for (const event of events.slice(i, i + 1000)) {
      const fields: string[] = ['time', String(event.time)];
      if (event.amount !== undefined) fields.push('amount', String(event.amount));
      if (event.country !== undefined) fields.push('country', event.country);
      if (event.user !== undefined) fields.push('user', event.user);
      pipeline.xadd(stream, '*', ...fields);
    }
    await pipeline.exec();
  }
}

/** What the offline recomputation expects of one window. */
export interface ExpectedWindow {
  count: number;
  sum: number;
  min: number;
  max: number;
  byCountry: Record<string, number>;
  users: number;
}

/**
 * Recomputes windows from events as the rules say, written independently of
 * the package: per partition, an event goes to every window containing its
 * time whose end + grace is above the partition's watermark (the highest
 * time seen before it); the others drop it.
 */
export function offline(
  partitions: readonly (readonly TestEvent[])[],
  spec: { sizeMs: number; hopMs?: number; graceMs: number },
): { windows: Map<number, ExpectedWindow>; dropped: number } {
  const hop = spec.hopMs ?? spec.sizeMs;
  const windows = new Map<number, ExpectedWindow & { userSet: Set<string> }>();
  let dropped = 0;
  for (const events of partitions) {
    let watermark = Number.NEGATIVE_INFINITY;
    for (const event of events) {
      let used = false;
      for (let start = Math.floor(event.time / hop) * hop; start > event.time - spec.sizeMs; start -= hop) {
        if (start + spec.sizeMs + spec.graceMs <= watermark) continue;
        used = true;
        let w = windows.get(start);
        if (!w) {
          w = {
            count: 0,
            sum: 0,
            min: Number.POSITIVE_INFINITY,
            max: Number.NEGATIVE_INFINITY,
            byCountry: {},
            users: 0,
            userSet: new Set(),
          };
          windows.set(start, w);
        }
        w.count++;
        if (event.amount !== undefined) {
          w.sum += event.amount;
          w.min = Math.min(w.min, event.amount);
          w.max = Math.max(w.max, event.amount);
        }
        if (event.country !== undefined) w.byCountry[event.country] = (w.byCountry[event.country] ?? 0) + 1;
        if (event.user !== undefined) w.userSet.add(event.user);
      }
      if (!used) dropped++;
      watermark = Math.max(watermark, event.time);
    }
  }
  const out = new Map<number, ExpectedWindow>();
  for (const [start, { userSet, ...w }] of windows) out.set(start, { ...w, users: userSet.size });
  return { windows: out, dropped };
}

/** The stored windows in the comparable shape of {@link offline}. */
export function comparable(stored: readonly WindowResult[]): Map<number, ExpectedWindow> {
  const out = new Map<number, ExpectedWindow>();
  for (const w of stored) {
    const byCountry: Record<string, number> = {};
    for (const [country, cell] of Object.entries(w.dimensions.country ?? {})) byCountry[country] = cell.count;
    out.set(w.start, {
      count: w.count,
      sum: w.fields.amount?.sum ?? 0,
      min: w.fields.amount?.min ?? Number.POSITIVE_INFINITY,
      max: w.fields.amount?.max ?? Number.NEGATIVE_INFINITY,
      byCountry,
      users: w.distinct.user ?? 0,
    });
  }
  return out;
}

/** Sorted entries, for `toEqual` with a readable diff. */
export function sorted<T>(map: Map<number, T>): [number, T][] {
  return [...map.entries()].sort((a, b) => a[0] - b[0]);
}

/** A deterministic pseudo-random generator (mulberry32), so a failing seed can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every key under a client's prefix. */
export async function allKeys(redis: StrataRedis): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of redis.scan(`${redis.options.prefix}:*`)) out.push(...batch);
  return out.sort();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  await Promise.all(aggregators.map((a) => a.stop().catch(() => {})));
  for (const redis of open) await redis.unlinkMatching(`${redis.options.prefix}:*`).catch(() => 0);
  await Promise.all(open.map((r) => r.close()));
  await Promise.all(servers.map((s) => s.stop()));
});
