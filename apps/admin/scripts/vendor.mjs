#!/usr/bin/env node
/**
 * Copies the pinned front-end libraries into public/vendor/, where the server
 * serves them from its own origin (no CDN: the CSP allows scripts from 'self'
 * only). The copies are committed; test/vendor.test.ts fails when one differs
 * from the pinned package, so a version bump is: change the pin, run this.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const here = dirname(new URL(import.meta.url).pathname);
const out = join(here, '..', 'public', 'vendor');

/** [package, file inside it, name served]: the names carry the version, so a cached copy is never stale. */
export const VENDORED = [
  ['htmx.org', 'dist/htmx.min.js', 'htmx-2.0.11.min.js'],
  ['uplot', 'dist/uPlot.iife.min.js', 'uplot-1.6.32.iife.min.js'],
  ['uplot', 'dist/uPlot.min.css', 'uplot-1.6.32.min.css'],
];

if (process.argv[1] === new URL(import.meta.url).pathname) {
  mkdirSync(out, { recursive: true });
  for (const [pkg, file, name] of VENDORED) {
    const source = join(dirname(require.resolve(`${pkg}/package.json`)), file);
    copyFileSync(source, join(out, name));
    console.log(`${pkg}/${file} -> public/vendor/${name}`);
  }
}
