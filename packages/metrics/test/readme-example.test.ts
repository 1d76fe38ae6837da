/** Runs the README's example block as written, on a free port and the run's Redis. */

import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { fileURLToPath } from 'node:url';
import * as core from '@stratacache/core-client';
import { getFreePort, testRedisUrl } from '@stratacache/test-utils';
import { transformSync } from 'esbuild';
import * as prom from 'prom-client';
import { describe, expect, it } from 'vitest';
import { checkMarkdown, formatProblems } from '../../../scripts/check-readme-snippets.mjs';
import * as metrics from '../src/index.js';

describe('README example', () => {
  it('runs as written', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Example\n\n(?:<!--[\s\S]*?-->\n)?```ts\n([\s\S]*?)```/.exec(readme)?.[1] as string;
    const port = await getFreePort();
    const js = transformSync(code.replace(/^import [^;]*;$/gm, '').replaceAll('9464', String(port)), {
      loader: 'ts',
    }).code;
    const logs: unknown[] = [];
    const scope: Record<string, unknown> = {
      ...metrics,
      Registry: prom.Registry,
      createServer: http.createServer,
      createRedis: () => core.createRedis({ url: testRedisUrl(), env: {}, prefix: `readme${Date.now()}` }),
      console: { log: (m: unknown) => logs.push(m), warn: (m: unknown) => logs.push(m) },
    };
    const names = Object.keys(scope);
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    const run = new AsyncFunction(...names, `${js}\nreturn { ready };`);
    const out = await run(...names.map((n) => scope[n]));
    expect(logs).toEqual([true]);
    expect(out.ready).toMatchObject({ ok: true, status: 'ok' });
  });

  it('lists every metric the package registers, with its labels', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const redis = core.createRedis({ url: testRedisUrl(), env: {} });
    const handle = metrics.registerMetrics({ registry: new prom.Registry(), redis });
    try {
      for (const name of handle.metricNames) {
        const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
        expect(row, `${name} has no row in the README`).toBeDefined();
        const labels = (handle.registry.getSingleMetric(name) as unknown as { labelNames: string[] }).labelNames;
        for (const label of labels) expect(row, `${name}: label ${label}`).toContain(`\`${label}\``);
      }
    } finally {
      handle.unregister();
      void redis.close();
    }
  });
});

describe('README types', () => {
  it('every ts block of the README compiles under strict', () => {
    const readme = fileURLToPath(new URL('../README.md', import.meta.url));
    expect(formatProblems(checkMarkdown([readme]))).toEqual([]);
  }, 120_000);
});
