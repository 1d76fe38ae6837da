/**
 * The read path: the memory tier, then one GET, judged (fresh, stale within
 * grace, a miss, or an error), and the memory tier filled from what Redis
 * returned. A Redis hit is one GET and a synchronous judgement unless the
 * entry has tags to check against their invalidation times.
 *
 * Times are on the cache's clock (the Redis server's, estimated locally), so
 * instances with skewed local clocks agree on what is fresh.
 */
import { encodeKeyPart, KeyError, StratacacheError } from '@stratacache/core-client';
import type { Verdict } from '@stratacache/invalidation';
import { decodeEntry, EntryKind, type RawEntry } from '../entry.js';
import { CachedFactoryError } from '../errors.js';
import type { MemoryEntry } from '../memory-tier.js';
import type { ResolvedEntryOptions } from '../options.js';
import type { RedisReader } from './read-batch.js';
import { handOut, KEY_SLOTS, type NamespaceState } from './state.js';

/** A value read from Redis (or not). */
export interface Found {
  state: 'fresh' | 'stale' | 'miss' | 'error';
  /** The entry (fresh, or stale within grace). */
  entry?: MemoryEntry;
  /**
   * What Redis held (`null` for nothing): a load passes it to its write-back,
   * which compares its header (first 28 bytes) and is refused if the key changed since.
   */
  seen?: Buffer | null;
  error?: unknown;
}

const NEEDS_ENCODING = /[%:{}]/;
/** A lone surrogate: two such ids would be one Redis key once encoded as UTF-8. */
const LONE_SURROGATE = /\p{Cs}/u;
/** `String.prototype.isWellFormed` (Node 20): a native scan, cheaper than the Unicode-property regex. */
const nativeWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;
/** An empty key. */
export const MISS: Found = Object.freeze({ state: 'miss', seen: null }) as Found;

/**
 * The Redis key of `key`, also the memory tier's key. Throws `KeyError` for a
 * key Redis cannot hold distinctly.
 *
 * A key read again soon (a hot key, a repeated query's) is answered from a
 * small direct-mapped memo: no checks, no escaping, and the same `rk` string
 * each time, whose hash V8 keeps, so the maps it is looked up in next
 * (in-flight loads, tag and key times) need not hash it again. The slot is
 * picked by length and last character, with no hash of the key itself.
 */
export function redisKey(ns: NamespaceState, key: string): string {
  const recent = ns.recentKeys;
  const slot =
    typeof key === 'string' && key.length > 0
      ? ((key.length + key.charCodeAt(key.length - 1)) & (KEY_SLOTS - 1)) << 1
      : -1;
  if (slot >= 0 && recent[slot] === key) return recent[slot + 1] as string;
  const rk = checkedRedisKey(ns, key);
  recent[slot] = key;
  recent[slot + 1] = rk;
  return rk;
}

function checkedRedisKey(ns: NamespaceState, key: string): string {
  if (typeof key !== 'string' || key.length === 0)
    throw new KeyError(`A cache key must be a non-empty string; got ${JSON.stringify(key)}`);
  if (nativeWellFormed ? !nativeWellFormed.call(key) : LONE_SURROGATE.test(key))
    throw new KeyError(
      `A cache key must be well-formed UTF-16 (it holds a lone surrogate, which UTF-8 cannot keep apart from others); got ${JSON.stringify(key)}`,
    );
  const rk = ns.head + (NEEDS_ENCODING.test(key) ? encodeKeyPart(key) : key);
  if (rk.length * 3 > ns.maxKeyLength && Buffer.byteLength(rk) > ns.maxKeyLength)
    throw new KeyError(`Key of ${Buffer.byteLength(rk)} bytes is over maxKeyLength (${ns.maxKeyLength})`, {
      context: { length: Buffer.byteLength(rk) },
    });
  return rk;
}

/** The memory entry of `rk` when it is fresh (no Redis read needed), else undefined. */
export function memoryFresh(ns: NamespaceState, rk: string): MemoryEntry | undefined {
  const entry = ns.ctx.memory?.get(rk);
  return entry !== undefined && entry.checkAt > ns.ctx.clock.now() ? entry : undefined;
}

