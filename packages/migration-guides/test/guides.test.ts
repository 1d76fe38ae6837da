/**
 * Every migration guide's code, run against a private Redis: the "before" block with the peer
 * library it migrates from (installed here, on Node 20) and the "after" block with stratacache.
 * Each block prints its results as one JSON line; both sides of a pair must print the same, and
 * what the guide's text promises is checked too.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type RedisServerHandle, startRedisServer } from '@stratacache/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineDiff } from '../../../scripts/line-diff.mjs';
import { type GuideBlock, guideBlocks, guideFiles } from '../../../scripts/migration-guides.mjs';
import { runBlock } from './run-block.js';

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
}, 30_000);
afterAll(async () => {
  await redis?.stop();
});

const env = () => ({
  REDIS_URL: redis.url,
  REDIS_NS: `guide-${randomBytes(4).toString('hex')}`,
  SESSION_SECRET: randomBytes(32).toString('hex'),
  COOKIE_SECRET: randomBytes(32).toString('hex'),
});

/** What each pair must print (besides both sides printing the same). */
const EXPECTED: Record<string, unknown> = {
  'bentocache-and-cache-manager/BentoCache': {
    first: { id: 42, name: 'Ada', teamId: 7 },
    again: { id: 42, name: 'Ada', teamId: 7 },
    reloaded: { id: 42, name: 'Ada', teamId: 7 },
    queries: 2,
  },
  'redlock-and-redis-semaphore/redlock': { report: 'built', second: 'busy' },
  'redlock-and-redis-semaphore/redis-semaphore': { total: 42, acquired: [true, true, false] },
  'rate-limiter-flexible-and-express-rate-limit/express-rate-limit and rate-limiter-flexible': {
    statuses: [200, 200, 200, 429],
    retryAfter: true,
    attempts: [true, true, true, true, true, false],
  },
  'connect-redis/connect-redis': { login: 200, me: { userId: 'user-42' }, anonymous: { userId: null } },
  'bentocache-and-cache-manager/cache-manager': {
    first: { id: 42, name: 'Ada', teamId: 7 },
    again: { id: 42, name: 'Ada', teamId: 7 },
    reloaded: { id: 42, name: 'Ada', teamId: 7 },
    queries: 2,
  },
};

/** Pairs each "before" block with the "after" block that follows it. */
function pairs(blocks: GuideBlock[]): [GuideBlock, GuideBlock][] {
  const out: [GuideBlock, GuideBlock][] = [];
  for (let i = 0; i < blocks.length; i++) {
    const before = blocks[i] as GuideBlock;
    const after = blocks[i + 1];
    if (before.side === 'before' && after?.side === 'after') out.push([before, after]);
  }
  return out;
}

for (const file of guideFiles()) {
  const blocks = guideBlocks(file);
  describe(file.split('/').pop() as string, () => {
    it('has before/after pairs', () => {
      expect(pairs(blocks).length).toBeGreaterThan(0);
      expect(blocks.length).toBe(pairs(blocks).length * 2);
    });
    for (const [before, after] of pairs(blocks)) {
      it(`${before.label}: the before and after code print the same`, async () => {
        const [was, now] = await Promise.all([runBlock(before, env()), runBlock(after, env())]);
        expect(was.code, `before (${before.label}) failed:\n${was.stderr}`).toBe(0);
        expect(now.code, `after failed:\n${now.stderr}`).toBe(0);
        expect(now.result).toEqual(was.result);
        const expected = EXPECTED[`${before.guide}/${before.label}`];
        expect(expected, `EXPECTED has no entry for ${before.guide}/${before.label}`).toBeDefined();
        expect(now.result).toEqual(expected);
      }, 120_000);
    }
  });
}

describe('connect-redis guide', () => {
  it('states the store swap as the line diff of its two programs measures it', () => {
    const file = guideFiles().find((f) => f.endsWith('/connect-redis.md')) as string;
    const [before, after] = guideBlocks(file);
    const { added, removed } = lineDiff((before as GuideBlock).code, (after as GuideBlock).code);
    const stated = /\*\*(\d+) lines in, (\d+) out\*\*/.exec(readFileSync(file, 'utf8'));
    expect(stated, 'the guide states "**N lines in, M out**"').not.toBeNull();
    expect([added.length, removed.length]).toEqual([Number(stated?.[1]), Number(stated?.[2])]);
    // Only the store changes: no route line is in the diff.
    expect([...added, ...removed].some((line) => line.includes('app.get') || line.includes('app.post'))).toBe(false);
  });
});
