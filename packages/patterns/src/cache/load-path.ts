/**
 * The load path of `getOrSet`: single-flight per key in this process, the
 * Redis read, the stampede lock across processes (`lock-wait.ts`: while
 * another process holds it, wait for its value), the factory under soft and hard
 * timeouts, grace / fail-safe with backoff, refresh-ahead, and the guarded
 * write-back of the result.
 *
 * Redis down: the first failing read decides it; the load then runs the
 * factory (or serves stale) without sending Redis another command, so a
 * verb costs at most one command timeout.
 */
import type { LockHandle } from '@stratacache/core-client';
import { EntryKind } from '../entry.js';
import { FactoryTimeoutError } from '../errors.js';
import { type Factory, FactoryCall, waitWithTimeouts } from '../factory.js';
import type { MemoryEntry } from '../memory-tier.js';
import type { ResolvedEntryOptions } from '../options.js';
import { lockOrWait, type Prepared, releaseLock } from './lock-wait.js';
import { cachedError, type Found, isOutage, readRedis, served } from './read-path.js';
import { type Flight, handOut, type NamespaceState } from './state.js';
import { type LoadStamp, store } from './write-path.js';

const noop = () => {};

/** Single-flight: one load per key in this process; joiners share its result. */
export function load<V>(
  ns: NamespaceState,
  key: string,
  rk: string,
  factory: Factory<V>,
  opts: ResolvedEntryOptions,
  force: boolean,
): Promise<V> {
  const joined = joinable(ns, rk);
  if (joined) return joined.result as Promise<V>;
  const flight: Flight = { result: NOT_YET, mark: ns.ctx.coherence.mark() };
  ns.inflight.set(rk, flight);
  const result = begin(ns, key, rk, factory, opts, force, flight);
  flight.result = result;
  return result;
}

const NOT_YET: Promise<unknown> = Promise.resolve();

/** The flight leaves the map (unless a newer one replaced it) and runs what waited for its end. */
function land(ns: NamespaceState, rk: string, flight: Flight): void {
  if (ns.inflight.get(rk) === flight) ns.inflight.delete(rk);
  flight.afterwards?.();
}

/**
 * The start of a load: a stale value in backoff, then the Redis read (counted
 * as the lookup). A fresh hit ends the flight in the same step, with none of
 * the factory's machinery: a getOrSet hit costs one read and one promise step.
 */
function begin<V>(
  ns: NamespaceState,
  key: string,
  rk: string,
  factory: Factory<V>,
  opts: ResolvedEntryOptions,
  force: boolean,
  flight: Flight,
): Promise<V> {
  const { memory, clock } = ns.ctx;
  const now = clock.now();
  if (memory && !force) ns.telemetry.miss(key, 'memory');
  let stale = memory?.peek(rk);
  if (stale && stale.staleUntil <= now) stale = undefined;
  // A recent failure already served this stale value: keep serving it until the backoff ends
  // (a newer write anywhere would have removed it from memory through the bus).
  if (!force && stale && stale.kind === EntryKind.value && stale.retryAt !== undefined && stale.retryAt > now) {
    ns.telemetry.stale(key, 'backoff');
    land(ns, rk, flight);
    return Promise.resolve(handOut(ns, stale.value) as V);
  }
  if (!ns.ctx.reads) {
    if (!force && stale && stale.checkAt > now) {
      land(ns, rk, flight);
      return served(ns, stale) as Promise<V>;
    }
    return loadAfterRead(ns, key, rk, factory, opts, force, flight, undefined, stale);
  }
  return readRedis(ns, key, rk, opts, !force).then((found) => {
    if (found.state === 'fresh' && !force) {
      land(ns, rk, flight);
      const entry = found.entry as MemoryEntry;
      refreshIfDue(ns, key, rk, factory, opts, entry);
      if (entry.kind === EntryKind.error) throw cachedError(entry.value);
      return handOut(ns, entry.value) as V;
    }
    return loadAfterRead(ns, key, rk, factory, opts, force, flight, found, stale);
  });
}

