/**
 * Soak: two instances with memory tiers and the bus, 64 operations in flight
 * over a few hundred keys (getOrSet, get, getMany, set, delete, expire,
 * deleteByTag), tens of thousands of operations. Once quiet, every instance
 * must agree with Redis on every key (no memory tier serving a value Redis no
 * longer has, or missing one it has), and Redis must hold nothing older than
 * the source. Writers change the source and the cache under a per-key lock,
 * as a database row lock would order them; loads take no lock.
 */
import { eventually } from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, prefix } from './helpers.js';
import { pause, type RaceEnv, raceEnv, randomPause, seeded } from './race-harness.js';

const OPS = Number(process.env.SOAK_OPS ?? 20_000);
/** A new schedule every run (replay one with SOAK_SEED). */
const SEED = Number(process.env.SOAK_SEED ?? Math.floor(Math.random() * 1e9));
const KEYS = 300;
const IN_FLIGHT = 64;

let env: RaceEnv;
beforeAll(async () => {
  const p = prefix();
  env = await raceEnv(() => client({ prefix: p }), { defaults: { ttl: '10m', grace: '1m', jitter: 0 } });
});
afterAll(() => env.close());

/** A per-key mutex: the writer's "row lock". */
function locks() {
  const tails = new Map<string, Promise<void>>();
  return async (key: string, fn: () => Promise<void>) => {
    const before = tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    tails.set(key, mine);
    await before;
    try {
      await fn();
    } finally {
      release();
      if (tails.get(key) === mine) tails.delete(key);
    }
  };
}

describe('two instances under mixed load', () => {
  it(`agree with Redis on every key after ${OPS} operations`, async () => {
    const { loader: a, writer: b, reader, source } = env;
    const random = seeded(SEED);
    const withLock = locks();
    const key = (i: number) => `k${i}`;
    const tagOf = (i: number) => `g${i % 17}`;
    let version = 0;
    for (let i = 0; i < KEYS; i++) source.set(key(i), `v${version++}`);
    let done = 0;
    const one = async () => {
      const instance = random() < 0.5 ? a : b;
      const i = Math.floor(random() * KEYS);
      const k = key(i);
      const r = random();
      const stall = randomPause(random);
      if (r < 0.4) {
        await instance.getOrSet(
          k,
          async () => {
            const value = source.get(k) as string;
            await pause(stall);
            return value;
          },
          { tags: [tagOf(i)] },
        );
      } else if (r < 0.5) {
        await instance.get(k);
      } else if (r < 0.6) {
        await instance.getMany([k, key((i + 1) % KEYS), key((i + 7) % KEYS)]);
      } else if (r < 0.75) {
        await withLock(k, async () => {
          const next = `v${version++}`;
          source.set(k, next);
          await pause(stall);
          await instance.set(k, next, { tags: [tagOf(i)] });
        });
      } else if (r < 0.88) {
        await withLock(k, async () => {
          source.set(k, `v${version++}`);
          await pause(stall);
          await instance.delete(k);
        });
      } else if (r < 0.95) {
        await withLock(k, async () => {
          source.set(k, `v${version++}`);
          await instance.expire(k);
        });
      } else {
        await instance.deleteByTag([tagOf(i)]);
      }
    };
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (done < OPS) {
          done++;
          await one();
        }
      }),
    );

    const mismatches = async () => {
      const found: string[] = [];
      for (let i = 0; i < KEYS; i++) {
        const k = key(i);
        const [inRedis, inA, inB] = await Promise.all([reader.get(k), a.get(k), b.get(k)]);
        if (inA !== inRedis || inB !== inRedis) found.push(`${k}: a=${inA} b=${inB} redis=${inRedis}`);
        if (inRedis !== undefined && inRedis !== source.get(k))
          found.push(`${k}: redis=${inRedis} source=${source.get(k)}`);
      }
      return found;
    };
    // Bus messages still in flight are given a moment to land; what stays different is a defect.
    let last: string[] = [];
    await eventually(async () => {
      last = await mismatches();
      return last.length === 0;
    }, 5_000).catch(() => {});
    expect(last, `SOAK_SEED=${SEED}`).toEqual([]);
    // The load did exercise both tiers and the guard.
    const stats = a.stats();
    expect(stats.memoryHits).toBeGreaterThan(0);
    expect(stats.redisHits).toBeGreaterThan(0);
  }, 180_000);
});
