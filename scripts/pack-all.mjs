#!/usr/bin/env node
/**
 * `pnpm pack:all`: builds every published package and packs each into
 * `.tmp/packages/` as the tarball `npm publish` would upload, so a project
 * outside this repository can install the packages before (or without) the
 * registry: `npm i ./.tmp/packages/stratacache-core-client-0.0.0.tgz ...`.
 *
 * `pnpm pack` (not `npm pack`) is what rewrites `workspace:^` ranges into
 * real version ranges, exactly as `changeset publish` does on release.
 * Tarballs of earlier runs are removed first, so the folder holds one version
 * of each package. Prints one line per tarball; `--json` prints
 * `{ name, version, file }[]` instead (scripts/check-install.mjs reads it).
 *
 * Options: `--no-build` skips the build (CI has just built), `--out <dir>`
 * packs elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = resolve(root, outIndex >= 0 ? (args[outIndex + 1] ?? '') : '.tmp/packages');
const json = args.includes('--json');
const log = (line) => (json ? process.stderr : process.stdout).write(`${line}\n`);

/** Every published workspace package: `packages/*` without `"private": true`. */
function publishedPackages() {
  const dir = join(root, 'packages');
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'package.json')))
    .map((name) => ({
      dir: join(dir, name),
      manifest: JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8')),
    }))
    .filter(({ manifest }) => !manifest.private);
}

/** The tarball name pnpm gives `@scope/name@version`. */
function tarballName({ name, version }) {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

const packages = publishedPackages();
if (!args.includes('--no-build')) {
  const filters = packages.flatMap(({ manifest }) => ['--filter', manifest.name]);
  log(`building ${packages.length} packages (turbo)`);
  execFileSync('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only', ...filters], {
    cwd: root,
    stdio: ['ignore', json ? 'ignore' : 'inherit', 'inherit'],
  });
}

mkdirSync(out, { recursive: true });
const packed = [];
for (const { dir, manifest } of packages) {
  if (!existsSync(join(dir, 'dist'))) throw new Error(`${manifest.name}: no dist/ (build it, or drop --no-build)`);
  const prefix = tarballName({ name: manifest.name, version: '' });
  for (const old of readdirSync(out)) if (old.startsWith(prefix) && old.endsWith('.tgz')) rmSync(join(out, old));
  execFileSync('pnpm', ['pack', '--pack-destination', out], { cwd: dir, stdio: 'pipe' });
  const file = join(out, tarballName(manifest));
  if (!existsSync(file)) throw new Error(`${manifest.name}: pnpm pack wrote no ${relative(root, file)}`);
  packed.push({ name: manifest.name, version: manifest.version, file });
  log(`${manifest.name}@${manifest.version} -> ${relative(process.cwd(), file)}`);
}
if (json) console.log(JSON.stringify(packed, null, 2));