/** A load past its read: the lock, the factory, the write-back. The flight ends when the factory does. */
function loadAfterRead<V>(
  ns: NamespaceState,
  key: string,
  rk: string,
  factory: Factory<V>,
  opts: ResolvedEntryOptions,
  force: boolean,
  flight: Flight,
  found: Found | undefined,
  stale: MemoryEntry | undefined,
): Promise<V> {
  const result = runLoad(ns, key, rk, factory, opts, force, () => land(ns, rk, flight), found, stale);
  // Callers hold `result`; a rejection nobody awaits (a refresh's joiner gone) must not crash the process.
  result.then(noop, noop);
  return result;
}

/**
 * The load of `rk` in flight that a new caller may share: none when this
 * instance heard of an invalidation of the key since it began (its value may
 * predate it; the new caller loads afresh, the old flight still answers its own).
 */
export function joinable(ns: NamespaceState, rk: string): Flight | undefined {
  const flight = ns.inflight.get(rk);
  if (flight === undefined || ns.ctx.coherence.touchedSince(rk, flight.mark)) return undefined;
  return flight;
}

/** Starts one background load when a hit finds less than `refreshAhead` of the TTL left. */
export function refreshIfDue<V>(
  ns: NamespaceState,
  key: string,
  rk: string,
  factory: Factory<V>,
  opts: ResolvedEntryOptions,
  entry: MemoryEntry,
): void {
  if (opts.refreshAhead <= 0 || entry.expiresAt - ns.ctx.clock.now() >= entry.ttlMs * opts.refreshAhead) return;
  const start = () => {
    if (ns.inflight.has(rk)) return;
    ns.telemetry.refreshStarted();
    load(ns, key, rk, factory, opts, true).then(
      () => ns.telemetry.refreshEnded(key, true),
      (error) => {
        ns.telemetry.failed('refresh', key, error);
        ns.telemetry.refreshEnded(key, false);
      },
    );
  };
  // A hit found by a load (a Redis hit inside getOrSet's flight): refresh once that flight has ended.
  const flight = ns.inflight.get(rk);
  if (flight) flight.afterwards = start;
  else queueMicrotask(start);
}

/** The body of one load (the flight). */
async function runLoad<V>(
  ns: NamespaceState,
  key: string,
  rk: string,
  factory: Factory<V>,
  opts: ResolvedEntryOptions,
  force: boolean,
  endFlight: () => void,
  found: Found | undefined,
  memoryStale: MemoryEntry | undefined,
): Promise<V> {
  let background = false;
  let written = false;
  const lock: { handle: LockHandle | null | undefined } = { handle: null };
  try {
    const prepared = await prepare(ns, key, rk, opts, force, lock, found, memoryStale);
    if (prepared.done) return (await prepared.value) as V;
    const { stale, seen } = prepared;
    let { redisUp } = prepared;
    const staleValue = stale && stale.kind === EntryKind.value ? stale : undefined;
    const call = new FactoryCall<V>(key, staleValue?.value as V | undefined);
    const clock = ns.ctx.clock;
    if (redisUp && !clock.synced)
      redisUp = await clock.ready().then(
        () => true,
        () => false,
      );
    // When the source read begins, on the Redis clock, and what the key held: the write-back is refused if
    // the key changed or an invalidation marker is as recent.
    // Holding the stampede lock, the write-back announces itself to the other processes' waiting loads.
    const announce = lock.handle && ns.ctx.landed ? ns.ctx.landed.channel : undefined;
    const stamp: LoadStamp | undefined = redisUp
      ? { started: clock.lower(), seen, ...(announce ? { announce } : {}) }
      : undefined;
    ns.telemetry.factoryStarted();
    const t0 = performance.now();
    const running = (async () => factory(call))();
    const waited = await waitWithTimeouts(running, staleValue ? opts.softMs : 0, opts.hardMs);
    const finish = (ok: boolean) => ns.telemetry.factoryEnded(key, performance.now() - t0, ok);
    if (waited.kind === 'value') {
      finish(true);
      written = await writeBack(ns, key, rk, waited.value, call, opts, stamp);
      return waited.value;
    }
    if (waited.kind === 'error') {
      finish(false);
      return await onFactoryError(ns, key, rk, waited.error, opts, staleValue, stamp);
    }
    // Past a timeout: the factory keeps running and its result is still written (guarded) when it ends.
    ns.telemetry.timeout(key, waited.kind);
    if (waited.kind === 'hard') call.controller.abort(new FactoryTimeoutError(`Factory of '${key}' timed out`));
    background = true;
    const lockHeld = lock.handle;
    lock.handle = null;
    let landed = false;
    void running
      .then(
        async (value) => {
          finish(true);
          landed = await writeBack(ns, key, rk, value, call, opts, stamp);
        },
        (error) => {
          finish(false);
          ns.telemetry.failed('factory', key, error);
        },
      )
      .catch(noop) // a failed background write-back was counted and published by the write path
      .finally(() => {
        if (lockHeld) releaseLock(ns, rk, lockHeld, landed);
        endFlight();
      });
    if (staleValue) {
      ns.telemetry.stale(key, 'factory-timeout');
      return handOut(ns, staleValue.value) as V;
    }
    throw new FactoryTimeoutError(`Factory of '${key}' ran past its hard timeout of ${opts.hardMs} ms`, {
      context: { key, timeoutMs: opts.hardMs },
    });
  } finally {
    if (lock.handle) releaseLock(ns, rk, lock.handle, written);
    if (!background) endFlight();
  }
}

