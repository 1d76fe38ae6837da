/** Runs the README's example block as written, against the test Redis. */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { testRedisUrl } from '@stratacache/test-utils';
import { transformSync } from 'esbuild';
import { describe, expect, it, vi } from 'vitest';
import { checkMarkdown, formatProblems } from '../../../scripts/check-readme-snippets.mjs';
import * as core from '../src/index.js';

describe('README example', () => {
  it('runs as written', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Example\n\n(?:<!--[\s\S]*?-->\n)?```ts\n([\s\S]*?)```/.exec(readme)?.[1] as string;
    const imported =
      /import \{([^}]+)\} from '@stratacache\/core-client';/
        .exec(code)?.[1]
        ?.split(',')
        .map((s) => s.trim()) ?? [];
    // createRedis() reads REDIS_URL: point it at the test Redis.
    const exports = { ...core, createRedis: () => core.createRedis({ url: testRedisUrl(), env: {} }) } as Record<
      string,
      unknown
    >;
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    // The block is TypeScript: strip the types (esbuild), keep the code as written.
    const js = transformSync(code.replace(/^import .*$/gm, ''), { loader: 'ts' }).code;
    const run = new AsyncFunction(...imported, `${js}\nreturn { name, removed };`);
    const { name, removed } = await run(...imported.map((n) => exports[n]));
    expect(name).toBe('Ada');
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(log).toHaveBeenCalledWith(expect.objectContaining({ ok: true }));
    log.mockRestore();
  });
});

describe('README types', () => {
  it('every ts block of the README compiles under strict', () => {
    const readme = fileURLToPath(new URL('../README.md', import.meta.url));
    expect(formatProblems(checkMarkdown([readme]))).toEqual([]);
  }, 120_000);
});
