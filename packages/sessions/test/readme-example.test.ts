/** Runs the README's example block as written, with the request and environment stubbed. */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as core from '@stratacache/core-client';
import { testRedisUrl } from '@stratacache/test-utils';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { checkMarkdown, formatProblems } from '../../../scripts/check-readme-snippets.mjs';
import * as sessions from '../src/index.js';

describe('README example', () => {
  it('runs as written', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Example\n\n(?:<!--[\s\S]*?-->\n)?```ts\n([\s\S]*?)```/.exec(readme)?.[1] as string;
    const js = transformSync(code.replace(/^import .*$/gm, ''), { loader: 'ts' }).code;
    const logs: string[] = [];
    const scope: Record<string, unknown> = {
      ...sessions,
      createRedis: () => core.createRedis({ url: testRedisUrl(), env: {}, prefix: `readme${Date.now()}` }),
      process: {
        env: { SESSION_SECRET: randomBytes(32).toString('hex'), SESSION_KEY: randomBytes(32).toString('base64') },
      },
      req: { ip: '203.0.113.7' },
      Buffer,
      console: { log: (m: string) => logs.push(m) },
    };
    const names = Object.keys(scope);
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    const run = new AsyncFunction(
      ...names,
      `${js}\nconst left = await sessions.count('user-42');\nawait sessions.clear();\nawait redis.close();\nreturn { login, current, elevated, stats, left };`,
    );
    const out = await run(...names.map((n) => scope[n]));
    expect(out.login).toMatchObject({ created: true, evicted: 0 });
    expect(out.current).toMatchObject({ valid: true, userId: 'user-42', data: { role: 'editor' }, ip: '203.0.113.7' });
    expect(out.elevated).toMatchObject({ valid: true, data: { role: 'editor' } });
    expect(out.elevated.id).not.toBe(out.login.id);
    expect(out.stats).toMatchObject({ active: 1, created: 1, regenerated: 1 });
    expect(out.left).toBe(1);
    expect(logs).toEqual(['1 active, 1 in the last 5 minutes']);
  });
});

describe('README types', () => {
  it('every ts block of the README compiles under strict', () => {
    const readme = fileURLToPath(new URL('../README.md', import.meta.url));
    expect(formatProblems(checkMarkdown([readme]))).toEqual([]);
  }, 120_000);
});
