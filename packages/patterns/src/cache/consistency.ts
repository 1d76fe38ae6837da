/**
 * The consistency strategies of `set` beyond `'relaxed'`: `'eventual'`
 * reads the write back in the background and drops the local copy if
 * another write won; `'strict'` writes under the lock, waits for the
 * broadcast, reads back and throws `ConsistencyError` if another write won.
 */
import { ConfigError, ConsistencyError } from '@stratacache/core-client';
import { EntryKind } from '../entry.js';
import type { ResolvedEntryOptions } from '../options.js';
import type { NamespaceState } from './state.js';
import { store } from './write-path.js';

const noop = () => {};

/** `set` with `consistency: 'strict'`. */
export async function setStrict(
  ns: NamespaceState,
  key: string,
  rk: string,
  value: unknown,
  opts: ResolvedEntryOptions,
  version: number,
): Promise<boolean> {
  const { lock, redis } = ns.ctx;
  if (!lock || !redis) throw new ConfigError("consistency: 'strict' needs a Redis tier and a lock");
  const handle = await lock.acquire(`patterns:${ns.name}:${key}`, { ttlMs: opts.lockTtlMs, waitMs: opts.lockWaitMs });
  if (!handle)
    throw new ConsistencyError(`Could not take the write lock of '${key}' within ${opts.lockWaitMs} ms`, {
      context: { key },
    });
  try {
    const written = await store(ns, {
      key,
      rk,
      value,
      kind: EntryKind.value,
      ttlMs: opts.ttlMs,
      tags: opts.tags,
      version,
      opts: { ...opts, throwErrors: true },
      awaitBroadcast: true,
    });
    if (written.kind === 'refused') return false;
    const stored = await redis.run('get', (c) => c.getBuffer(rk));
    if (written.kind !== 'written' || !stored?.equals(written.bytes)) {
      ns.ctx.memory?.delete(rk);
      throw new ConsistencyError(`Another write to '${key}' won while writing under the lock`, { context: { key } });
    }
    return true;
  } finally {
    await handle.release().catch(noop);
  }
}

/** `set` with `consistency: 'eventual'`: reads the write back later; if another write won, drops the local copy. */
export async function validateLater(ns: NamespaceState, key: string, rk: string, written: Buffer): Promise<void> {
  const redis = ns.ctx.redis;
  if (!redis) return;
  await new Promise((resolve) => setImmediate(resolve));
  try {
    const stored = await redis.run('get', (c) => c.getBuffer(rk));
    if (!stored?.equals(written)) ns.ctx.memory?.delete(rk);
  } catch (error) {
    ns.telemetry.failed('validate', key, error);
    ns.ctx.memory?.delete(rk);
  }
}