/** A memory hit, counted and published; a cached error rejects. */
export function memoryHit(ns: NamespaceState, key: string, entry: MemoryEntry): Promise<unknown> {
  ns.telemetry.hit(key, 'memory');
  return served(ns, entry);
}

/** What a caller gets from an entry: its value (a copy with `clone`), or the cached error. */
export function served(ns: NamespaceState, entry: MemoryEntry): Promise<unknown> {
  if (entry.kind === EntryKind.error) return Promise.reject(cachedError(entry.value));
  return Promise.resolve(handOut(ns, entry.value));
}

/** The Redis half of `get`: one promise step after the read on the hit path (each async layer costs a tick). */
export function getFromRedis(
  ns: NamespaceState,
  key: string,
  rk: string,
  opts: ResolvedEntryOptions,
): Promise<unknown> {
  if (ns.ctx.memory) ns.telemetry.miss(key, 'memory');
  const reads = ns.ctx.reads;
  if (!reads) return Promise.resolve(undefined);
  const mark = ns.ctx.coherence.mark();
  return reads.get(rk).then(
    (buf) => {
      const found = judged(ns, key, rk, buf, opts, mark, true);
      return found instanceof Promise
        ? found.then((f) => gotten(ns, key, rk, f, opts))
        : gotten(ns, key, rk, found, opts);
    },
    (error: unknown) => fallback(ns, key, rk, error, opts, 'get'),
  );
}

/** What `get` answers for a judged read. */
function gotten(ns: NamespaceState, key: string, rk: string, found: Found, opts: ResolvedEntryOptions): unknown {
  if (found.state === 'fresh') {
    const entry = found.entry as MemoryEntry;
    if (entry.kind === EntryKind.error) throw cachedError(entry.value);
    return handOut(ns, entry.value);
  }
  if (found.state === 'error') return fallback(ns, key, rk, found.error, opts, 'get');
  return undefined;
}

/**
 * With Redis failing: a memory entry still fresh by its own expiry is served;
 * else undefined, or the error with `throwErrors`. A Redis refusal (not an
 * outage) always reaches the caller.
 */
export function fallback(
  ns: NamespaceState,
  key: string,
  rk: string,
  error: unknown,
  opts: ResolvedEntryOptions,
  operation: string,
): unknown {
  ns.telemetry.failed(operation, key, error);
  if (!isOutage(error)) throw error;
  const entry = ns.ctx.memory?.peek(rk);
  if (entry && entry.kind === EntryKind.value && entry.expiresAt > ns.ctx.clock.now()) return handOut(ns, entry.value);
  if (opts.throwErrors) throw error;
  return undefined;
}

/**
 * Redis could not be used (unreachable, timed out, the breaker open, the
 * client closed): the caching layers degrade. Any other error (Redis
 * answered with a refusal, a script failed) is a fault the caller must see.
 */
export function isOutage(error: unknown): boolean {
  if (!StratacacheError.isInstance(error)) return false;
  const code = error.code;
  return code === 'E_CONNECTION' || code === 'E_TIMEOUT' || code === 'E_CIRCUIT_OPEN' || code === 'E_CLOSED';
}

/**
 * One read of `rk` (a GET, or a share of this tick's MGET), judged.
 * `counted` is false for the re-reads of a load waiting on another
 * process's lock: they are not lookups, so they are not counted.
 */
export function readRedis(
  ns: NamespaceState,
  key: string,
  rk: string,
  opts: ResolvedEntryOptions,
  counted: boolean,
): Promise<Found> {
  const mark = ns.ctx.coherence.mark();
  return (ns.ctx.reads as RedisReader).get(rk).then(
    (buf) => judged(ns, key, rk, buf, opts, mark, counted),
    (error: unknown): Found => ({ state: 'error', error }),
  );
}

