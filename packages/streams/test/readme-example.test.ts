/** Runs the README's example block as written, on the test Redis, under its own stream key. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as core from '@stratacache/core-client';
import { withTestRedis } from '@stratacache/test-utils';
import { transformSync } from 'esbuild';
import { expect, test } from 'vitest';
import * as streams from '../src/index.js';

test('the README example prints ten per-minute windows of 10,000 orders', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /## Example\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1] as string;
  const prefix = `readme${randomBytes(4).toString('hex')}`;
  const stream = `${prefix}:shop:orders`;
  const js = transformSync(code.replace(/^import .*$/gm, '').replace("'shop:orders'", JSON.stringify(stream)), {
    loader: 'ts',
  }).code;
  const lines: string[] = [];
  const scope: Record<string, unknown> = {
    ...streams,
    createRedis: () => core.createRedis(withTestRedis({ prefix })),
    console: { log: (line: string) => lines.push(line) },
  };
  const names = Object.keys(scope);
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
  await new AsyncFunction(...names, js)(...names.map((n) => scope[n]));

  expect(lines).toHaveLength(10);
  for (const [i, line] of lines.entries()) {
    expect(line).toMatch(/^\d\d:\d\d {2}1000 orders {2}24500 total {2}~\d+ buyers {2}de=33[34]/);
    const buyers = Number(/~(\d+) buyers/.exec(line)?.[1]);
    expect(Math.abs(buyers - 700)).toBeLessThan(21);
    expect(line.endsWith('(open)')).toBe(i === 9);
  }
  const cleanup = core.createRedis(withTestRedis({ prefix }));
  await cleanup.unlinkMatching(`${prefix}:*`);
  await cleanup.close();
});
