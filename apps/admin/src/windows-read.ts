/**
 * What the windows view reads of `@stratacache/streams`' windowed aggregates.
 * Windows themselves are read through the package's public reader
 * (`createWindowReader`: `recent`, `window`, `subscribe`); the console adds
 * what the reader cannot know without the aggregator's code:
 *
 * - which series exist: a bounded SCAN (every Cluster master) for their
 *   indexes, each name checked against the key the reader itself builds;
 * - each series' shape: the window size (from `ADMIN_WINDOW_SERIES`, else the
 *   distance between window starts: tumbling windows), the grace period (only
 *   when configured: without it no window is called final), the fields
 *   counted distinct (a bounded SCAN for the newest window's HyperLogLogs,
 *   remembered for a minute), and the writers' partitions from the series'
 *   offsets hash.
 */
import { escapeGlob, type StrataRedis } from '@stratacache/core-client';
import { createWindowReader, type WindowReader } from '@stratacache/streams';
import type { AdminContext } from './context.js';
import { decodeKeyPart } from './key-id.js';
import { scanBounded } from './scan.js';

/** Series names as the aggregator allows them. */
export const SERIES_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const NAMESPACE = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})*$/;
/** Retention handed to the reader: Redis expires and trims windows itself, so the reader should not cut any. */
const KEEP_ALL_MS = 10 * 365 * 24 * 3600 * 1000;
/** Window starts read to infer the distance between windows. */
const STARTS_SAMPLED = 50;

/** A series found in Redis. */
export interface FoundSeries {
  namespace: string;
  name: string;
}

/** A writer's progress, from the series' offsets hash. */
export interface PartitionState {
  partition: string;
  /** The last offset applied (a stream id or a Kafka offset). */
  offset: string | undefined;
  /** Its watermark: the highest event time it has seen, ms. */
  watermark: number | undefined;
  /** When it last applied a batch, ms. */
  appliedAt: number | undefined;
}

/** What the console knows of a series. */
export interface SeriesShape extends FoundSeries {
  /** Window length, ms (undefined: one window only and nothing configured). */
  sizeMs: number | undefined;
  sizeFrom: 'configured' | 'inferred' | 'unknown';
  /** Grace period, ms, when configured. */
  graceMs: number | undefined;
  /** Windows in the index. */
  windows: number;
  /** Start of the newest window, ms. */
  newest: number | undefined;
  /** Fields counted distinct, found on the newest window. */
  distinct: string[];
  /** False when the scan for them ran out of budget. */
  distinctComplete: boolean;
  partitions: PartitionState[];
  /** The lowest watermark of the series' partitions, as the aggregator stores it. */
  minWatermark: number | undefined;
}

/** A reader of one series; `shape` decides the size, grace and distinct fields it is told. */
export function readerFor(redis: StrataRedis, series: FoundSeries, shape?: SeriesShape): WindowReader {
  return createWindowReader({
    redis,
    namespace: series.namespace,
    windows: [
      {
        name: series.name,
        size: shape?.sizeMs ?? 1,
        grace: shape?.graceMs ?? 0,
        retention: KEEP_ALL_MS,
        distinct: shape?.distinct ?? [],
      },
    ],
  });
}

/** Every series with an index under the prefix (bounded SCAN over every master). */
export async function discoverSeries(ctx: AdminContext): Promise<{ series: FoundSeries[]; complete: boolean }> {
  const { redis } = ctx;
  const prefix = redis.options.prefix;
  const found = await scanBounded(redis, `${escapeGlob(prefix)}:*:win:*:idx`, {
    budget: ctx.options.scanBudget,
    type: 'zset',
  });
  const series: FoundSeries[] = [];
  for (const key of found.keys) {
    const match = /^([^:]+):win:\{([^}]+)\}:idx$/.exec(key.slice(prefix.length + 1));
    if (!match) continue;
    const [, namespace = '', name = ''] = match;
    if (!NAMESPACE.test(namespace) || !SERIES_NAME.test(name)) continue;
    // Only what the streams package itself would call this series' index (a layout change shows here as nothing found).
    if (readerFor(redis, { namespace, name }).keysOf(name).index !== key) continue;
    series.push({ namespace, name });
  }
  series.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  return { series, complete: found.complete };
}

