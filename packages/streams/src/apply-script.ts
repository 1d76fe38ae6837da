/**
 * The typed layer over `lua/window-apply-2.lua`: packs one series' deltas into
 * KEYS and ARGV, runs the script, and turns its reply into a result. Nothing
 * else in the package knows the script's argument order or reply shape.
 */
import type { LuaScript, StrataRedis } from '@stratacache/core-client';
import type { SeriesDeltas } from './accumulate.js';
import { luaScripts } from './lua.generated.js';
import { type SeriesKeys, windowField } from './series.js';

/** What the script answered. */
export type ApplyResult =
  /** Applied: the series' watermark (lowest of its partitions), the updated starts, the starts that became final. */
  | { kind: 'ok'; seriesWatermark: number | undefined; updated: number[]; finals: number[] }
  /** Redis had already applied through `stored` (a replay, or a retried write that had succeeded). */
  | { kind: 'dup'; stored: string }
  /** Redis holds another offset than the one the deltas were computed from: recompute from `stored`. */
  | { kind: 'stale'; stored: string | undefined };

/** Settings the script needs beside the deltas. */
export interface ApplySettings {
  idleMs: number;
  publish: boolean;
}

const script = luaScripts.windowApply;
/** The script with its variadic key count filled in per call (the SHA does not change). */
const scripts = new Map<number, LuaScript>();
function withKeys(count: number): LuaScript {
  let found = scripts.get(count);
  if (!found) {
    found = Object.freeze({ ...script, numberOfKeys: count });
    scripts.set(count, found);
  }
  return found;
}

/** KEYS and ARGV of one call. */
export function packApply(
  series: SeriesKeys,
  partitionId: string,
  previous: string | undefined,
  deltas: SeriesDeltas,
  settings: ApplySettings,
): { keys: string[]; args: string[] } {
  const spec = series.spec;
  const windowKeys: string[] = [];
  const hllKeys: string[] = [];
  const body: string[] = [];
  const hllBase = 2 + deltas.windows.size;
  for (const [start, delta] of deltas.windows) {
    windowKeys.push(series.window(start));
    const ops: string[] = ['i', windowField.count, String(delta.count)];
    for (const [field, stats] of delta.fields) {
      ops.push('f', windowField.stat('sum', field), String(stats.sum));
      ops.push('n', windowField.stat('min', field), String(stats.min));
      ops.push('x', windowField.stat('max', field), String(stats.max));
    }
    for (const [prefix, cell] of delta.dimensions) {
      ops.push('i', `${prefix}${windowField.count}`, String(cell.count));
      for (const [field, stats] of cell.fields) {
        ops.push('f', `${prefix}${windowField.stat('sum', field)}`, String(stats.sum));
        ops.push('n', `${prefix}${windowField.stat('min', field)}`, String(stats.min));
        ops.push('x', `${prefix}${windowField.stat('max', field)}`, String(stats.max));
      }
    }
    body.push(String(start), String(start + spec.sizeMs + spec.retentionMs), String(ops.length / 3), ...ops);
    body.push(String(delta.distinct.size));
    for (const [field, values] of delta.distinct) {
      hllKeys.push(series.distinct(start, field));
      // 1-based KEYS index of this HyperLogLog.
      body.push(String(hllBase + hllKeys.length), String(values.size), ...values);
    }
  }
  const keys = [series.offsets, series.index, ...windowKeys, ...hllKeys];
  const args = [
    partitionId,
    previous ?? '',
    deltas.lastOffset ?? '',
    Number.isFinite(deltas.watermark) ? String(deltas.watermark) : '',
    String(spec.sizeMs),
    String(spec.graceMs),
    String(spec.retentionMs),
    String(settings.idleMs),
    settings.publish ? series.channel : '',
    spec.name,
    String(deltas.windows.size),
    ...body,
  ];
  return { keys, args };
}

/** Parses the script's reply. */
export function parseApplyReply(reply: unknown): ApplyResult {
  if (!Array.isArray(reply)) throw new TypeError(`window-apply answered ${JSON.stringify(reply)}`);
  const kind = String(reply[0]);
  if (kind === 'dup') return { kind: 'dup', stored: String(reply[1]) };
  if (kind === 'stale') return { kind: 'stale', stored: reply[1] === '' ? undefined : String(reply[1]) };
  const watermark = String(reply[1] ?? '');
  const list = (value: unknown) => (Array.isArray(value) ? value.map(Number) : []);
  return {
    kind: 'ok',
    seriesWatermark: watermark === '' ? undefined : Number(watermark),
    updated: list(reply[2]),
    finals: list(reply[3]),
  };
}

/** Runs one apply: one script call, atomic. Errors are core-client's (mapped by `redis.run`). */
export async function runApply(
  redis: StrataRedis,
  series: SeriesKeys,
  partitionId: string,
  previous: string | undefined,
  deltas: SeriesDeltas,
  settings: ApplySettings,
): Promise<ApplyResult> {
  const { keys, args } = packApply(series, partitionId, previous, deltas, settings);
  return parseApplyReply(await redis.runScript(withKeys(keys.length), keys, args));
}
