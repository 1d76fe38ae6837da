/**
 * The public surface of @stratacache/coordination, name by name, for every entry
 * point: a plain sorted list, so that adding, removing or renaming an export
 * is a visible, reviewed change in the diff. `values` are what `import`
 * gives at run time; `types` are the type-only exports (read with the
 * TypeScript compiler).
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SURFACE: Record<string, { file: string; values: string[]; types: string[] }> = {
  '.': {
    file: '../src/index.ts',
    values: [
      'CoordinationChannels',
      'Heartbeats',
      'Locks',
      'RateLimiter',
      'Registry',
      'RetryBudget',
      'Semaphore',
      'TaskClaims',
      'createHeartbeats',
      'createLocks',
      'createRateLimiter',
      'createRegistry',
      'createRetryBudget',
      'createSemaphore',
      'createTaskClaims',
      'lockFamily',
    ],
    types: [
      'AcquireOptions',
      'ClaimOptions',
      'ClaimResult',
      'FencedLock',
      'FencedWriteOptions',
      'FencedWriteResult',
      'HeartbeatsOptions',
      'LockManagerOptions',
      'LocksOptions',
      'RateLimitAlgorithm',
      'RateLimitResult',
      'RateLimiterOptions',
      'RedisDownPolicy',
      'RegisterOptions',
      'RegistryChange',
      'RegistryEntry',
      'RegistryOptions',
      'Replication',
      'ResolvedHeartbeatsOptions',
      'ResolvedLocksOptions',
      'ResolvedRateLimiterOptions',
      'ResolvedRegistryOptions',
      'ResolvedRetryBudgetOptions',
      'ResolvedSemaphoreOptions',
      'ResolvedTaskClaimsOptions',
      'RetryBudgetOptions',
      'SemaphoreOptions',
      'SemaphorePermit',
      'TaskClaimsOptions',
      'UsingOptions',
      'UsingResult',
      'WorkerBeat',
    ],
  },
};

/** Every name a module exports, from its source, split into values and type-only names. */
function exportedNames(file: string): { values: string[]; types: string[] } {
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

describe('public exports', () => {
  for (const [subpath, expected] of Object.entries(SURFACE)) {
    it(`${subpath}: the names are the reviewed list`, async () => {
      const file = fileURLToPath(new URL(expected.file, import.meta.url));
      const runtime = Object.keys(await import(file)).sort();
      expect(runtime).toEqual(expected.values);
      expect(exportedNames(file)).toEqual({ values: expected.values, types: expected.types });
    });
  }
});
