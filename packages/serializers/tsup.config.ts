import { defineConfig } from 'tsup';

const shared = {
  dts: true,
  sourcemap: true,
  target: 'node20',
  treeshake: true,
  external: ['vitest'],
} as const;

export default defineConfig([
  // The package itself: ESM and CJS.
  { ...shared, entry: { index: 'src/index.ts' }, format: ['cjs'] },
  // ESM shares one chunk between index and testing, so the contract suite sees
  // the same SerializationError class as the serializers under test.
  // testing is ESM only: vitest cannot be require()d.
  { ...shared, entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' }, format: ['esm'], splitting: true },
]);
