/**
 * `getOrSetMany`: one batched lookup, then one loader call for the keys no
 * tier had and nobody else is loading; keys in flight are awaited. Each
 * loaded value is written back guarded, like a `getOrSet` result.
 */
import { EntryKind } from '../entry.js';
import type { ResolvedEntryOptions } from '../options.js';
import { joinable } from './load-path.js';
import { isOutage, lookupMany } from './read-path.js';
import { handOut, type NamespaceState } from './state.js';
import { store } from './write-path.js';

/**
 * What `getOrSetMany`'s loader returns for the keys it was given: a Map, a
 * plain object, or an array aligned with the keys. Keys left out are
 * `undefined` (not cached unless `cacheUndefined`).
 */
export type ManyResult<T> = Map<string, T> | Record<string, T> | readonly T[];

const noop = () => {};

/** The values of `keys`, loading the misses with one `loader` call. */
export async function getOrSetMany<V>(
  ns: NamespaceState,
  keys: readonly string[],
  loader: (missing: string[]) => Promise<ManyResult<V>> | ManyResult<V>,
  opts: ResolvedEntryOptions,
): Promise<V[]> {
  const { values, found, rks } = await lookupMany(ns, keys, opts);
  const waits: Promise<void>[] = [];
  const missing: number[] = [];
  let redisUp = ns.ctx.redis !== undefined;
  for (let i = 0; i < keys.length; i++) {
    const f = found[i];
    if (f === undefined || f.state === 'fresh') continue;
    if (f.state === 'error') {
      ns.telemetry.failed('getMany', keys[i] as string, f.error);
      if (opts.throwErrors || !isOutage(f.error)) throw f.error;
      redisUp = false;
    }
    const flight = joinable(ns, rks[i] as string);
    if (flight) {
      waits.push(
        flight.result.then((v) => {
          values[i] = v;
        }),
      );
    } else if (!missing.some((j) => keys[j] === keys[i])) {
      missing.push(i);
    }
  }
  if (missing.length > 0) await loadMissing(ns, keys, rks, missing, values, found, loader, opts, redisUp);
  await Promise.all(waits);
  return values as V[];
}

async function loadMissing<V>(
  ns: NamespaceState,
  keys: readonly string[],
  rks: readonly string[],
  missing: number[],
  values: unknown[],
  found: Awaited<ReturnType<typeof lookupMany>>['found'],
  loader: (missing: string[]) => Promise<ManyResult<V>> | ManyResult<V>,
  opts: ResolvedEntryOptions,
  redisUp: boolean,
): Promise<void> {
  const { clock } = ns.ctx;
  const missingKeys = missing.map((i) => keys[i] as string);
  if (redisUp && !clock.synced)
    redisUp = await clock.ready().then(
      () => true,
      () => false,
    );
  // When the source read begins, on the Redis clock (see the write-back guard).
  const started = redisUp ? clock.lower() : undefined;
  const batch = (async () => {
    ns.telemetry.factoryStarted();
    const result = await loader(missingKeys);
    return missingKeys.map((k, j) => pick(result, k, j));
  })();
  // Each missing key is in flight, so a getOrSet of one of them joins this batch.
  const mark = ns.ctx.coherence.mark();
  const flights = missing.map((i, j) => {
    const result = batch.then((list) => list[j]);
    result.catch(noop);
    const flight = { result, mark };
    ns.inflight.set(rks[i] as string, flight);
    return flight;
  });
  const t0 = performance.now();
  try {
    let loaded: (V | undefined)[];
    try {
      loaded = await batch;
      ns.telemetry.factoryEnded(missingKeys[0] as string, performance.now() - t0, true);
    } catch (error) {
      ns.telemetry.factoryEnded(missingKeys[0] as string, performance.now() - t0, false);
      // Serve what grace allows; without a stale value for every failed key the call fails.
      const now = clock.now();
      for (const i of missing) {
        const stale = found[i]?.entry;
        if (!stale || stale.kind !== EntryKind.value || stale.staleUntil <= now) throw error;
        ns.telemetry.stale(keys[i] as string, 'factory-error');
        values[i] = handOut(ns, stale.value);
      }
      return;
    }
    await Promise.all(
      missing.map(async (i, j) => {
        const value = loaded[j];
        values[i] = value;
        if (value === undefined && opts.cacheUndefinedMs === 0) return;
        const ttlMs = value === undefined && opts.cacheUndefinedMs > 0 ? opts.cacheUndefinedMs : opts.ttlMs;
        await store(ns, {
          key: keys[i] as string,
          rk: rks[i] as string,
          value,
          kind: EntryKind.value,
          ttlMs,
          tags: opts.tags,
          version: 0,
          opts,
          ...(started !== undefined ? { load: { started, seen: found[i]?.seen ?? null } } : { skipRedis: true }),
        });
      }),
    );
  } finally {
    missing.forEach((i, j) => {
      if (ns.inflight.get(rks[i] as string) === flights[j]) ns.inflight.delete(rks[i] as string);
    });
  }
}

function pick<T>(result: ManyResult<T>, key: string, index: number): T | undefined {
  if (result instanceof Map) return result.get(key);
  if (Array.isArray(result)) return result[index] as T | undefined;
  return Object.hasOwn(result, key) ? (result as Record<string, T>)[key] : undefined;
}
