/** The vendored front-end files are exactly the pinned packages' (run `pnpm --filter @stratacache/admin vendor` after a bump). */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { VENDORED } from '../scripts/vendor.mjs';

const require = createRequire(import.meta.url);

describe('vendored files', () => {
  it.each(VENDORED as [string, string, string][])('%s %s is served as it ships', (pkg, file, name) => {
    const manifest = require(`${pkg}/package.json`) as { version: string };
    expect(name).toContain(manifest.version);
    const shipped = readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), file));
    const served = readFileSync(join(import.meta.dirname, '..', 'public', 'vendor', name));
    expect(served.equals(shipped)).toBe(true);
  });

  it('pins htmx 2 (htmx 4 changes header inheritance, which the CSRF header relies on)', () => {
    expect((require('htmx.org/package.json') as { version: string }).version).toBe('2.0.11');
  });
});
