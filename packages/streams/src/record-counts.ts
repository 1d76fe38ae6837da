/** Counting what happened to records: per series, and per record across series. */
import { Outcome } from './accumulate.js';

/** Record counts by outcome. */
export interface RecordCounts {
  records: number;
  applied: number;
  duplicate: number;
  /** Applied after the watermark had passed their window's end (a subset of `applied`). */
  late: number;
  dropped: number;
  invalid: number;
}

/** All zero. */
export const emptyCounts = (): RecordCounts => ({
  records: 0,
  applied: 0,
  duplicate: 0,
  late: 0,
  dropped: 0,
  invalid: 0,
});

const NAMES = ['duplicate', 'applied', 'late', 'dropped', 'invalid'] as const;

/** Adds one series' outcomes of a batch to its counts (a late record is applied and late). */
export function addOutcomes(into: RecordCounts, outcomes: Uint8Array): void {
  into.records += outcomes.length;
  for (const outcome of outcomes) {
    const name = NAMES[outcome] as (typeof NAMES)[number];
    if (name === 'late') {
      into.applied++;
      into.late++;
    } else into[name]++;
  }
}

/**
 * One count per record across series: duplicate if every series had it,
 * applied if any applied it (late if any applied it late), else invalid if
 * any found it invalid, else dropped.
 */
export function combineOutcomes(outcomes: readonly Uint8Array[], n: number): RecordCounts {
  const totals = emptyCounts();
  totals.records = n;
  for (let i = 0; i < n; i++) {
    let all = true;
    let applied = false;
    let late = false;
    let invalid = false;
    for (const per of outcomes) {
      const outcome = per[i];
      if (outcome !== Outcome.duplicate) all = false;
      if (outcome === Outcome.applied || outcome === Outcome.late) applied = true;
      if (outcome === Outcome.late) late = true;
      if (outcome === Outcome.invalid) invalid = true;
    }
    if (all) totals.duplicate++;
    else if (applied) {
      totals.applied++;
      if (late) totals.late++;
    } else if (invalid) totals.invalid++;
    else totals.dropped++;
  }
  return totals;
}
