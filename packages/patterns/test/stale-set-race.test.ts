/**
 * The stale-set race, verb by verb: a load reads the source, the writer
 * changes it and runs a verb, the load writes back. Forced interleavings
 * first (the loader stalls until the writer is done), then the randomized
 * rounds, on standalone Redis; `stale-set-race-cluster.test.ts` runs the
 * same on a three-master Cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, deferred, prefix } from './helpers.js';
import { type RaceEnv, raceEnv, raceRound, randomizedRounds, VERBS } from './race-harness.js';

const ROUNDS = Number(process.env.RACE_ROUNDS ?? 1000);
/** New interleavings every run (replay one with RACE_SEED). */
const SEED = Number(process.env.RACE_SEED ?? Math.floor(Math.random() * 1e9));

describe.each([
  ['eager tags', 'eager' as const],
  ['lazy tags', 'lazy' as const],
])('standalone, %s', (_label, tags) => {
  let env: RaceEnv;
  beforeAll(async () => {
    const p = prefix();
    env = await raceEnv(() => client({ prefix: p }), { tags });
  });
  afterAll(() => env.close());

  // The loader stalls until the writer has finished its verb: the write-back comes last.
  it.each(VERBS)('%s after the load read the source: no stale value (forced)', async (verb) => {
    const result = await raceRound(env, verb, `forced-${verb}`, { kind: 'timer', ms: 60 }, { kind: 'sync' });
    expect(result).toMatchObject({ stale: false });
    if (verb === 'set' || verb === 'write' || verb === 'second-loader') expect(result.seen).toBe('new');
  });

  const verbs = tags === 'eager' ? VERBS : (['deleteByTag', 'expireByTag'] as const);
  it.each(verbs)(
    `%s: ${ROUNDS} randomized interleavings leave no stale value`,
    async (verb) => {
      const stale = await randomizedRounds(env, verb, ROUNDS, SEED);
      expect(stale, `RACE_SEED=${SEED}`).toEqual([]);
    },
    120_000,
  );
});

describe('guards that no clock doubt or timing weakens', () => {
  it('a factory slower than the tombstone lifetime cannot write onto the emptied key', async () => {
    const p = prefix();
    const env = await raceEnv(() => client({ prefix: p }), { tombstoneTtl: '1s', memory: false });
    try {
      const { loader, writer, reader, source } = env;
      source.set('k', 'old');
      const read = deferred();
      const resume = deferred();
      const loading = loader.getOrSet('k', async () => {
        const v = source.get('k') as string;
        read.resolve();
        await resume.promise;
        return v;
      });
      await read.promise;
      source.set('k', 'new');
      await writer.delete('k');
      await new Promise((r) => setTimeout(r, 1300)); // the tombstone is gone
      resume.resolve();
      expect(await loading).toBe('old'); // its caller still gets what it loaded
      expect(await reader.get('k')).toBeUndefined();
      expect(loader.stats().refused).toBe(1);
    } finally {
      await env.close();
    }
  });

  it('a load right after a delete writes back (the tombstone it saw is no obstacle)', async () => {
    const p = prefix();
    const env = await raceEnv(() => client({ prefix: p }), { memory: false });
    try {
      await env.writer.set('k', 'v1');
      await env.writer.delete('k');
      expect(await env.loader.getOrSet('k', () => 'v2')).toBe('v2');
      expect(await env.reader.get('k')).toBe('v2');
      expect(env.loader.stats().refused).toBe(0);
    } finally {
      await env.close();
    }
  });

  it('a refresh that began before a set does not overwrite it', async () => {
    const p = prefix();
    const env = await raceEnv(() => client({ prefix: p }), {
      memory: false,
      defaults: { ttl: '1s', refreshAhead: 0.99 },
    });
    try {
      await env.loader.set('k', 'v1');
      await new Promise((r) => setTimeout(r, 50)); // less than 99% of the TTL is left now
      const resume = deferred();
      const started = deferred();
      // A hit below the refresh-ahead threshold: one background refresh starts.
      expect(
        await env.loader.getOrSet('k', async () => {
          started.resolve();
          await resume.promise;
          return 'refreshed-from-old-source';
        }),
      ).toBe('v1');
      await started.promise;
      await env.writer.set('k', 'v2');
      resume.resolve();
      await new Promise((r) => setTimeout(r, 50));
      expect(await env.reader.get('k')).toBe('v2');
    } finally {
      await env.close();
    }
  });
});

describe('single-flight never hands out a value older than an invalidation', () => {
  it.each([
    ['without a bus', false],
    ['with a bus', true],
  ])('a getOrSet after a delete does not join the load that began before it (%s)', async (_label, withBus) => {
    const p = prefix();
    const env = await raceEnv(() => client({ prefix: p }), { memory: false });
    const redis = client({ prefix: p });
    const { createCache } = await import('../src/index.js');
    const c = withBus ? env.loader : createCache<string>({ redis, memory: false });
    try {
      let source = 'old';
      const read = deferred();
      const resume = deferred();
      const first = c.getOrSet('k', async () => {
        const v = source;
        read.resolve();
        await resume.promise;
        return v;
      });
      await read.promise;
      source = 'new';
      await c.delete('k');
      const second = c.getOrSet('k', async () => source);
      expect(await second).toBe('new');
      resume.resolve();
      expect(await first).toBe('old'); // its own caller began before the delete
    } finally {
      await env.close();
    }
  });
});
