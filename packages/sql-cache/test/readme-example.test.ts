/**
 * The README's example, extracted from the README (not a copy) and run as written against the
 * test Redis and PostgreSQL (a schema of its own on the search path); every ts block of the
 * README also compiles under strict.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as core from '@stratacache/core-client';
import { createInvalidationBus } from '@stratacache/invalidation';
import { createCache } from '@stratacache/patterns';
import { compress, msgpack } from '@stratacache/serializers';
import { NEEDS_POSTGRES_SERVER, resolvePostgres, testRedisUrl } from '@stratacache/test-utils';
import { transformSync } from 'esbuild';
import pg from 'pg';
import { expect, it } from 'vitest';
import { checkMarkdown, formatProblems } from '../../../scripts/check-readme-snippets.mjs';
import { createSqlCache } from '../src/index.js';
import { pgDriver } from '../src/pg.js';
import { hex } from './helpers.js';

const README = fileURLToPath(new URL('../README.md', import.meta.url));

it('runs the README example as written', async () => {
  const resolved = await resolvePostgres();
  if (!resolved.url) throw new Error(NEEDS_POSTGRES_SERVER);
  const schema = `sc_${hex()}`;
  const setup = new pg.Pool({ connectionString: resolved.url });
  await setup.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.orders (id int PRIMARY KEY, customer_id int, status text);
    INSERT INTO ${schema}.orders VALUES (7, 42, 'new')`);
  try {
    const code = /## Example\n\n(?:<!--[\s\S]*?-->\n)?```ts\n([\s\S]*?)```/.exec(
      readFileSync(README, 'utf8'),
    )?.[1] as string;
    const js = transformSync(code.replace(/^import [^;]*;$/gm, ''), { loader: 'ts' }).code;
    const logs: unknown[][] = [];
    const scope: Record<string, unknown> = {
      createRedis: () => core.createRedis({ url: testRedisUrl(), env: {}, prefix: `t-${hex()}` }),
      createInvalidationBus,
      createCache,
      compress,
      msgpack,
      createSqlCache,
      pgDriver,
      // The example's pool reads DATABASE_URL; its tables live in this test's schema.
      pg: {
        Pool: class extends pg.Pool {
          constructor(config: pg.PoolConfig) {
            super({ ...config, connectionString: resolved.url, options: `-c search_path=${schema}` });
          }
        },
      },
      process: { env: { DATABASE_URL: resolved.url } },
      console: { log: (...args: unknown[]) => logs.push(args) },
    };
    const names = Object.keys(scope);
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    const out = await new AsyncFunction(...names, `${js}\nreturn { first, again, fresh };`)(
      ...names.map((n) => scope[n]),
    );
    expect([out.first.source, out.again.source]).toEqual(['db', 'cache']);
    expect([out.fresh.rows[0]?.status, out.fresh.source]).toEqual(['paid', 'db']);
    expect(logs).toEqual([
      ['db', 'cache'],
      ['paid', 'db'],
    ]);
  } finally {
    await setup.query(`DROP SCHEMA ${schema} CASCADE`);
    await setup.end();
  }
});

it('every ts block of the README compiles under strict', () => {
  expect(formatProblems(checkMarkdown([README]))).toEqual([]);
}, 120_000);