/**
 * Between the first read and the factory: with a lock, the wait for another
 * process's result. `found` is the first read (undefined without a Redis tier).
 */
async function prepare(
  ns: NamespaceState,
  key: string,
  rk: string,
  opts: ResolvedEntryOptions,
  force: boolean,
  lock: { handle: LockHandle | null | undefined },
  found: Found | undefined,
  memoryStale: MemoryEntry | undefined,
): Promise<Prepared> {
  let stale = memoryStale;
  if (found === undefined) return { done: false, stale, redisUp: false, seen: null };
  if (found.state === 'error') {
    ns.telemetry.failed('get', key, found.error);
    if (opts.throwErrors || !isOutage(found.error)) throw found.error;
    return { done: false, stale, redisUp: false, seen: null };
  }
  if (found.entry) stale = found.entry;
  const seen = found.seen ?? null;
  if (!ns.ctx.lock || force) return { done: false, stale, redisUp: true, seen };
  return lockOrWait(ns, key, rk, opts, lock, stale, seen);
}

/** A factory failed: cache the error if asked, serve stale within grace, else throw it. */
async function onFactoryError<V>(
  ns: NamespaceState,
  key: string,
  rk: string,
  error: unknown,
  opts: ResolvedEntryOptions,
  staleValue: MemoryEntry | undefined,
  stamp: LoadStamp | undefined,
): Promise<V> {
  if (opts.cacheErrorsMs > 0) {
    const e = error as Error;
    await store(ns, {
      key,
      rk,
      value: { name: e?.name, message: e?.message },
      kind: EntryKind.error,
      ttlMs: opts.cacheErrorsMs,
      tags: [],
      version: 0,
      opts,
      ...(stamp ? { load: stamp } : { skipRedis: true }),
    }).catch(noop);
  }
  if (staleValue) {
    staleValue.retryAt = ns.ctx.clock.now() + opts.backoffMs;
    const memory = ns.ctx.memory;
    if (memory && !memory.peek(rk)) memory.set(rk, staleValue);
    ns.telemetry.stale(key, 'factory-error');
    return handOut(ns, staleValue.value) as V;
  }
  throw error;
}

/**
 * Writes a factory's result as its context decided, guarded against the
 * stale-set race. With Redis down (the read failed) only memory takes it.
 * Resolves whether Redis took it.
 */
async function writeBack<V>(
  ns: NamespaceState,
  key: string,
  rk: string,
  value: V,
  call: FactoryCall<V>,
  opts: ResolvedEntryOptions,
  stamp: LoadStamp | undefined,
): Promise<boolean> {
  if (call.skipped) return false;
  let ttlMs = call.ttlMs ?? opts.ttlMs;
  if (value === undefined) {
    if (opts.cacheUndefinedMs === 0) return false;
    if (opts.cacheUndefinedMs > 0) ttlMs = opts.cacheUndefinedMs;
  }
  const request = {
    key,
    rk,
    value,
    kind: EntryKind.value,
    ttlMs,
    tags: call.tags ?? opts.tags,
    version: call.version,
    opts,
    // Without a stamp Redis failed for this verb (or there is no Redis tier): memory only.
    ...(stamp ? { load: stamp } : { skipRedis: true }),
  };
  // The caller gets the loaded value even if caching it failed in an outage (counted and published by the
  // write path); a value that cannot be encoded, a Redis refusal, or `throwErrors` reach the caller.
  return (await store(ns, request)).kind === 'written';
}
