/**
 * The code of the migration guides (docs/migrating/*.md): every ```ts block
 * under a `### Before: <library>` or `### After: <what>` heading, in order.
 * The guides' test runs both sides against a real Redis (the "before" with the
 * peer library) and compares their output; scripts/check-install.mjs runs each
 * "after" block unchanged in a project that installed the packed tarballs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The guide files, sorted. */
export function guideFiles() {
  const dir = join(root, 'docs/migrating');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.md') && name !== 'README.md')
    .sort()
    .map((name) => join(dir, name));
}

/** The before/after blocks of one guide: `{ guide, side, label, code, line }[]`. */
export function guideBlocks(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks = [];
  let pending;
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#{2,4} (Before|After): (.+)$/.exec(lines[i]);
    if (heading) {
      pending = { side: heading[1].toLowerCase(), label: heading[2].trim() };
      continue;
    }
    if (/^#{1,4} /.test(lines[i])) pending = undefined;
    if (pending && lines[i].trim() === '```ts') {
      let end = i + 1;
      while (end < lines.length && lines[end].trim() !== '```') end++;
      blocks.push({
        guide: basename(file, '.md'),
        side: pending.side,
        label: pending.label,
        code: lines.slice(i + 1, end).join('\n'),
        line: i + 2,
      });
      pending = undefined;
      i = end;
    }
  }
  return blocks;
}
