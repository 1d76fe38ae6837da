/**
 * Bounded label values. Each (metric, label) pair keeps the first
 * `maxValues` distinct values it sees; any later value is counted under
 * `other`, so a misbehaving producer (a lock named per request, a free-text
 * reason) can never grow the number of series without bound.
 */

/** The value that stands for every value past the cap. */
export const OTHER = 'other';

/** The value of a label whose field was missing or not a string/number/boolean. */
export const UNKNOWN = 'unknown';

/** Caps label values per metric and label. */
export class LabelCap {
  private readonly seen = new Map<string, Set<string>>();

  constructor(
    private readonly maxValues: number,
    private readonly onOverflow: (metric: string, label: string) => void,
  ) {}

  /** The label value to use for `raw` on `metric`'s `label`. */
  value(metric: string, label: string, raw: unknown): string {
    const text =
      typeof raw === 'string'
        ? raw.length > 0
          ? raw
          : UNKNOWN
        : typeof raw === 'number' || typeof raw === 'boolean'
          ? String(raw)
          : UNKNOWN;
    const id = `${metric}\u0000${label}`;
    let values = this.seen.get(id);
    if (!values) {
      values = new Set();
      this.seen.set(id, values);
    }
    if (values.has(text)) return text;
    if (values.size >= this.maxValues) {
      this.onOverflow(metric, label);
      return OTHER;
    }
    values.add(text);
    return text;
  }
}
