#!/usr/bin/env node
/**
 * Packaging check for one published package (run in its directory, after build):
 *
 * 1. manifest rules: MIT license and LICENSE file, README, `files: ["dist"]`, the one ioredis peer range,
 *    `sideEffects: false`, `types` first in every export condition;
 * 2. publint (strict) on the package directory;
 * 3. arethetypeswrong on the packed tarball (node16 profile; subpaths listed in
 *    `stratacache.esmOnly` are checked with the esm-only profile);
 * 4. the tarball installed into a scratch project: `require()` and `import()`
 *    of every subpath work there and expose the same names.
 *
 * Exits non-zero with every problem listed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const dir = resolve(process.argv[2] ?? process.cwd());
const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const problems = [];
const fail = (message) => problems.push(message);

if (manifest.private) {
  console.log(`${manifest.name}: private, not published, nothing to check`);
  process.exit(0);
}

// 1. Manifest rules of docs/contributing.md.
if (manifest.license !== 'MIT') fail('license must be "MIT"');
if (!existsSync(join(dir, 'LICENSE'))) fail('LICENSE file missing');
if (!existsSync(join(dir, 'README.md'))) fail('README.md missing');
if (manifest.sideEffects !== false) fail('sideEffects must be false');
if (JSON.stringify(manifest.files) !== '["dist"]') fail('files must be ["dist"]');
if (manifest.type !== 'module') fail('type must be "module"');
// One supported ioredis range for every layer: a package left on an older range breaks installs next to
// the others (npm refuses the tree), which only the install check would otherwise catch.
const IOREDIS_RANGE = '^5.9.0 || ^6.0.0';
if (manifest.peerDependencies?.ioredis !== undefined && manifest.peerDependencies.ioredis !== IOREDIS_RANGE)
  fail(
    `peerDependencies.ioredis must be "${IOREDIS_RANGE}" like every layer's; got "${manifest.peerDependencies.ioredis}"`,
  );
const esmOnly = new Set(manifest.stratacache?.esmOnly ?? []);
function checkTypesFirst(subpath, target) {
  if (typeof target !== 'object' || target === null) return;
  const keys = Object.keys(target);
  if (keys.includes('types') && keys[0] !== 'types') fail(`exports["${subpath}"]: "types" must come first`);
  for (const value of Object.values(target)) checkTypesFirst(subpath, value);
}
for (const [subpath, target] of Object.entries(manifest.exports ?? {})) checkTypesFirst(subpath, target);

// 2. publint.
const { messages } = await publint({ pkgDir: dir, strict: true, level: 'warning' });
for (const message of messages) fail(`publint ${message.type}: ${formatMessage(message, manifest)}`);

// 3. arethetypeswrong on the tarball pnpm would publish.
const work = mkdtempSync(join(tmpdir(), 'strata-pack-'));
try {
  execFileSync('pnpm', ['pack', '--pack-destination', work], { cwd: dir, stdio: 'pipe' });
  const tarball = join(
    work,
    execFileSync('ls', [work])
      .toString()
      .trim()
      .split('\n')
      .find((f) => f.endsWith('.tgz')),
  );
  const subpaths = Object.keys(manifest.exports ?? {}).filter((s) => s !== './package.json');
  const attw = (args) => {
    try {
      execFileSync('attw', [tarball, '--no-emoji', '--no-color', ...args], { stdio: 'pipe' });
    } catch (error) {
      fail(`arethetypeswrong ${args.join(' ')}:\n${error.stdout?.toString() ?? error.message}`);
    }
  };
  const dual = subpaths.filter((s) => !esmOnly.has(s));
  if (dual.length > 0) attw(['--profile', 'node16', '--entrypoints', ...dual]);
  if (esmOnly.size > 0) attw(['--profile', 'esm-only', '--entrypoints', ...esmOnly]);

  // 4. Install the tarball in a scratch project and load every subpath both ways. Workspace
  //    packages it depends on (peers such as core-client) are not on the registry yet: pack
  //    and install them alongside, as a user would have them installed from the registry.
  const project = join(work, 'scratch');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
  const siblings = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }).filter((name) =>
    name.startsWith('@stratacache/'),
  );
  const siblingTarballs = siblings.map((name) => {
    const siblingDir = resolve(dir, '..', name.split('/')[1]);
    const out = join(work, 'siblings', name.split('/')[1]);
    execFileSync('mkdir', ['-p', out]);
    execFileSync('pnpm', ['pack', '--pack-destination', out], { cwd: siblingDir, stdio: 'pipe' });
    return join(out, execFileSync('ls', [out]).toString().trim().split('\n')[0]);
  });
  execFileSync(
    'pnpm',
    [
      'add',
      tarball,
      ...siblingTarballs,
      '--prefer-offline',
      '--ignore-workspace',
      '--config.confirmModulesPurge=false',
    ],
    { cwd: project, stdio: 'pipe' },
  );
  const node = (code, type = 'commonjs') =>
    execFileSync('node', [`--input-type=${type}`, '-e', code], { cwd: project, stdio: 'pipe' }).toString();
  for (const subpath of subpaths) {
    const specifier = manifest.name + subpath.slice(1);
    if (esmOnly.has(subpath)) {
      // ESM-only subpaths (test helpers) import optional peers such as vitest that only
      // work inside their runner: prove the subpath resolves to a shipped file.
      const url = node(`console.log(import.meta.resolve(${JSON.stringify(specifier)}))`, 'module').trim();
      if (!existsSync(new URL(url))) fail(`'${specifier}' resolves to ${url}, which is not in the tarball`);
      continue;
    }
    const esmNames = JSON.parse(
      execFileSync(
        'node',
        [
          '--input-type=module',
          '-e',
          `console.log(JSON.stringify(Object.keys(await import(${JSON.stringify(specifier)})).sort()))`,
        ],
        {
          cwd: project,
        },
      ).toString(),
    );
    if (esmNames.length === 0) fail(`import('${specifier}') exposes no names`);
    const cjsNames = JSON.parse(
      execFileSync(
        'node',
        ['-e', `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(specifier)})).sort()))`],
        {
          cwd: project,
        },
      ).toString(),
    );
    const onlyEsm = esmNames.filter((n) => !cjsNames.includes(n) && n !== 'default' && n !== 'module.exports');
    const onlyCjs = cjsNames.filter((n) => !esmNames.includes(n));
    if (onlyEsm.length || onlyCjs.length) {
      fail(
        `'${specifier}': ESM and CJS differ (only ESM: ${onlyEsm.join(', ') || '-'}; only CJS: ${onlyCjs.join(', ') || '-'})`,
      );
    }
  }
  console.log(
    `${manifest.name}: packed ${tarball.split('/').pop()}, ${subpaths.length} entry point(s) loaded by import() and require() from a scratch install`,
  );
} catch (error) {
  fail(`pack/install/load failed: ${error.stderr?.toString() || error.message}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error(`${manifest.name}: packaging check failed\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`${manifest.name}: packaging OK (manifest, publint, arethetypeswrong, ESM/CJS names)`);
