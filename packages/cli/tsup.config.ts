import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'node20',
    treeshake: true,
    external: ['ioredis', /^@stratacache\//],
  },
  {
    // The `stratacache` command: ESM only, with its shebang kept by tsup.
    entry: { bin: 'src/bin.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    external: ['ioredis', /^@stratacache\//],
  },
]);
