/**
 * Runs the README's example code block as written (imports replaced by the
 * real exports), so the documentation cannot drift from the code.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as serializers from '@stratacache/serializers';
import { describe, expect, it } from 'vitest';
import { checkMarkdown, formatProblems } from '../../../scripts/check-readme-snippets.mjs';

function exampleBlock(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Example'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README has no ts block under ## Example');
  return block;
}

describe('README example', () => {
  it('runs as written', () => {
    const code = exampleBlock();
    const imported =
      /import \{([^}]+)\} from '@stratacache\/serializers';/
        .exec(code)?.[1]
        ?.split(',')
        .map((s) => s.trim()) ?? [];
    expect(imported.length).toBeGreaterThan(0);
    const body = code.replace(/^import .*$/gm, '');
    const run = new Function(...imported, `${body}\nreturn { rich, bytes, other };`);
    const { rich, bytes, other } = run(...imported.map((name) => (serializers as Record<string, unknown>)[name]));
    const decoded = rich.decode(bytes);
    expect(decoded.at).toBeInstanceOf(Date);
    expect(decoded.ids).toEqual(new Set([1, 2]));
    expect(decoded.total).toBe(10n);
    expect(other.decode(bytes)).toEqual(decoded);
    expect(serializers.decode(Buffer.from('{"written":"by redis-cli"}'))).toEqual({ written: 'by redis-cli' });
  });
});

describe('README types', () => {
  it('every ts block of the README compiles under strict', () => {
    const readme = fileURLToPath(new URL('../README.md', import.meta.url));
    expect(formatProblems(checkMarkdown([readme]))).toEqual([]);
  }, 120_000);
});
