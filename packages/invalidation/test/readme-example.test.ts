/** Runs the README's example block as written, against the test Redis. */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as core from '@stratacache/core-client';
import { testRedisUrl } from '@stratacache/test-utils';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { checkMarkdown, formatProblems } from '../../../scripts/check-readme-snippets.mjs';
import * as invalidation from '../src/index.js';

describe('README example', () => {
  it('runs as written', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Example\n\n(?:<!--[\s\S]*?-->\n)?```ts\n([\s\S]*?)```/.exec(readme)?.[1] as string;
    const js = transformSync(code.replace(/^import .*$/gm, ''), { loader: 'ts' }).code;
    const scope: Record<string, unknown> = {
      ...invalidation,
      createRedis: () => core.createRedis({ url: testRedisUrl(), env: {}, prefix: `readme${Date.now()}` }),
    };
    const names = Object.keys(scope);
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    const run = new AsyncFunction(...names, `${js}\nawait bus.stop();\nreturn { memory, products, redis };`);
    const { memory, products, redis } = await run(...names.map((n) => scope[n]));
    expect(memory).toBeInstanceOf(Map);
    expect(await products.judge({ key: 'x', writtenAt: 0, tags: ['prices'] })).toBe('stale');
    expect(await products.judge({ key: 'x', writtenAt: 0, tags: ['category:42'] })).toBe('deleted');
    await redis.close();
  });
});

describe('README types', () => {
  it('every ts block of the README compiles under strict', () => {
    const readme = fileURLToPath(new URL('../README.md', import.meta.url));
    expect(formatProblems(checkMarkdown([readme]))).toEqual([]);
  }, 120_000);
});
