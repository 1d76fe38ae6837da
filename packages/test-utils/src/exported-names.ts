/** The names a TypeScript module exports, read with the compiler (no vitest: scripts use it too). */
import ts from 'typescript';

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
