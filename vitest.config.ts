/**
 * One vitest run over every package and app (a project each), so `pnpm test` gives one
 * report and one count. Workspace imports resolve to source (`src/`), so tests
 * run on a fresh clone without a build.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, relative, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const root = import.meta.dirname;
const packagesDir = join(root, 'packages');
const globalSetup = resolve(packagesDir, 'test-utils/src/global-setup.ts');
/** Every workspace package and app with a manifest, as absolute paths: packages/* and apps/*. */
const workspaceDirs = ['packages', 'apps'].flatMap((group) =>
  existsSync(join(root, group))
    ? readdirSync(join(root, group))
        .map((dir) => join(root, group, dir))
        .filter((dir) => existsSync(join(dir, 'package.json')))
    : [],
);

/** `@stratacache/x` -> packages/x/src/index.ts and `@stratacache/x/sub` -> packages/x/src/sub(/index).ts. */
function sourceAliases(): { find: RegExp; replacement: string }[] {
  const aliases: { find: RegExp; replacement: string }[] = [];
  for (const dir of workspaceDirs) {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (manifest.private) continue; // private packages export their source already
    for (const subpath of Object.keys(manifest.exports ?? {})) {
      if (subpath === './package.json') continue;
      const sub = subpath.slice(2);
      const candidates = sub ? [`src/${sub}/index.ts`, `src/${sub}.ts`] : ['src/index.ts'];
      const file = candidates.map((c) => join(dir, c)).find((c) => existsSync(c));
      if (!file) continue;
      const specifier = `${manifest.name}${sub ? `/${sub}` : ''}`;
      aliases.push({ find: new RegExp(`^${specifier.replace(/[/.]/g, '\\$&')}$`), replacement: file });
    }
  }
  return aliases;
}

/**
 * `IOREDIS=5`: every `import ... from 'ioredis'` of the sources and tests resolves to ioredis 5
 * (the root devDependency `ioredis5`, an npm alias), so the same suite proves the peer range
 * `^5.9.0 || ^6.0.0`. Child processes started by tests (fixtures under tsx) still load ioredis 6.
 */
function ioredisAlias(): { find: RegExp; replacement: string }[] {
  if (process.env.IOREDIS === undefined || process.env.IOREDIS === '6') return [];
  if (process.env.IOREDIS !== '5') throw new Error(`IOREDIS must be 5 or 6; got ${process.env.IOREDIS}`);
  const entry = createRequire(join(root, 'package.json')).resolve('ioredis5');
  return [{ find: /^ioredis$/, replacement: entry }];
}

/**
 * The topology matrix: every package runs all its tests on standalone Redis (its own project),
 * and the files its `test/topologies.json` lists again on a Cluster and behind Sentinel, in one
 * `cluster` and one `sentinel` project for the whole repository (one Cluster and one Sentinel
 * group per run, not one per package). The global setup reads `STRATA_TOPOLOGY`.
 */
function topologyFiles(topology: 'cluster' | 'sentinel'): string[] {
  return workspaceDirs.flatMap((dir) => {
    const file = join(dir, 'test', 'topologies.json');
    if (!existsSync(file)) return [];
    const lists = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string[] | undefined>;
    return (lists[topology] ?? []).map((test) => relative(root, join(dir, test)));
  });
}

const topologyProjects = (['cluster', 'sentinel'] as const)
  .map((topology) => ({ topology, include: topologyFiles(topology) }))
  .filter(({ include }) => include.length > 0)
  .map(({ topology, include }) => ({
    extends: true,
    test: {
      name: topology,
      root,
      include,
      env: { STRATA_TOPOLOGY: topology },
      globalSetup: [globalSetup],
    },
  }));

export default defineConfig({
  resolve: { alias: [...sourceAliases(), ...ioredisAlias()] },
  test: {
    projects: [
      ...workspaceDirs.map((dir) => ({
        extends: true,
        test: {
          name: basename(dir),
          root: dir,
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          // Per project, not in the root config: a root globalSetup runs for the
          // root project and again for every project that extends it.
          globalSetup: [globalSetup],
        },
      })),
      ...topologyProjects,
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Two cores: more workers only contend for them and for the shared Redis.
    maxWorkers: 2,
  },
});
