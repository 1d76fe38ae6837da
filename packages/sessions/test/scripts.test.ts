/** The embedded Lua matches lua/*.lua, and each script declares its keys, arguments and reply. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { luaScripts } from '../src/lua.generated.js';

describe('Lua scripts', () => {
  it('are regenerated: embed-lua --check passes', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const out = execFileSync(
      'node',
      [
        'scripts/embed-lua.mjs',
        'packages/sessions/lua',
        'packages/sessions/src/lua.generated.ts',
        '--check',
        '--types-from',
        '@stratacache/core-client',
      ],
      { cwd: root },
    ).toString();
    expect(out).toMatch(/matches 7 Lua file/);
  });

  it('carry the SHA-1 of their source and a keys/args/reply header', () => {
    for (const script of Object.values(luaScripts)) {
      const file = new URL(`../lua/${script.name}-${script.numberOfKeys}.lua`, import.meta.url);
      // Shared code is spliced in at each `-- @include x.lib.lua` line by the embedder.
      const source = readFileSync(file, 'utf8').replace(/^-- @include (\S+)$/gm, (_, lib: string) =>
        readFileSync(new URL(`../lua/${lib}`, import.meta.url), 'utf8').trimEnd(),
      );
      expect(script.source).toBe(source);
      expect(script.source).not.toMatch(/@include/);
      expect(script.sha1).toBe(createHash('sha1').update(source).digest('hex'));
      expect(script.header).toMatch(/keys:[\s\S]*args:[\s\S]*reply:/);
    }
  });
});
