/**
 * A package's public surface, name by name, as a test: for every entry point
 * a plain sorted list of the names `import` gives at run time (`values`) and
 * of the type-only exports (`types`, read with the TypeScript compiler), so
 * that adding, removing or renaming an export is a visible, reviewed diff.
 *
 * `UPDATE_SURFACE=1` prints the actual lists (to paste after a deliberate change).
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** The reviewed names of each entry point: `file` relative to the test file. */
export type PublicSurface = Record<string, { file: string; values: string[]; types: string[] }>;

/** The value and type-only exports of a TypeScript module, sorted. */
export function exportedNames(file: string): { values: string[]; types: string[] } {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const module = source && checker.getSymbolAtLocation(source);
  if (!module) throw new Error(`cannot read the exports of ${file}`);
  const exports = checker.getExportsOfModule(module);
  // `export type { X }` is type-only even when X is a class: it is not there at run time.
  const isValue = (s: ts.Symbol) => {
    const declaration = s.declarations?.[0];
    if (declaration && ts.isExportSpecifier(declaration)) {
      return !(declaration.isTypeOnly || declaration.parent.parent.isTypeOnly);
    }
    return ((s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s).flags & ts.SymbolFlags.Value) !== 0;
  };
  return {
    values: exports
      .filter(isValue)
      .map((s) => s.name)
      .sort(),
    types: exports
      .filter((s) => !isValue(s))
      .map((s) => s.name)
      .sort(),
  };
}

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
