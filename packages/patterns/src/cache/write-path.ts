/**
 * The write path: `set`, a load's guarded write-back, deletes (tombstones), `expire`,
 * and the broadcast that makes every instance drop its memory copy.
 *
 * The guard (the stale-set race): a load reads its key before calling the
 * factory; its write-back runs a script that refuses it when the key no
 * longer holds what the load saw (any set, delete, other load, expire or
 * touch since: an exact compare-and-set on the entry header), or when a
 * namespace (clear, prefix, pattern) or tag invalidation marker is as recent
 * as the load's start (Redis clock). Every invalidation writes its marker
 * before it reads or unlinks the keys it covers, so a write-back either sees
 * the marker or lands before the keys are read and is removed with them. On
 * Cluster the markers live in other slots: the script checks the key, and
 * the markers are read right after the write, which is taken back if one is
 * as recent as the load.
 */
import { defineScript, type LuaScript, type StrataRedis } from '@stratacache/core-client';
import { decodeEntry, ENTRY_HEADER, EntryKind, encodeEntry, encodeTombstone } from '../entry.js';
import { luaScripts } from '../lua.generated.js';
import type { MemoryEntry } from '../memory-tier.js';
import type { ResolvedEntryOptions } from '../options.js';
import { checkAtOf, isOutage } from './read-path.js';
import type { NamespaceState } from './state.js';
import type { RefusedReason } from './telemetry.js';

/** One write to both tiers. */
export interface WriteRequest {
  /** The key as the caller gave it (for events). */
  key: string;
  /** Its Redis (and memory) key. */
  rk: string;
  value: unknown;
  /** `EntryKind.value` or `EntryKind.error` (a cached factory failure). */
  kind: number;
  ttlMs: number;
  tags: readonly string[];
  /** 0 when unversioned. */
  version: number;
  opts: ResolvedEntryOptions;
  /**
   * A load's write-back: when the load began (Redis clock, a lower bound)
   * and the header of what the key held then (`null`: nothing). The write is
   * refused when the key changed or an invalidation marker is as recent.
   */
  load?: LoadStamp;
  /** Wait until the broadcast reached Redis (strict consistency). */
  awaitBroadcast?: boolean;
  /** Redis just failed for this verb: keep the value in memory only, without another command timeout. */
  skipRedis?: boolean;
}

/** When a load began and what it saw in its key. */
export interface LoadStamp {
  started: number;
  /** What the key held (`null`: nothing); the write-back compares its header. */
  seen: Buffer | null;
  /** The channel to announce the write on: the load holds the stampede lock and others may wait for it. */
  announce?: string;
}

/** What a write did: the bytes written to Redis, `refused`, or `none` (no Redis tier, or Redis failed). */
export type WriteOutcome = { kind: 'written'; bytes: Buffer } | { kind: 'refused' } | { kind: 'none' };

const REFUSALS: Record<number, RefusedReason> = { 0: 'invalidated', [-1]: 'older-version', [-2]: 'too-old' };

/**
 * Writes an entry: Redis first (guarded for loads and versioned writes), then
 * the broadcast, then memory, unless an invalidation of the key came in
 * while the Redis write was out. Encoding errors always throw; a Redis
 * outage throws only with `throwErrors`; a Redis refusal always throws.
 */
