/**
 * Get and set many keys through pipelines, in chunks, and on Cluster grouped
 * by slot so no command or pipeline spans slots (no CROSSSLOT).
 */
import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import { type Duration, toMs } from './duration.js';
import { ConfigError } from './errors.js';

/** One entry of {@link setMany}. */
export interface SetManyEntry {
  key: string;
  value: string | Buffer;
  /** Time to live (ms or `'30s'`); none means no expiry. */
  ttl?: Duration;
}

/** Options of the batch helpers. */
export interface BatchOptions {
  /** Keys per MGET or per pipeline. @default 500 */
  chunkSize?: number;
}

function groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string, cluster: boolean): T[][] {
  if (!cluster) return [items as T[]];
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const slot = calculateSlot(keyOf(item));
    const group = groups.get(slot);
    if (group) group.push(item);
    else groups.set(slot, [item]);
  }
  return [...groups.values()];
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Values of `keys` as Buffers (null for a miss), in the order of `keys`. */
export async function getMany(
  client: Redis | Cluster,
  keys: readonly string[],
  options: BatchOptions = {},
): Promise<(Buffer | null)[]> {
  const size = options.chunkSize ?? 500;
  const cluster = Boolean((client as Cluster).isCluster);
  // One MGET answers in the order asked, repeated keys included: nothing to group or map back.
  if (!cluster && keys.length <= size) return keys.length === 0 ? [] : client.mgetBuffer(keys as string[]);
  const index = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const at = index.get(key);
    if (at) at.push(i);
    else index.set(key, [i]);
  });
  const out: (Buffer | null)[] = new Array(keys.length).fill(null);
  const unique = [...index.keys()];
  const work = groupBySlot(unique, (k) => k, cluster).flatMap((group) => chunk(group, size));
  await Promise.all(
    work.map(async (group) => {
      const values = await client.mgetBuffer(...group);
      group.forEach((key, i) => {
        for (const position of index.get(key) ?? []) out[position] = values[i] ?? null;
      });
    }),
  );
  return out;
}

/** Sets every entry, each with its own TTL (SET ... PX), through chunked pipelines. */
export async function setMany(
  client: Redis | Cluster,
  entries: readonly SetManyEntry[],
  options: BatchOptions = {},
): Promise<void> {
  const size = options.chunkSize ?? 500;
  const cluster = Boolean((client as Cluster).isCluster);
  const prepared = entries.map((e, i) => {
    const ttlMs = e.ttl === undefined ? undefined : toMs(e.ttl, `entries[${i}].ttl`);
    if (ttlMs === 0) throw new ConfigError(`entries[${i}].ttl must be more than 0 ms, or omitted for no expiry`);
    return { ...e, ttlMs };
  });
  const work = groupBySlot(prepared, (e) => e.key, cluster).flatMap((group) => chunk(group, size));
  await Promise.all(
    work.map(async (group) => {
      const pipeline = client.pipeline();
      for (const entry of group) {
        if (entry.ttlMs !== undefined) pipeline.set(entry.key, entry.value, 'PX', entry.ttlMs);
        else pipeline.set(entry.key, entry.value);
      }
      const results = (await pipeline.exec()) ?? [];
      for (const [error] of results) if (error) throw error;
    }),
  );
}
