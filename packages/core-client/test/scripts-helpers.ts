/** Re-exports for the script tests, and unique keys in a test namespace. */
import { randomBytes } from 'node:crypto';

export { defineScript, luaScripts, ScriptError } from '../src/index.js';

/** `n` keys no other test uses. */
export function uniqueKeys(n: number): string[] {
  const base = `t.scripts.${randomBytes(6).toString('hex')}`;
  return Array.from({ length: n }, (_, i) => `${base}:${i}`);
}
