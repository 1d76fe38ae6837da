import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { client } from './helpers.js';
import { defineScript, luaScripts, ScriptError, uniqueKeys } from './scripts-helpers.js';

const luaDir = fileURLToPath(new URL('../lua/', import.meta.url));

describe('the script registry', () => {
  it('stores, for each .lua file, the SHA-1 of the file as it is', () => {
    const files = readdirSync(luaDir).filter((f) => f.endsWith('.lua'));
    expect(files.length).toBe(Object.keys(luaScripts).length);
    for (const script of Object.values(luaScripts)) {
      const file = files.find((f) => f === `${script.name}-${script.numberOfKeys}.lua`);
      expect(file, script.name).toBeDefined();
      const source = readFileSync(`${luaDir}${file}`, 'utf8');
      expect(script.source).toBe(source);
      expect(script.sha1).toBe(createHash('sha1').update(source).digest('hex'));
    }
  });

  it('is regenerated: embed-lua --check passes', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const out = execFileSync(
      'node',
      ['scripts/embed-lua.mjs', 'packages/core-client/lua', 'packages/core-client/src/lua.generated.ts', '--check'],
      {
        cwd: root,
      },
    ).toString();
    const files = readdirSync(`${root}packages/core-client/lua`).filter((f) => f.endsWith('.lua'));
    expect(out).toMatch(new RegExp(`matches ${files.length} Lua file`));
  });

  it('runs by EVALSHA and falls back to EVAL after SCRIPT FLUSH', async () => {
    const redis = client();
    const [key] = uniqueKeys(1);
    await redis.client.set(key as string, 'token-a');
    await redis.client.script('FLUSH');
    expect(await redis.client.script('EXISTS', luaScripts.compareAndDelete.sha1)).toEqual([0]);
    expect(await redis.runScript(luaScripts.compareAndDelete, [key as string], ['token-b'])).toBe(0);
    // The fallback loaded it: now EVALSHA finds it.
    expect(await redis.client.script('EXISTS', luaScripts.compareAndDelete.sha1)).toEqual([1]);
    expect(await redis.runScript(luaScripts.compareAndDelete, [key as string], ['token-a'])).toBe(1);
    expect(await redis.client.exists(key as string)).toBe(0);
  });

  it('extends only when the value matches', async () => {
    const redis = client();
    const [key] = uniqueKeys(1);
    await redis.client.set(key as string, 'mine', 'PX', 1000);
    expect(await redis.runScript(luaScripts.compareAndPexpire, [key as string], ['other', 60_000])).toBe(0);
    expect(await redis.client.pttl(key as string)).toBeLessThanOrEqual(1000);
    expect(await redis.runScript(luaScripts.compareAndPexpire, [key as string], ['mine', 60_000])).toBe(1);
    expect(await redis.client.pttl(key as string)).toBeGreaterThan(1000);
    await redis.client.del(key as string);
  });

  it('refuses a wrong number of keys, and maps a failing script to ScriptError', async () => {
    const redis = client();
    await expect(redis.runScript(luaScripts.compareAndDelete, [], [])).rejects.toBeInstanceOf(ScriptError);
    const broken = defineScript('broken', "return redis.call('NOSUCHCOMMAND')", 0);
    await expect(redis.runScript(broken, [])).rejects.toBeInstanceOf(ScriptError);
  });
});
