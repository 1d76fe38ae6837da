/** Runs the README's example block as written, with the database stubbed. */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLocks } from '@stratacache/coordination';
import * as core from '@stratacache/core-client';
import { createInvalidationBus } from '@stratacache/invalidation';
import { testRedisUrl } from '@stratacache/test-utils';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { checkMarkdown, formatProblems } from '../../../scripts/check-readme-snippets.mjs';
import * as patterns from '../src/index.js';

describe('README example', () => {
  it('runs as written', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Example\n\n(?:<!--[\s\S]*?-->\n)?```ts\n([\s\S]*?)```/.exec(readme)?.[1] as string;
    const js = transformSync(code.replace(/^import .*$/gm, ''), { loader: 'ts' }).code;
    const queries: string[] = [];
    const db = {
      findUser: async (id: number) => {
        queries.push(`user ${id}`);
        return { id, teamId: 7 };
      },
      findUsers: async (ids: string[]) => {
        queries.push(`users ${ids.join(',')}`);
        return ids.map((id) => ({ id: Number(id), teamId: 7 }));
      },
    };
    const scope: Record<string, unknown> = {
      ...patterns,
      createInvalidationBus,
      createLocks,
      createRedis: () => core.createRedis({ url: testRedisUrl(), env: {}, prefix: `readme${Date.now()}` }),
      db,
    };
    const names = Object.keys(scope);
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    const run = new AsyncFunction(...names, `${js}\nreturn { user, many };`);
    const out = await run(...names.map((n) => scope[n]));
    expect(out.user).toEqual({ id: 42, teamId: 7 });
    expect(out.many).toEqual([
      { id: 42, teamId: 7 },
      { id: 43, teamId: 7 },
      { id: 44, teamId: 7 },
    ]);
    // 42 came from the cache; only the missing keys reached the loader.
    expect(queries).toEqual(['user 42', 'users 43,44']);
  });
});

describe('README types', () => {
  it('every ts block of the README compiles under strict', () => {
    const readme = fileURLToPath(new URL('../README.md', import.meta.url));
    expect(formatProblems(checkMarkdown([readme]))).toEqual([]);
  }, 120_000);
});