/** `judge`, once the clock has its first sample. */
function judged(
  ns: NamespaceState,
  key: string,
  rk: string,
  buf: Buffer | null,
  opts: ResolvedEntryOptions,
  mark: number,
  counted: boolean,
): Found | Promise<Found> {
  return ns.ctx.clock.synced
    ? judge(ns, key, rk, buf, opts, mark, counted)
    : judgeOnceSynced(ns, key, rk, buf, opts, mark, counted);
}

/**
 * The first reads of a new client wait for its first clock sample (one TIME,
 * taken when the connection became ready): judging by this process's own
 * clock could call an entry expired that every other instance calls fresh.
 */
async function judgeOnceSynced(...args: Parameters<typeof judge>): Promise<Found> {
  await args[0].ctx.clock.ready().catch(() => {}); // Redis answered the GET; if TIME fails, the local clock it is
  return judge(...args);
}

/** Reads `keys`: memory hits first, the rest in one batched Redis read. Counts one lookup per key and tier. */
export async function lookupMany(
  ns: NamespaceState,
  keys: readonly string[],
  opts: ResolvedEntryOptions,
): Promise<{ values: unknown[]; found: (Found | undefined)[]; rks: string[] }> {
  const values: unknown[] = new Array(keys.length).fill(undefined);
  const found: (Found | undefined)[] = new Array(keys.length).fill(undefined);
  const { memory, clock, redis } = ns.ctx;
  const now = clock.now();
  const rest: number[] = [];
  const rks = keys.map((key) => redisKey(ns, key));
  for (let i = 0; i < keys.length; i++) {
    const rk = rks[i] as string;
    const entry = memory?.get(rk);
    if (entry !== undefined && entry.checkAt > now && entry.kind === EntryKind.value) {
      ns.telemetry.hit(keys[i] as string, 'memory');
      values[i] = handOut(ns, entry.value);
    } else {
      if (memory) ns.telemetry.miss(keys[i] as string, 'memory');
      rest.push(i);
      found[i] = entry && entry.staleUntil > now ? { state: 'stale', entry } : MISS;
    }
  }
  if (rest.length === 0 || !redis) return { values, found, rks };
  const mark = ns.ctx.coherence.mark();
  let bufs: (Buffer | null)[];
  try {
    bufs = await redis.getMany(rest.map((i) => rks[i] as string));
  } catch (error) {
    for (const i of rest) {
      const entry = found[i]?.entry;
      found[i] = { state: 'error', error, ...(entry ? { entry } : {}) };
    }
    return { values, found, rks };
  }
  if (!clock.synced) await clock.ready().catch(() => {});
  const place = (i: number, f: Found) => {
    if (f.state === 'fresh') values[i] = handOut(ns, f.entry?.value);
    // A stale value found in memory still serves grace when Redis has nothing better.
    const memoryStale = found[i]?.entry;
    found[i] = f.state === 'miss' && memoryStale ? { state: 'stale', entry: memoryStale, seen: f.seen ?? null } : f;
  };
  // Judged synchronously; only entries with tags to check against their invalidation times wait.
  const tagged: Promise<void>[] = [];
  for (let j = 0; j < rest.length; j++) {
    const i = rest[j] as number;
    const f = judge(ns, keys[i] as string, rks[i] as string, bufs[j] ?? null, opts, mark, true);
    if (f instanceof Promise) tagged.push(f.then((x) => place(i, x)));
    else place(i, f);
  }
  if (tagged.length > 0) await Promise.all(tagged);
  return { values, found, rks };
}

