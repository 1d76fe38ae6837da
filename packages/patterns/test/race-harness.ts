/**
 * The stale-set race, as a user meets it: a loader reads the source, stalls,
 * and writes back; meanwhile a writer on another instance changes the source
 * and runs one write or invalidation verb. Afterwards a memory-less reader
 * must see either nothing or the source's current value, never the old one.
 *
 * `raceRound` runs one interleaving (delays chosen by the caller), so the
 * same code serves the deterministic tests and the randomized ones.
 */
import type { StrataRedis } from '@stratacache/core-client';
import { createInvalidationBus, type InvalidationBus } from '@stratacache/invalidation';
import { type Cache, type CacheOptions, createCache } from '../src/index.js';

/** The write and invalidation verbs a writer can race a load with. */
export const VERBS = [
  'set',
  'write',
  'delete',
  'deleteMany',
  'deleteByTag',
  'expireByTag',
  'deleteByPrefix',
  'clear',
  'expire',
  'second-loader',
] as const;
export type Verb = (typeof VERBS)[number];

/** Instances of one cache sharing a Redis (separate connections, buses and memory tiers) and one source. */
export interface RaceEnv {
  loader: Cache<string>;
  writer: Cache<string>;
  other: Cache<string>;
  reader: Cache<string>;
  source: Map<string, string>;
  close(): Promise<void>;
}

/** A pause: the event loop or the clock decides when the other side runs. */
export type Pause = { kind: 'sync' } | { kind: 'microtask' } | { kind: 'immediate' } | { kind: 'timer'; ms: number };

export async function pause(p: Pause): Promise<void> {
  if (p.kind === 'sync') return;
  if (p.kind === 'microtask') return Promise.resolve();
  if (p.kind === 'immediate') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, p.ms));
}

/** A random pause, weighted towards the short ones where interleavings are densest. */
export function randomPause(random: () => number): Pause {
  const r = random();
  if (r < 0.15) return { kind: 'sync' };
  if (r < 0.3) return { kind: 'microtask' };
  if (r < 0.55) return { kind: 'immediate' };
  return { kind: 'timer', ms: Math.floor(random() * 4) };
}

/** A small seeded PRNG (mulberry32), so a failing schedule can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Four instances over `clients()` (each call a new connection with the same
 * prefix). The writer and loader have memory tiers and buses; the reader has
 * neither, so it shows exactly what Redis holds.
 */
export async function raceEnv(
  clients: () => StrataRedis,
  options: Omit<CacheOptions<string>, 'redis' | 'bus'> = {},
): Promise<RaceEnv> {
  const buses: InvalidationBus[] = [];
  const redises: StrataRedis[] = [];
  const make = async (withMemory: boolean) => {
    const redis = clients();
    redises.push(redis);
    const bus = createInvalidationBus(redis);
    await bus.start();
    buses.push(bus);
    return createCache<string>({
      memory: withMemory ? {} : false,
      ...options,
      redis,
      bus,
      defaults: { grace: '1m', jitter: 0, ...options.defaults },
    });
  };
  const env = {
    loader: await make(options.memory !== false),
    writer: await make(options.memory !== false),
    other: await make(options.memory !== false),
    reader: await make(false),
    source: new Map<string, string>(),
    async close() {
      for (const c of [env.loader, env.writer, env.other, env.reader]) c.close();
      await Promise.all(buses.map((b) => b.stop()));
      await Promise.all(redises.map((r) => r.close()));
    },
  };
  return env;
}

/** The outcome of one round: what the reader saw against the source. */
export interface RoundResult {
  key: string;
  verb: Verb;
  seen: string | undefined;
  current: string | undefined;
  stale: boolean;
}

/**
 * One round on `key` (of the form `<round>:item`, so `<round>:` is its
 * prefix and `tag-<round>` its tag): the loader reads the source, waits
 * `loaderStall`, returns; the writer waits `writerStart`, changes the source
 * and runs `verb`.
 */
export async function raceRound(
  env: RaceEnv,
  verb: Verb,
  round: string,
  loaderStall: Pause,
  writerStart: Pause,
  writerAfterRead = true,
): Promise<RoundResult> {
  const key = `${round}:item`;
  // Only the tag verbs tag their entries: a tagged entry is also judged by its tags' times when read,
  // which would hide a write-back guard that failed for the other verbs.
  const tags = verb === 'deleteByTag' || verb === 'expireByTag' ? [`tag-${round}`] : [];
  const { loader, writer, other, reader, source } = env;
  source.set(key, 'old');
  let read!: () => void;
  const hasRead = new Promise<void>((resolve) => {
    read = resolve;
  });
  const loading = loader.getOrSet(
    key,
    async () => {
      const value = source.get(key);
      read();
      await pause(loaderStall);
      return value as string;
    },
    { tags },
  );
  // Most rounds change the source after the loader read it (the harmful order); the others race freely.
  const writing = (async () => {
    if (writerAfterRead) await hasRead;
    await pause(writerStart);
    const next = 'new';
    if (verb !== 'write') source.set(key, next);
    switch (verb) {
      case 'set':
        await writer.set(key, next, { tags });
        break;
      case 'write':
        await writer.write(key, next, (v) => source.set(key, v), { tags });
        break;
      case 'delete':
        await writer.delete(key);
        break;
      case 'deleteMany':
        await writer.deleteMany([key, `${round}:other`]);
        break;
      case 'deleteByTag':
        await writer.deleteByTag(tags);
        break;
      case 'expireByTag':
        await writer.expireByTag(tags);
        break;
      case 'deleteByPrefix':
        await writer.deleteByPrefix(`${round}:`);
        break;
      case 'clear':
        await writer.clear();
        break;
      case 'expire':
        await writer.expire(key);
        break;
      case 'second-loader':
        await writer.delete(key);
        await other.getOrSet(key, async () => source.get(key) as string, { tags });
        break;
    }
  })();
  await Promise.all([loading, writing]);
  const seen = await reader.get(key);
  const current = source.get(key);
  return { key, verb, seen, current, stale: seen !== undefined && seen !== current };
}

/** Runs `rounds` randomized rounds of `verb`, `parallel` at a time, on distinct keys; returns the stale ones. */
export async function randomizedRounds(
  env: RaceEnv,
  verb: Verb,
  rounds: number,
  seed: number,
  parallel = 20,
): Promise<RoundResult[]> {
  const random = seeded(seed);
  const stale: RoundResult[] = [];
  let next = 0;
  const lane = async () => {
    while (next < rounds) {
      const i = next++;
      const result = await raceRound(
        env,
        verb,
        `${verb}-${seed}-${i}`,
        randomPause(random),
        randomPause(random),
        random() < 0.8,
      );
      if (result.stale) stale.push(result);
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return stale;
}