function partitionsOf(hash: Record<string, string>): {
  partitions: PartitionState[];
  minWatermark: number | undefined;
} {
  const byName = new Map<string, PartitionState>();
  const of = (partition: string) => {
    let p = byName.get(partition);
    if (!p) {
      p = { partition, offset: undefined, watermark: undefined, appliedAt: undefined };
      byName.set(partition, p);
    }
    return p;
  };
  for (const [field, value] of Object.entries(hash)) {
    const kind = field.slice(0, 2);
    const partition = field.slice(2);
    if (kind === 'o:') of(partition).offset = value;
    else if (kind === 'w:') of(partition).watermark = Number(value);
    else if (kind === 't:') of(partition).appliedAt = Number(value);
  }
  const min = hash.minwm === undefined ? undefined : Number(hash.minwm);
  return {
    partitions: [...byName.values()].sort((a, b) => a.partition.localeCompare(b.partition)),
    minWatermark: Number.isFinite(min) ? min : undefined,
  };
}

/** The smallest distance between consecutive window starts: the hop, which is the size of tumbling windows. */
function smallestStep(starts: number[]): number | undefined {
  let step: number | undefined;
  for (let i = 1; i < starts.length; i++) {
    const d = Math.abs((starts[i - 1] as number) - (starts[i] as number));
    if (d > 0 && (step === undefined || d < step)) step = d;
  }
  return step;
}

/** How long the distinct fields found for a series are reused (a page redrawn on every update must not SCAN each time). */
const DISTINCT_REUSE_MS = 60_000;
const distinctSeen = new WeakMap<AdminContext, Map<string, { at: number; fields: string[]; complete: boolean }>>();

/**
 * The fields counted distinct, from the names of one window's HyperLogLog
 * keys (`...:hll:<start>:<field>`; `probe` is such a key with the field `_`):
 * a bounded SCAN, remembered for a minute per series.
 */
async function distinctFields(
  ctx: AdminContext,
  series: FoundSeries,
  probe: string,
): Promise<{ fields: string[]; complete: boolean }> {
  let seen = distinctSeen.get(ctx);
  if (!seen) {
    seen = new Map();
    distinctSeen.set(ctx, seen);
  }
  const id = `${series.namespace}\u0000${series.name}`;
  const known = seen.get(id);
  if (known && Date.now() - known.at < DISTINCT_REUSE_MS) return known;
  const head = probe.slice(0, -1);
  const found = await scanBounded(ctx.redis, `${escapeGlob(head)}*`, { budget: ctx.options.scanBudget, limit: 64 });
  const fields = found.keys
    .map((key) => decodeKeyPart(key.slice(head.length)))
    .filter((f) => f.length > 0)
    .sort();
  const result = { at: Date.now(), fields, complete: found.complete };
  if (seen.size >= 200) seen.clear();
  seen.set(id, result);
  return result;
}

/** Reads the shape of one series (index, offsets, and unless `distinct: false` the distinct fields). */
export async function readShape(
  ctx: AdminContext,
  series: FoundSeries,
  options: { distinct?: boolean } = {},
): Promise<SeriesShape> {
  const { redis } = ctx;
  const keys = readerFor(redis, series).keysOf(series.name);
  const [windows, starts, offsets] = await redis.run('series', (c) =>
    Promise.all([c.zcard(keys.index), c.zrevrange(keys.index, 0, STARTS_SAMPLED - 1), c.hgetall(keys.offsets)]),
  );
  const startsMs = starts.map(Number).filter(Number.isFinite);
  const newest = startsMs[0];
  const configured = ctx.options.windowSeries.find((s) => s.name === series.name);
  const step = smallestStep(startsMs);
  const { fields: distinct, complete: distinctComplete } =
    options.distinct === false || newest === undefined
      ? { fields: [], complete: true }
      : await distinctFields(ctx, series, keys.distinct(newest, '_'));
  return {
    ...series,
    sizeMs: configured?.sizeMs ?? step,
    sizeFrom: configured ? 'configured' : step !== undefined ? 'inferred' : 'unknown',
    graceMs: configured?.graceMs,
    windows,
    newest,
    distinct,
    distinctComplete,
    ...partitionsOf(offsets),
  };
}