export async function store(ns: NamespaceState, req: WriteRequest): Promise<WriteOutcome> {
  const { redis, clock, memory, coherence } = ns.ctx;
  const { opts } = req;
  const ttl =
    opts.jitter > 0 ? Math.max(1, Math.round(req.ttlMs * (1 + (Math.random() * 2 - 1) * opts.jitter))) : req.ttlMs;
  let payload: Buffer | undefined;
  try {
    payload = req.value === undefined ? undefined : ns.ctx.serializer.encode(req.value);
  } catch (error) {
    // A value the serializer cannot encode is a bug to fix, not an outage to ride out.
    ns.telemetry.failed('encode', req.key, error);
    throw error;
  }
  let outcome: WriteOutcome = { kind: 'none' };
  const mark = coherence.mark();
  let now = clock.now();
  let asOf = req.load?.started ?? clock.lower();
  if (redis && !req.skipRedis) {
    try {
      // Stamps must be on the Redis clock: the first write of a fresh client waits for its first sample.
      if (!clock.synced) {
        await clock.ready();
        now = clock.now();
        asOf = req.load?.started ?? clock.lower();
      }
      const bytes = encodeEntry(req.kind, payload, asOf, now + ttl, req.version, req.tags);
      const px = ttl + opts.graceMs;
      const reply = await writeRedis(ns, redis, req, bytes, px);
      if (reply !== 1) {
        ns.telemetry.refused(req.key, REFUSALS[reply] ?? 'invalidated');
        return { kind: 'refused' };
      }
      if (req.load !== undefined && ns.ctx.cluster && (await racedMarker(ns, redis, req.load.started, req.tags))) {
        await redis.runScript(luaScripts.deleteIfSame, [req.rk], [bytes]);
        ns.telemetry.refused(req.key, 'invalidated');
        await broadcast(ns, 'dk', [req.rk], false);
        return { kind: 'refused' };
      }
      // Eager tags: one command per tag set, each to its own master on Cluster.
      if (req.tags.length > 0 && ns.invalidator?.tagMode === 'eager')
        await ns.invalidator.addTags(req.rk, req.tags, px);
      outcome = { kind: 'written', bytes };
    } catch (error) {
      ns.telemetry.failed('set', req.key, error);
      if (opts.throwErrors || !isOutage(error)) throw error;
    }
  }
  const expiresAt = now + ttl;
  // Decided before our own broadcast is dispatched (synchronously, below), so only others' messages count.
  const mayFillMemory = memory !== undefined && !coherence.touchedSince(req.rk, mark);
  ns.telemetry.set(req.key);
  const sent = broadcast(ns, 'dk', [req.rk], req.awaitBroadcast ?? false);
  if (mayFillMemory) {
    const entry: MemoryEntry = {
      value: ns.ctx.clone && req.kind === EntryKind.value ? structuredClone(req.value) : req.value,
      kind: req.kind,
      writtenAt: asOf,
      expiresAt,
      checkAt: checkAtOf(ns, expiresAt, now),
      staleUntil: expiresAt + opts.graceMs,
      ttlMs: ttl,
      tags: req.tags,
      version: req.version,
      size: outcome.kind === 'written' ? outcome.bytes.length : (payload?.length ?? 16),
    };
    memory.set(req.rk, entry);
  }
  await sent;
  return outcome;
}

/** The Redis write: a plain SET, or the guard script for loads and versioned writes. Resolves the script's reply. */
async function writeRedis(
  ns: NamespaceState,
  redis: StrataRedis,
  req: WriteRequest,
  bytes: Buffer,
  px: number,
): Promise<number> {
  const load = req.load;
  if (load === undefined && req.version === 0) {
    await redis.run('set', (c) => c.set(req.rk, bytes, 'PX', px));
    return 1;
  }
  const keys = [req.rk];
  // Markers live in other slots: on Cluster they are read after the write instead (racedMarker).
  if (load !== undefined && !ns.ctx.cluster && ns.invalidator) {
    keys.push(ns.invalidator.namespaceTimeKey());
    for (const tag of req.tags) keys.push(...ns.invalidator.tagTimeKeys(tag));
  }
  const args = [
    bytes,
    px,
    load?.started ?? 0,
    req.version,
    ns.ctx.tombstoneMs,
    header(load?.seen ?? null),
    load?.announce ?? '',
  ];
  return Number(await redis.runScript(writeBackScript(keys.length), keys, args));
}

/** The part of what a load saw that its write-back compares: the entry's header, '' for an empty key. */
function header(seen: Buffer | null): Buffer | string {
  if (seen === null) return '';
  return seen.length > ENTRY_HEADER ? seen.subarray(0, ENTRY_HEADER) : seen;
}

/** On Cluster, after a write-back: was the namespace or one of its tags invalidated since the load began? */
async function racedMarker(
  ns: NamespaceState,
  redis: StrataRedis,
  started: number,
  tags: readonly string[],
): Promise<boolean> {
  const inv = ns.invalidator;
  if (!inv) return false;
  const markers = [inv.namespaceTimeKey(), ...tags.flatMap((tag) => inv.tagTimeKeys(tag))];
  const times = await redis.getMany(markers);
  return times.some((t) => t !== null && Number(t.toString()) >= started);
}

