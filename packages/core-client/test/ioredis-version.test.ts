/**
 * Which ioredis major this run loads: 6 normally, 5 under `IOREDIS=5` (vitest.config.ts aliases
 * it), so a run meant to prove ioredis 5 support cannot silently test 6 instead.
 */
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';

it('loads the ioredis major the run asked for', () => {
  const wanted = process.env.IOREDIS ?? '6';
  const require = createRequire(import.meta.url);
  const { version } = require(wanted === '5' ? 'ioredis5/package.json' : 'ioredis/package.json') as { version: string };
  expect(version.split('.')[0]).toBe(wanted);
  // The class the sources import is that package's class.
  const loaded = require(wanted === '5' ? 'ioredis5' : 'ioredis') as { Redis: unknown };
  expect(Redis).toBe(loaded.Redis);
});
