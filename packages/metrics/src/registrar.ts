/**
 * What every layer's metric definitions share: metrics registered on the
 * caller's registry under the prefix, capped labels, and channel
 * subscriptions that never throw into the publisher (a diagnostics
 * subscriber that throws would surface as an uncaught exception in the
 * layer that published) and are all undone by `close()`.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ConfigError } from '@stratacache/core-client';
import { Counter, Gauge } from 'prom-client';
import { FastCounter, FastHistogram } from './cells.js';
import { LabelCap } from './label-cap.js';
import type { ResolvedMetricsOptions } from './options.js';

/** A channel message: the payload a layer published. */
export type Message = Record<string, unknown>;

type Labels = Record<string, string>;
type Collect<M> = (this: M) => void | Promise<void>;

/** Registers metrics and subscriptions for one `registerMetrics` call. */
export class Registrar {
  private readonly names: string[] = [];
  private readonly nameOf = new WeakMap<object, string>();
  private readonly subscriptions: Array<[string, (message: unknown) => void]> = [];
  private readonly cap: LabelCap;
  private readonly handlerErrors: Counter<string>;
  private readonly overflows: Counter<string>;

  constructor(readonly options: ResolvedMetricsOptions) {
    this.handlerErrors = this.counter(
      'metrics_handler_errors_total',
      'Channel messages stratacache metrics could not turn into a measurement (a payload of an unexpected shape).',
      ['channel'],
    );
    this.overflows = this.counter(
      'metrics_label_overflow_total',
      'Label values counted as "other" because the metric reached maxLabelValues distinct values of that label.',
      ['metric', 'label'],
    );
    this.cap = new LabelCap(options.maxLabelValues, (metric, label) => this.overflows.inc({ metric, label }));
  }

  /** Every metric name registered so far. */
  get metricNames(): readonly string[] {
    return this.names;
  }

  /** The full name of `name`: prefixed, unless it is a redis_exporter-style server metric. */
  fullName(name: string, raw = false): string {
    return raw ? name : `${this.options.prefix}${name}`;
  }

  /** A counter on the registry. */
  counter(name: string, help: string, labelNames: readonly string[], collect?: Collect<Counter<string>>, raw = false) {
    const full = this.fullName(name, raw);
    return this.register(
      full,
      () => new Counter({ name: full, help, labelNames, registers: [this.options.registry], collect }),
    );
  }

  /** A gauge on the registry. */
  gauge(name: string, help: string, labelNames: readonly string[], collect?: Collect<Gauge<string>>, raw = false) {
    const full = this.fullName(name, raw);
    return this.register(
      full,
      () => new Gauge({ name: full, help, labelNames, registers: [this.options.registry], collect }),
    );
  }

  /** A counter for event-driven series, counted in plain numbers (see cells.ts). */
  events(name: string, help: string, labelNames: readonly string[]): FastCounter {
    const full = this.fullName(name);
    return this.register(full, () =>
      new FastCounter(full, help, labelNames, (metric, values) => this.capped(metric, values)).registerOn(
        this.options.registry,
      ),
    );
  }

  /** A histogram in seconds with the fast (Redis) or slow (factory, lock, query) buckets. */
  histogram(name: string, help: string, labelNames: readonly string[], kind: 'fast' | 'slow'): FastHistogram {
    const full = this.fullName(name);
    const buckets = kind === 'fast' ? this.options.fastBuckets : this.options.slowBuckets;
    return this.register(full, () =>
      new FastHistogram(full, help, labelNames, (metric, values) => this.capped(metric, values), buckets).registerOn(
        this.options.registry,
      ),
    );
  }

  /** Label values for `metric`, each capped, missing ones as `unknown`. */
  labels(metric: object, values: Record<string, unknown>): Labels {
    return this.capped(this.nameOf.get(metric) ?? 'unknown', values);
  }

  /** Label values for the metric named `metric`, each capped. */
  capped(metric: string, values: Record<string, unknown>): Labels {
    const out: Labels = {};
    for (const [label, raw] of Object.entries(values)) out[label] = this.cap.value(metric, label, raw);
    return out;
  }

  /** Calls `handler` for every message on `channel` until `close()`; a throwing handler is counted, not thrown. */
  on(channel: string, handler: (message: Message) => void): void {
    const listener = (message: unknown) => {
      try {
        handler((message ?? {}) as Message);
      } catch {
        this.handlerErrors.inc({ channel });
      }
    };
    subscribe(channel, listener);
    this.subscriptions.push([channel, listener]);
  }

  /** Unsubscribes every channel and removes every metric this registrar registered. Idempotent. */
  close(): void {
    for (const [channel, listener] of this.subscriptions.splice(0)) unsubscribe(channel, listener);
    for (const name of this.names.splice(0)) this.options.registry.removeSingleMetric(name);
  }

  private register<M extends object>(name: string, create: () => M): M {
    let metric: M;
    try {
      metric = create();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ConfigError(
        `registerMetrics could not register a metric on this registry: ${message}. Another library (or an earlier registerMetrics whose handle was not unregistered) uses that name; pass a prefix or another Registry.`,
        { cause: error, context: { option: 'registry' } },
      );
    }
    this.names.push(name);
    this.nameOf.set(metric, name);
    return metric;
  }
}

/** Milliseconds (as published) to seconds (as Prometheus wants), or undefined when not a finite number. */
export function seconds(ms: unknown): number | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
}

/** A non-negative finite count, or undefined. */
export function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
