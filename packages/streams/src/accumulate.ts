/**
 * Turns one partition batch into per-window deltas for one series: skips what
 * Redis already applied, judges lateness against the partition's watermark,
 * and sums in memory so a batch costs one script call whatever its size.
 *
 * Every judgement depends only on the records' order in the partition and the
 * stored watermark, so a replay after a crash decides exactly as the first run did.
 */
import type { ResolvedWindowSpec } from './options.js';
import { windowField } from './series.js';
import type { StreamRecord } from './source.js';
import { compareOffsets, windowStarts } from './windows.js';

/** What happened to one record in one series. */
export const Outcome = Object.freeze({
  /** Already applied (offset at or below the stored one). */
  duplicate: 0,
  /** Applied to every window it belongs to that was still open. */
  applied: 1,
  /** Applied, but after the watermark had passed the end of a window it went to (within grace). */
  late: 2,
  /** Every window it belongs to was past grace (or past retention). */
  dropped: 3,
  /** No usable event time, or a declared numeric field that is not a number. */
  invalid: 4,
});

/** Sum, min and max of one numeric field. */
export interface FieldStats {
  sum: number;
  min: number;
  max: number;
}

/** A breakdown cell: one value of one dimension. */
export interface DimensionDelta {
  count: number;
  fields: Map<string, FieldStats>;
}

/** What one batch adds to one window. */
export interface WindowDelta {
  count: number;
  fields: Map<string, FieldStats>;
  /** By hash-field prefix `d:<dimension>:<encoded value>:`. */
  dimensions: Map<string, DimensionDelta>;
  /** Distinct values per field. */
  distinct: Map<string, Set<string>>;
}

/** Where a series stands in a partition: the stored offset and watermark. */
export interface PartitionState {
  offset: string | undefined;
  /** Highest event time applied so far; `-Infinity` before any. */
  watermark: number;
}

/** The deltas of one series for one partition batch. */
export interface SeriesDeltas {
  outcomes: Uint8Array;
  /** Offset of the last record not already applied; `undefined` when every record was. */
  lastOffset: string | undefined;
  /** The watermark after this batch. */
  watermark: number;
  /** By window start. */
  windows: Map<number, WindowDelta>;
}

/** A numeric field's value: a finite number, `undefined` when absent, `null` when present but not a number. */
function numeric(raw: unknown): number | undefined | null {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}

function addStat(into: Map<string, FieldStats>, field: string, n: number): void {
  const stats = into.get(field);
  if (!stats) into.set(field, { sum: n, min: n, max: n });
  else {
    stats.sum += n;
    if (n < stats.min) stats.min = n;
    if (n > stats.max) stats.max = n;
  }
}

/**
 * Deltas of `records` (one partition, offset order) for `spec`, from `state`.
 * `times[i]` is record i's event time (NaN when it has none); `now` decides retention.
 */
export function accumulate(
  spec: ResolvedWindowSpec,
  records: readonly StreamRecord[],
  times: readonly number[],
  state: PartitionState,
  now: number,
): SeriesDeltas {
  const outcomes = new Uint8Array(records.length);
  const windows = new Map<number, WindowDelta>();
  let watermark = state.watermark;
  let first = 0;
  if (state.offset !== undefined) {
    // Offsets grow within a partition: everything before the first newer record is a replay.
    while (first < records.length && compareOffsets((records[first] as StreamRecord).offset, state.offset) <= 0) {
      outcomes[first] = Outcome.duplicate;
      first++;
    }
  }
  const { sizeMs, hopMs, graceMs, retentionMs, fields, dimensions, distinct } = spec;
  const values: number[] = new Array(fields.length);
  const prefixes = dimensions.map(() => new Map<string, string>());
  for (let i = first; i < records.length; i++) {
    const record = records[i] as StreamRecord;
    const time = times[i] as number;
    const value = record.value;
    if (value === undefined || !Number.isFinite(time) || time < 0) {
      outcomes[i] = Outcome.invalid;
      continue;
    }
    let valid = true;
    for (let f = 0; f < fields.length; f++) {
      const n = numeric(value[fields[f] as string]);
      if (n === null) {
        valid = false;
        break;
      }
      values[f] = n === undefined ? Number.NaN : n;
    }
    if (!valid) {
      outcomes[i] = Outcome.invalid;
      continue;
    }
    let applied = false;
    let late = false;
    // Tumbling windows (the common case) need no list of starts.
    const starts = hopMs === sizeMs ? [Math.floor(time / sizeMs) * sizeMs] : windowStarts(time, sizeMs, hopMs);
    for (const start of starts) {
      const end = start + sizeMs;
      // Closed for this partition once its watermark reached end + grace; gone once past retention.
      if (end + graceMs <= watermark || end + retentionMs <= now) continue;
      if (end <= watermark) late = true;
      applied = true;
      let delta = windows.get(start);
      if (!delta) {
        delta = { count: 0, fields: new Map(), dimensions: new Map(), distinct: new Map() };
        windows.set(start, delta);
      }
      delta.count++;
      for (let f = 0; f < fields.length; f++) {
        const n = values[f] as number;
        if (!Number.isNaN(n)) addStat(delta.fields, fields[f] as string, n);
      }
      for (let d = 0; d < dimensions.length; d++) {
        const raw = value[dimensions[d] as string];
        const text = raw === undefined || raw === null ? '' : String(raw);
        // Encoding a value is a regex replace: do it once per distinct value in the batch.
        const seen = prefixes[d] as Map<string, string>;
        let prefix = seen.get(text);
        if (prefix === undefined) {
          prefix = windowField.dimension(dimensions[d] as string, text);
          seen.set(text, prefix);
        }
        let cell = delta.dimensions.get(prefix);
        if (!cell) {
          cell = { count: 0, fields: new Map() };
          delta.dimensions.set(prefix, cell);
        }
        cell.count++;
        for (let f = 0; f < fields.length; f++) {
          const n = values[f] as number;
          if (!Number.isNaN(n)) addStat(cell.fields, fields[f] as string, n);
        }
      }
      for (const field of distinct) {
        const raw = value[field];
        if (raw === undefined || raw === null || raw === '') continue;
        let set = delta.distinct.get(field);
        if (!set) {
          set = new Set();
          delta.distinct.set(field, set);
        }
        set.add(String(raw));
      }
    }
    outcomes[i] = !applied ? Outcome.dropped : late ? Outcome.late : Outcome.applied;
    if (time > watermark) watermark = time;
  }
  const lastOffset = first < records.length ? (records[records.length - 1] as StreamRecord).offset : undefined;
  return { outcomes, lastOffset, watermark, windows };
}
