/** Runs the README's example block as written, with its application functions stubbed. */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as core from '@stratacache/core-client';
import { testRedisUrl } from '@stratacache/test-utils';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { checkMarkdown, formatProblems } from '../../../scripts/check-readme-snippets.mjs';
import * as coordination from '../src/index.js';

describe('README example', () => {
  it('runs as written', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Example\n\n(?:<!--[\s\S]*?-->\n)?```ts\n([\s\S]*?)```/.exec(readme)?.[1] as string;
    const js = transformSync(code.replace(/^import .*$/gm, ''), { loader: 'ts' }).code;
    const calls: string[] = [];
    const scope: Record<string, unknown> = {
      ...coordination,
      createRedis: () => core.createRedis({ url: testRedisUrl(), env: {}, prefix: `readme${Date.now()}` }),
      buildReport: async ({ fence }: { fence: number }) => {
        calls.push('report');
        return `report with fence ${fence}`;
      },
      refreshRates: async () => calls.push('rates'),
      ip: '203.0.113.7',
      console: { log: (m: string) => calls.push(`log:${m}`) },
    };
    const names = Object.keys(scope);
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    const run = new AsyncFunction(...names, `${js}\nawait redis.close();\nreturn { result, allowed, retryAfterMs };`);
    const out = await run(...names.map((n) => scope[n]));
    expect(out.result).toMatchObject({ acquired: true, value: expect.stringMatching(/fence \d+/), lost: false });
    expect(out.allowed).toBe(true);
    expect(out.retryAfterMs).toBe(0);
    expect(calls).toEqual(['report', 'rates']);
  });
});

describe('README types', () => {
  it('every ts block of the README compiles under strict', () => {
    const readme = fileURLToPath(new URL('../README.md', import.meta.url));
    expect(formatProblems(checkMarkdown([readme]))).toEqual([]);
  }, 120_000);
});
