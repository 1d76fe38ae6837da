/**
 * The script registry: Lua run by EVALSHA, falling back to EVAL when the
 * server does not have the script (after a restart, a failover or SCRIPT
 * FLUSH), with every key declared so Cluster can route it.
 */
import { createHash } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import { sendWithin, type TimeBudget } from './budget.js';
import { ScriptError } from './errors.js';

/** A Lua script: its source, number of keys and SHA-1. */
export interface LuaScript {
  readonly name: string;
  readonly numberOfKeys: number;
  readonly source: string;
  readonly sha1: string;
  /** The header comment (keys, args, reply). */
  readonly header?: string;
}

/** Defines a script from source (scripts of other packages, or ad-hoc ones). */
export function defineScript(name: string, source: string, numberOfKeys: number): LuaScript {
  if (!Number.isInteger(numberOfKeys) || numberOfKeys < 0) {
    throw new ScriptError(`Script ${name}: numberOfKeys must be a non-negative integer; got ${numberOfKeys}`);
  }
  return Object.freeze({ name, numberOfKeys, source, sha1: createHash('sha1').update(source).digest('hex') });
}

/** Arguments a script accepts. */
export type ScriptArg = string | number | Buffer;

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * Runs `script` with `keys` and `args`: EVALSHA first, EVAL on NOSCRIPT.
 * Throws `ScriptError` for a wrong number of keys, or (on Cluster) keys that
 * span slots; Redis errors are passed on for the caller to map. `budget`
 * bounds the EVAL sent after a NOSCRIPT (the EVALSHA is sent synchronously,
 * inside the caller's scope).
 */
export async function runScript(
  client: Redis | Cluster,
  script: LuaScript,
  keys: readonly string[],
  args: readonly ScriptArg[] = [],
  options: { buffers?: boolean } = {},
  budget?: TimeBudget,
): Promise<unknown> {
  if (keys.length !== script.numberOfKeys) {
    throw new ScriptError(`Script ${script.name} takes ${script.numberOfKeys} key(s); got ${keys.length}`, {
      context: { script: script.name },
    });
  }
  if ((client as Cluster).isCluster && keys.length > 1 && calculateSlot.generateMulti([...keys]) === -1) {
    throw new ScriptError(
      `Script ${script.name}: its keys span Cluster slots; build them with one keys.tag() so they share a slot.`,
      { context: { script: script.name } },
    );
  }
  const params = [...keys, ...args];
  try {
    return options.buffers
      ? await client.callBuffer('EVALSHA', script.sha1, keys.length, ...params)
      : await client.evalsha(script.sha1, keys.length, ...params);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    // EVAL also caches the script, so the next call's EVALSHA finds it. Sent after an
    // await, so the call's budget is made current again for it.
    return await sendWithin(budget, () =>
      options.buffers
        ? client.callBuffer('EVAL', script.source, keys.length, ...params)
        : client.eval(script.source, keys.length, ...params),
    );
  }
}