/** Turns the bytes of a GET into a judged entry; synchronous unless the entry has tags to check. */
export function judge(
  ns: NamespaceState,
  key: string,
  rk: string,
  buf: Buffer | null,
  opts: ResolvedEntryOptions,
  mark: number,
  counted: boolean,
): Found | Promise<Found> {
  const raw = buf === null ? null : decodeEntry(buf);
  if (raw === null || raw.kind === EntryKind.tombstone) return redisMiss(ns, key, counted, buf);
  if (raw.tags.length > 0 && ns.invalidator) {
    const stamp = { key: rk, writtenAt: raw.writtenAt, tags: raw.tags };
    // The tags' times are usually held in process (the bus keeps them current): judged without a tick.
    const known = ns.invalidator.judgeCached(stamp);
    if (known !== undefined) return judgedBy(ns, key, rk, buf as Buffer, raw, known, opts, mark, counted);
    return ns.invalidator
      .judge(stamp)
      .then((verdict) => judgedBy(ns, key, rk, buf as Buffer, raw, verdict, opts, mark, counted));
  }
  return accept(ns, key, rk, buf as Buffer, raw, raw.expiresAt, opts, mark, counted);
}

/** A tagged entry under its invalidator's verdict: a miss when deleted, only stale when expired. */
function judgedBy(
  ns: NamespaceState,
  key: string,
  rk: string,
  buf: Buffer,
  raw: RawEntry,
  verdict: Verdict,
  opts: ResolvedEntryOptions,
  mark: number,
  counted: boolean,
): Found {
  if (verdict === 'deleted') return redisMiss(ns, key, counted, buf);
  const expiresAt = verdict === 'stale' ? Math.min(raw.expiresAt, ns.ctx.clock.now()) : raw.expiresAt;
  return accept(ns, key, rk, buf, raw, expiresAt, opts, mark, counted);
}

/** Decodes a judged value entry, keeps it in memory, and says whether it is fresh or only stale. */
function accept(
  ns: NamespaceState,
  key: string,
  rk: string,
  buf: Buffer,
  raw: RawEntry,
  expiresAt: number,
  opts: ResolvedEntryOptions,
  mark: number,
  counted: boolean,
): Found {
  const { memory, clock, serializer, coherence } = ns.ctx;
  // The upper bound: an entry another instance expired "now" (its lower bound) is never judged fresh here.
  const now = clock.upper();
  let value: unknown;
  try {
    value = raw.isUndefined ? undefined : serializer.decode(raw.payload);
  } catch (error) {
    // A value nobody can decode is a miss: the next write replaces it.
    ns.telemetry.failed('decode', key, error);
    return redisMiss(ns, key, counted, buf);
  }
  const entry: MemoryEntry = {
    value,
    kind: raw.kind,
    writtenAt: raw.writtenAt,
    expiresAt,
    checkAt: checkAtOf(ns, expiresAt, now),
    staleUntil: expiresAt + opts.graceMs,
    ttlMs: raw.expiresAt - raw.writtenAt,
    tags: raw.tags,
    version: raw.version,
    size: buf.length,
  };
  const fresh = expiresAt > now;
  // Not when an invalidation of this key came in while the GET was out: Redis may already hold something else.
  if (memory && entry.staleUntil > now && !coherence.touchedSince(rk, mark)) memory.set(rk, entry);
  if (!fresh) {
    if (counted) ns.telemetry.miss(key, 'redis');
    return { state: 'stale', entry, seen: buf };
  }
  if (counted) ns.telemetry.hit(key, 'redis');
  return { state: 'fresh', entry, seen: buf };
}

function redisMiss(ns: NamespaceState, key: string, counted: boolean, buf: Buffer | null): Found {
  if (counted) ns.telemetry.miss(key, 'redis');
  return buf === null ? MISS : { state: 'miss', seen: buf };
}

/** When a memory entry stops being trusted without reading Redis: its expiry, or sooner with `memory.ttl`. */
export function checkAtOf(ns: NamespaceState, expiresAt: number, now: number): number {
  const memoryTtl = ns.ctx.memoryTtlMs;
  return memoryTtl > 0 ? Math.min(expiresAt, now + memoryTtl) : expiresAt;
}

/** The error a hit on a cached factory failure throws. */
export function cachedError(value: unknown): CachedFactoryError {
  const v = (value ?? {}) as { name?: string; message?: string };
  return new CachedFactoryError(`Cached factory failure: ${v.name ?? 'Error'}: ${v.message ?? ''}`, {
    context: { name: v.name, message: v.message },
  });
}
