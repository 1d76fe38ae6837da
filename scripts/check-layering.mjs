#!/usr/bin/env node
/**
 * The layering check. Fails on:
 * - a circular import, an import of an undeclared npm package, a
 *   devDependency in shipped code, an unresolvable import
 *   (dependency-cruiser, rules in .dependency-cruiser.cjs);
 * - an import of a workspace package that the importer does not declare;
 * - an import that points up or sideways in the layer graph (scripts/layers.mjs).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cruise } from 'dependency-cruiser';
import { below, LAYERS, TEST_IMPLEMENTATIONS, TEST_ONLY } from './layers.mjs';

const root = new URL('..', import.meta.url).pathname;
const workspaceDirs = ['packages', 'apps']
  .flatMap((group) => (existsSync(join(root, group)) ? readdirSync(join(root, group)).map((d) => `${group}/${d}`) : []))
  .concat(['bench'])
  .filter((dir) => existsSync(join(root, dir, 'package.json')));
const manifests = new Map(
  workspaceDirs.map((dir) => [dir, JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'))]),
);

const sources = workspaceDirs.flatMap((dir) =>
  ['src', 'test', 'lib', 'app', 'serializers', 'scripts']
    .map((sub) => `${dir}/${sub}`)
    .filter((p) => existsSync(join(root, p))),
);
const config = (await import(join(root, '.dependency-cruiser.cjs'))).default;
const result = await cruise(sources, {
  ...config.options,
  ruleSet: { forbidden: config.forbidden },
  validate: true,
  baseDir: root,
});
const output = result.output;
const problems = [];

for (const violation of output.summary.violations) {
  const cycle = violation.cycle ? ` (cycle: ${violation.cycle.map((c) => c.name ?? c).join(' -> ')})` : '';
  problems.push(`${violation.rule.name}: ${violation.from} -> ${violation.to}${cycle}`);
}

// Only tests: shipped test helpers (src/testing/) follow the rules of shipped code.
const isTestFile = (file) => /(^|\/)test\/|\.test(-d)?\.ts$/.test(file);
for (const module of output.modules) {
  const dir = workspaceDirs.find((d) => module.source.startsWith(`${d}/`));
  if (!dir) continue;
  const importer = manifests.get(dir);
  for (const dep of module.dependencies) {
    if (!dep.module.startsWith('@stratacache/')) continue;
    const target = dep.module.split('/').slice(0, 2).join('/');
    if (target === importer.name) continue; // a package importing its own entry
    const where = `${module.source} imports ${dep.module}`;
    if (!(target in LAYERS)) {
      problems.push(`${where}: ${target} is not in the layer graph (scripts/layers.mjs)`);
      continue;
    }
    const testFile = isTestFile(module.source);
    const declared = {
      ...importer.dependencies,
      ...importer.peerDependencies,
      ...importer.optionalDependencies,
      ...(testFile ? importer.devDependencies : {}),
    };
    if (!(target in declared) && (testFile || !TEST_ONLY.includes(target))) {
      const hint = testFile ? 'devDependencies' : importer.private ? 'dependencies' : 'peerDependencies (workspace:^)';
      problems.push(`${where}: ${importer.name} does not declare ${target}; add it to ${hint}`);
    }
    const allowed = below(importer.name);
    if (TEST_ONLY.includes(target)) {
      if (!testFile && !importer.private) problems.push(`${where}: ${target} is for tests only`);
    } else if (testFile && (TEST_IMPLEMENTATIONS[importer.name] ?? []).includes(target)) {
      // A contract's implementation, used by tests only (declared in devDependencies above).
    } else if (!allowed.has(target)) {
      const direction = below(target).has(importer.name) ? 'up' : 'sideways';
      problems.push(
        `${where}: points ${direction} the layer graph; ${importer.name} may import only ${[...allowed].join(', ') || 'no workspace package'}`,
      );
    }
  }
}

const cruised = `${output.summary.totalCruised} modules, ${output.summary.totalDependenciesCruised} imports in ${workspaceDirs.length} workspace packages`;
if (problems.length > 0) {
  console.error(`layering check failed (${cruised}):\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`layering OK: ${cruised}; no cycle, no undeclared import, every workspace edge points down`);
