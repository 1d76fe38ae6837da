/**
 * Counters and histograms for the hot path. Every cache hit and every Redis
 * command publishes an event; turning each into a prom-client `inc()` or
 * `observe()` (which hash and validate the labels on every call) cost more
 * than the memory hit itself. Here a series is found by walking a small tree
 * of Maps keyed by the raw label values (no string building, no allocation
 * once the series exists) and counted in plain numbers; the registry reads
 * the totals at scrape through `get()`, in the shape prom-client's own
 * metrics produce (`MetricObjectWithValues`), so it formats them as usual.
 */
import type { Registry } from 'prom-client';
import { OTHER } from './label-cap.js';

/** Caps raw label values into a label set (the registrar's label cap). */
export type LabelFn = (metric: string, values: Record<string, unknown>) => Record<string, string>;

type Labels = Record<string, string>;

interface CounterCell {
  labels: Labels;
  /** False for the shared "other" series: reached through the cap, never by a remembered raw value. */
  remembered: boolean;
  value: number;
}

interface HistogramCell {
  labels: Labels;
  remembered: boolean;
  counts: number[];
  sum: number;
  count: number;
}

/** A metric value as prom-client's registry formats it. */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

function child(level: Map<unknown, unknown>, key: unknown): Map<unknown, unknown> {
  let next = level.get(key) as Map<unknown, unknown> | undefined;
  if (!next) {
    next = new Map();
    level.set(key, next);
  }
  return next;
}

/** Series by raw label values: a tree of Maps, one level per label. */
abstract class Cells<C extends { labels: Labels; remembered: boolean }> {
  private readonly root = new Map<unknown, unknown>();
  private last: C | undefined;
  private la: unknown;
  private lb: unknown;
  private lc: unknown;
  private ld: unknown;
  private readonly byLabels = new Map<string, C>();
  /** Every distinct series, for `get()`. */
  protected readonly cells: C[] = [];
  /** `type` as Prometheus names it. */
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum' as const;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly label: LabelFn,
  ) {
    if (labelNames.length < 1 || labelNames.length > 4) throw new RangeError(`${name}: 1 to 4 labels`);
  }

  /** The series of these raw label values (in `labelNames` order), created on first use. */
  at(a?: unknown, b?: unknown, c?: unknown, d?: unknown): C {
    // The same series as last time (a hot loop over one cache): four identity checks, no Map.
    const last = this.last;
    if (last !== undefined && a === this.la && b === this.lb && c === this.lc && d === this.ld) return last;
    const cell = this.find(a, b, c, d);
    // Only a remembered series is memoized: a value past the cap must go through the cap again.
    if (cell.remembered) {
      this.last = cell;
      this.la = a;
      this.lb = b;
      this.lc = c;
      this.ld = d;
    }
    return cell;
  }

  private find(a: unknown, b: unknown, c: unknown, d: unknown): C {
    // Positional, not an array: the hot path allocates nothing once the series exists.
    const n = this.labelNames.length;
    let level = this.root;
    if (n > 1) level = child(level, a);
    if (n > 2) level = child(level, b);
    if (n > 3) level = child(level, c);
    const found = level.get(n === 1 ? a : n === 2 ? b : n === 3 ? c : d) as C | undefined;
    return found ?? this.create(level, [a, b, c, d]);
  }

  private create(level: Map<unknown, unknown>, raw: unknown[]): C {
    const values: Record<string, unknown> = {};
    this.labelNames.forEach((name, i) => {
      values[name] = raw[i];
    });
    const labels = this.label(this.name, values);
    const id = this.labelNames.map((n) => labels[n]).join('\u0000');
    let cell = this.byLabels.get(id);
    if (!cell) {
      cell = this.newCell(labels, !this.labelNames.some((n) => labels[n] === OTHER));
      this.byLabels.set(id, cell);
      this.cells.push(cell);
    }
    // A value past the cap is not remembered by its raw value (that would grow without bound):
    // it finds the shared "other" series through the cap each time, a slower but bounded path.
    if (cell.remembered) level.set(raw[this.labelNames.length - 1], cell);
    return cell;
  }

  protected abstract newCell(labels: Labels, remembered: boolean): C;
  protected abstract values(): MetricValue[];

  /** Drops every series (prom-client's `registry.resetMetrics()` calls it). */
  reset(): void {
    this.last = undefined;
    this.root.clear();
    this.byLabels.clear();
    this.cells.length = 0;
  }

  private readonly beforeGet: Array<() => void> = [];

  /** Runs `fn` before every `get()` (a scrape): for series read from elsewhere at scrape. */
  onCollect(fn: () => void): this {
    this.beforeGet.push(fn);
    return this;
  }

  /** The metric as prom-client's registry formats it. */
  async get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: 'sum' }> {
    for (const fn of this.beforeGet) fn();
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator };
  }

  /** Registers this metric on `registry` (throws, as prom-client does, when the name is taken). */
  registerOn(registry: Registry): this {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
    return this;
  }
}

/** A counter whose series are counted in plain numbers. */
export class FastCounter extends Cells<CounterCell> {
  readonly type = 'counter' as const;

  /** Adds `by` (default 1) to the series of these raw label values. */
  inc(by: number, a?: unknown, b?: unknown, c?: unknown, d?: unknown): void {
    if (by > 0) this.at(a, b, c, d).value += by;
  }

  protected newCell(labels: Labels, remembered: boolean): CounterCell {
    return { labels, remembered, value: 0 };
  }

  protected values(): MetricValue[] {
    return this.cells.map((cell) => ({ value: cell.value, labels: cell.labels }));
  }
}

/** A histogram whose series keep bucket counts in plain arrays. */
export class FastHistogram extends Cells<HistogramCell> {
  readonly type = 'histogram' as const;

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    label: LabelFn,
    private readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames, label);
  }

  /** Records one observation of `seconds` in the series of these raw label values. */
  observe(seconds: number, a?: unknown, b?: unknown, c?: unknown, d?: unknown): void {
    const cell = this.at(a, b, c, d);
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && seconds > (buckets[i] as number)) i++;
    if (i < buckets.length) cell.counts[i] = (cell.counts[i] as number) + 1;
    cell.sum += seconds;
    cell.count++;
  }

  protected newCell(labels: Labels, remembered: boolean): HistogramCell {
    return { labels, remembered, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }

  protected values(): MetricValue[] {
    const out: MetricValue[] = [];
    for (const cell of this.cells) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += cell.counts[i] as number;
        out.push({ metricName: `${this.name}_bucket`, labels: { ...cell.labels, le }, value: cumulative });
      });
      out.push({ metricName: `${this.name}_bucket`, labels: { ...cell.labels, le: '+Inf' }, value: cell.count });
      out.push({ metricName: `${this.name}_sum`, labels: cell.labels, value: cell.sum });
      out.push({ metricName: `${this.name}_count`, labels: cell.labels, value: cell.count });
    }
    return out;
  }
}
