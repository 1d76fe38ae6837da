import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    pg: 'src/pg.ts',
    postgres: 'src/postgres.ts',
    mysql2: 'src/mysql2.ts',
    pglite: 'src/pglite.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  target: 'node20',
  treeshake: true,
  external: [
    'ioredis',
    '@stratacache/core-client',
    '@stratacache/invalidation',
    '@stratacache/patterns',
    'libpg-query',
    'node-sql-parser',
    'lru-cache',
  ],
});