const variants = new Map<number, LuaScript>();

/** The write-back script declared for `n` keys (the entry, then markers). */
function writeBackScript(n: number): LuaScript {
  if (n === luaScripts.writeBack.numberOfKeys) return luaScripts.writeBack;
  let script = variants.get(n);
  if (!script) {
    script = defineScript(luaScripts.writeBack.name, luaScripts.writeBack.source, n);
    variants.set(n, script);
  }
  return script;
}

/**
 * Deletes `rks` in both tiers and on every instance. Each becomes a tombstone
 * as of now (Redis clock), so a load that began before cannot write back.
 * Resolves how many held a value.
 */
export async function deleteKeys(
  ns: NamespaceState,
  keys: readonly string[],
  rks: readonly string[],
  throwErrors: boolean,
): Promise<number> {
  const { memory, redis, clock } = ns.ctx;
  let existed = 0;
  if (memory) for (const rk of rks) if (memory.delete(rk)) existed++;
  if (redis) {
    try {
      if (!clock.synced) await clock.ready();
      const ttl = ns.ctx.tombstoneMs;
      const tombstone = encodeTombstone(clock.upper(), ttl);
      const olds = await redis.run('set', (c) =>
        Promise.all(rks.map((rk) => c.callBuffer('SET', rk, tombstone, 'PX', String(ttl), 'GET'))),
      );
      existed = 0;
      for (const old of olds) if (Buffer.isBuffer(old) && decodeEntry(old)?.kind === EntryKind.value) existed++;
    } catch (error) {
      ns.telemetry.failed('delete', keys[0] as string, error);
      if (throwErrors || !isOutage(error)) throw error;
    }
  }
  ns.telemetry.deleted(keys);
  await broadcast(ns, 'dk', [...rks], false);
  return existed;
}

/** Tells every instance (and, through local dispatch, this one's memory). */
export async function broadcast(
  ns: NamespaceState,
  op: 'dk' | 'ek' | 'dp' | 'dt' | 'et' | 'c',
  items: string[] | null,
  wait: boolean,
  at?: number,
): Promise<void> {
  const bus = ns.ctx.bus;
  if (!bus) {
    // Nobody dispatches it back to this process: record it here (memory is handled by the caller).
    if (op === 'dk' || op === 'ek') ns.ctx.coherence.keysInvalidated(items ?? []);
    else ns.ctx.coherence.wideInvalidation();
    return;
  }
  const sent = bus.publish(op, ns.name, items, at);
  if (wait) await sent;
}

/**
 * `expire` with a grace period: the entry stays for grace readers but is
 * stale from now, in memory and in Redis (a retime script that also blocks
 * older loads' write-backs), and every instance marks its copy stale.
 * Resolves whether there was a value.
 */
export async function expireKey(
  ns: NamespaceState,
  key: string,
  rk: string,
  opts: ResolvedEntryOptions,
): Promise<boolean> {
  const { clock, memory, redis } = ns.ctx;
  let changed = false;
  const local = memory?.peek(rk);
  if (local) {
    const now = clock.now();
    if (local.expiresAt > now) local.expiresAt = now;
    if (local.checkAt > now) local.checkAt = now;
    local.staleUntil = Math.min(local.staleUntil, now + opts.graceMs);
    changed = true;
  }
  if (redis) {
    try {
      if (!clock.synced) await clock.ready();
      // Stale from now: the lower bound, so no reader's clock can still call it fresh.
      const at = clock.lower();
      const tombstone = encodeTombstone(at, ns.ctx.tombstoneMs);
      const args = [at, opts.graceMs, '1', '1', tombstone, ns.ctx.tombstoneMs];
      changed = (await redis.runScript(luaScripts.retime, [rk], args)) === 1 || changed;
    } catch (error) {
      ns.telemetry.failed('expire', key, error);
      if (opts.throwErrors || !isOutage(error)) throw error;
    }
  }
  // Time 0: the entry was patched in place, so no instance may judge entries by this expire's time
  // (a load that began after it and wrote back is current); memory tiers mark their copies stale now.
  await broadcast(ns, 'ek', [rk], false, 0);
  return changed;
}
