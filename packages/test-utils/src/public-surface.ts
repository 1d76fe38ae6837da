/**
 * A package's public surface, name by name, as a test: for every entry point
 * a plain sorted list of the names `import` gives at run time (`values`) and
 * of the type-only exports (`types`, read with the TypeScript compiler), so
 * that adding, removing or renaming an export is a visible, reviewed diff.
 *
 * `UPDATE_SURFACE=1` prints the actual lists (to paste after a deliberate change).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exportedNames } from './exported-names.js';

/** The reviewed names of each entry point: `file` relative to the test file. */
export type PublicSurface = Record<string, { file: string; values: string[]; types: string[] }>;

/** Declares one test per entry point of `surface`; `base` is the test file's `import.meta.url`. */
export function describePublicSurface(surface: PublicSurface, base: string): void {
  describe('public exports', () => {
    for (const [subpath, expected] of Object.entries(surface)) {
      it(`${subpath}: the names are the reviewed list`, async () => {
        const file = fileURLToPath(new URL(expected.file, base));
        const runtime = Object.keys(await import(file)).sort();
        const names = exportedNames(file);
        if (process.env.UPDATE_SURFACE) console.log(`surface of ${subpath}:`, JSON.stringify(names, null, 2));
        expect(runtime).toEqual(expected.values);
        expect(names).toEqual({ values: expected.values, types: expected.types });
      });
    }
  });
}
