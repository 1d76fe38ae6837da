/**
 * dependency-cruiser rules for every workspace package: no circular imports,
 * no import of an npm package the importer's package.json does not declare,
 * no devDependency in shipped code. The layer rules between workspace
 * packages (declared, and pointing down DESIGN.md's graph) are checked by
 * scripts/check-layering.mjs on the graph this produces.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Circular imports make load order fragile; move the shared part to its own file.',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-undeclared-package',
      severity: 'error',
      comment: "Imports a package that is not in the importing package's package.json.",
      from: {},
      // Declared in any dependency field is enough (peerDependenciesMeta alone also reads as npm-no-pkg).
      to: {
        dependencyTypes: ['npm-no-pkg', 'npm-unknown'],
        dependencyTypesNot: ['npm', 'npm-dev', 'npm-peer', 'npm-optional'],
      },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-dev-dependency-in-shipped-code',
      severity: 'error',
      comment: 'Published code may not import devDependencies: users would not have them.',
      from: { path: '^packages/[^/]+/src/', pathNot: ['\\.test(-d)?\\.ts$', '^packages/test-utils/'] },
      // A devDependency that is also a peer (vitest for ./testing) is declared to users.
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only', 'npm-peer', 'npm', 'npm-optional'] },
    },
  ],
  options: {
    // Built output is a target of workspace imports, never a source to cruise.
    doNotFollow: { path: ['node_modules', '^packages/[^/]+/dist/'] },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
