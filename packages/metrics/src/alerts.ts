/**
 * Alert thresholds evaluated in-process, for services without Prometheus
 * alerting (the same thresholds ship as rules in `rules/stratacache-alerts.yml`).
 *
 * Hysteresis, so an alert does not flap: an alert fires once its condition
 * held for `for`, and resolves only once the value is back past a separate,
 * safer clear threshold (hit ratio above 0.85 after firing below 0.8) for
 * `clearFor`. A value between the two thresholds changes nothing.
 */
import { ConfigError, type Duration, defineChannels, toMs } from '@stratacache/core-client';
import type { MetricValue } from 'prom-client';
import type { NodeReading } from './redis-server.js';
import { type MetricsHandle, serverReaderOf } from './register.js';

/** The alerts. */
export type AlertName =
  | 'cache-hit-ratio-low'
  | 'redis-memory-high'
  | 'redis-evictions-high'
  | 'breaker-open'
  | 'bus-disconnected';

/** A change of an alert's state, as `onAlert` and `stratacache:metrics:alert` get it. */
export interface AlertEvent {
  alert: AlertName;
  state: 'firing' | 'resolved';
  /** The measured value: a ratio, evictions per second, or how many breakers / buses are down. */
  value: number;
  /** The threshold crossed: the fire threshold when firing, the clear threshold when resolved. */
  threshold: number;
  /** When, in ms since the epoch. */
  at: number;
  message: string;
}

/** Options of {@link createAlerts}. */
export interface AlertsOptions {
  /** The handle of `registerMetrics` whose metrics are judged (with `redis` for the memory and eviction alerts). */
  metrics: MetricsHandle;
  /** Called on every change of an alert's state. */
  onAlert?: (event: AlertEvent) => void;
  /** How often to evaluate; 0 evaluates only when `evaluate()` is called. @default '15s' */
  interval?: Duration;
  /** How long a condition must hold before the alert fires. @default '1m' */
  for?: Duration;
  /** How long the value must stay past the clear threshold before the alert resolves. @default the `for` value */
  clearFor?: Duration;
  /** Cache hit ratio (hits of any tier / (hits + Redis misses)) over `window`; `false` turns it off. */
  hitRatio?: { below?: number; clearAbove?: number; window?: Duration; minLookups?: number } | false;
  /** Redis used_memory / maxmemory (nodes without maxmemory are skipped); `false` turns it off. */
  memory?: { above?: number; clearBelow?: number } | false;
  /** Redis evictions per second between evaluations; `false` turns it off. */
  evictions?: { above?: number; clearBelow?: number } | false;
  /** Fire while any circuit breaker is open. @default true */
  breakerOpen?: boolean;
  /** Fire while any invalidation bus is disconnected. @default true */
  busDisconnected?: boolean;
}

/** What {@link createAlerts} returns. */
export interface Alerts {
  /** Measures and judges every alert now; resolves the state changes of this round. Never throws. */
  evaluate(): Promise<AlertEvent[]>;
  /** The alerts firing now. */
  firing(): AlertName[];
  /** Stops the timer. */
  close(): void;
}

const diagnostics = defineChannels('metrics', {
  /** An {@link AlertEvent}. */
  alert: 'alert',
});

/** The channel name in-process alerts are published on. */
export const AlertChannel = diagnostics.names.alert;

type Judged = { value: number; breached: boolean; cleared: boolean; fire: number; clear: number } | undefined;

class AlertState {
  firing = false;
  private since: number | undefined;

  constructor(
    readonly name: AlertName,
    private readonly forMs: number,
    private readonly clearForMs: number,
  ) {}

  /** The event if this judgement changes the state. */
  step(j: Judged, now: number): AlertEvent | undefined {
    if (!j) return undefined; // no data: keep the state, neither fire nor resolve on silence
    const moving = this.firing ? j.cleared : j.breached;
    if (!moving) {
      this.since = undefined;
      return undefined;
    }
    this.since ??= now;
    if (now - this.since < (this.firing ? this.clearForMs : this.forMs)) return undefined;
    this.firing = !this.firing;
    this.since = undefined;
    const threshold = this.firing ? j.fire : j.clear;
    return {
      alert: this.name,
      state: this.firing ? 'firing' : 'resolved',
      value: j.value,
      threshold,
      at: Date.now(),
      message: `${this.name} ${this.firing ? 'firing' : 'resolved'}: value ${round(j.value)}, threshold ${threshold}`,
    };
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;
/** Drops float noise from a derived default (0.8 + 0.05 is 0.8500000000000001). */
const tidy = (n: number) => Math.round(n * 1e9) / 1e9;

function fraction(value: unknown, option: string, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v >= 0))
    throw new ConfigError(`${option} must be a number >= 0; got ${JSON.stringify(value)}`, { context: { option } });
  return v;
}

async function values(handle: MetricsHandle, name: string): Promise<MetricValue<string>[]> {
  const metric = handle.registry.getSingleMetric(`${handle.prefix}${name}`) ?? handle.registry.getSingleMetric(name);
  if (!metric) return [];
  return (await metric.get()).values;
}

/**
 * Evaluates the alert thresholds in-process every `interval`, calling
 * `onAlert` and publishing on `stratacache:metrics:alert` when an alert fires
 * or resolves.
 *
 * @example
 * ```ts
 * const alerts = createAlerts({ metrics, onAlert: (e) => log.warn(e.message) });
 * // ... alerts.close() on shutdown
 * ```
 */
export function createAlerts(options: AlertsOptions): Alerts {
  const handle = options.metrics;
  if (!handle || typeof handle.unregister !== 'function') {
    throw new ConfigError('metrics must be the handle registerMetrics returned', { context: { option: 'metrics' } });
  }
  const forMs = toMs(options.for ?? '1m', 'for');
  const clearForMs = options.clearFor === undefined ? forMs : toMs(options.clearFor, 'clearFor');
  const intervalMs = toMs(options.interval ?? '15s', 'interval');
  const hit = options.hitRatio === false ? undefined : (options.hitRatio ?? {});
  const hitBelow = fraction(hit?.below, 'hitRatio.below', 0.8);
  const hitClear = fraction(hit?.clearAbove, 'hitRatio.clearAbove', tidy(Math.min(1, hitBelow + 0.05)));
  const hitWindowMs = toMs(hit?.window ?? '5m', 'hitRatio.window');
  const minLookups = fraction(hit?.minLookups, 'hitRatio.minLookups', 100);
  const mem = options.memory === false ? undefined : (options.memory ?? {});
  const memAbove = fraction(mem?.above, 'memory.above', 0.9);
  const memClear = fraction(mem?.clearBelow, 'memory.clearBelow', tidy(memAbove - 0.05));
  const ev = options.evictions === false ? undefined : (options.evictions ?? {});
  const evAbove = fraction(ev?.above, 'evictions.above', 1000);
  const evClear = fraction(ev?.clearBelow, 'evictions.clearBelow', evAbove / 2);
  if (hitClear < hitBelow || memClear > memAbove || evClear > evAbove) {
    throw new ConfigError(
      'a clear threshold must be on the safe side of its fire threshold (that gap is the hysteresis)',
      {
        context: { option: 'clearAbove/clearBelow' },
      },
    );
  }

  const states = new Map<AlertName, AlertState>();
  const state = (name: AlertName) => {
    let s = states.get(name);
    if (!s) {
      s = new AlertState(name, forMs, clearForMs);
      states.set(name, s);
    }
    return s;
  };
  const lookups: Array<{ at: number; hits: number; misses: number }> = [];
  let lastEvictions: { at: number; total: number } | undefined;

  const hitRatio = async (now: number): Promise<Judged> => {
    let hits = 0;
    let misses = 0;
    for (const v of await values(handle, 'cache_lookups_total')) {
      if (v.labels.result === 'hit') hits += v.value;
      else if (v.labels.result === 'miss' && v.labels.tier === 'redis') misses += v.value;
    }
    lookups.push({ at: now, hits, misses });
    while (lookups.length > 2 && now - (lookups[1]?.at ?? now) >= hitWindowMs) lookups.shift();
    const first = lookups[0];
    if (!first || lookups.length < 2) return undefined;
    const h = hits - first.hits;
    const total = h + (misses - first.misses);
    if (total < minLookups || total <= 0) return undefined;
    const ratio = h / total;
    return { value: ratio, breached: ratio < hitBelow, cleared: ratio >= hitClear, fire: hitBelow, clear: hitClear };
  };

  const server = async (): Promise<NodeReading[]> => {
    const reader = serverReaderOf(handle);
    if (!reader) return [];
    try {
      return await reader.read();
    } catch {
      return [];
    }
  };

  const memory = (nodes: NodeReading[]): Judged => {
    let worst: number | undefined;
    for (const n of nodes) {
      const used = Number(n.info?.used_memory);
      const max = Number(n.info?.maxmemory);
      // maxmemory 0 means no limit: there is no ratio to judge, and never a division by zero.
      if (!(max > 0) || !Number.isFinite(used)) continue;
      worst = Math.max(worst ?? 0, used / max);
    }
    if (worst === undefined) return undefined;
    return { value: worst, breached: worst > memAbove, cleared: worst <= memClear, fire: memAbove, clear: memClear };
  };

  const evictions = (nodes: NodeReading[], now: number): Judged => {
    const read = nodes.filter((n) => n.info);
    if (read.length === 0) return undefined;
    const total = read.reduce((sum, n) => sum + (Number(n.info?.evicted_keys) || 0), 0);
    const previous = lastEvictions;
    lastEvictions = { at: now, total };
    if (!previous || total < previous.total || now <= previous.at) return undefined; // first read, or a restart
    const rate = (total - previous.total) / ((now - previous.at) / 1000);
    return { value: rate, breached: rate > evAbove, cleared: rate <= evClear, fire: evAbove, clear: evClear };
  };

  const count = async (name: string, bad: (v: number) => boolean): Promise<Judged> => {
    const vs = await values(handle, name);
    const n = vs.filter((v) => bad(v.value)).length;
    return { value: n, breached: n > 0, cleared: n === 0, fire: 0, clear: 0 };
  };

  let running: Promise<AlertEvent[]> | undefined;
  const evaluateOnce = async (): Promise<AlertEvent[]> => {
    const now = performance.now();
    const judged: Array<[AlertName, Judged]> = [];
    if (hit) judged.push(['cache-hit-ratio-low', await hitRatio(now)]);
    if (mem || ev) {
      const nodes = await server();
      if (mem) judged.push(['redis-memory-high', memory(nodes)]);
      if (ev) judged.push(['redis-evictions-high', evictions(nodes, now)]);
    }
    if (options.breakerOpen !== false)
      judged.push(['breaker-open', await count('redis_breaker_state', (v) => v === 2)]);
    if (options.busDisconnected !== false) {
      judged.push(['bus-disconnected', await count('invalidation_bus_connected', (v) => v === 0)]);
    }
    const events: AlertEvent[] = [];
    for (const [name, j] of judged) {
      const event = state(name).step(j, now);
      if (!event) continue;
      events.push(event);
      diagnostics.publish('alert', { ...event });
      try {
        options.onAlert?.(event);
      } catch (error) {
        process.emitWarning(`stratacache onAlert threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return events;
  };
  const evaluate = (): Promise<AlertEvent[]> => {
    // One evaluation at a time: a slow INFO must not let two rounds interleave their samples.
    running ??= evaluateOnce()
      .catch(() => [])
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const timer = intervalMs > 0 ? setInterval(() => void evaluate(), intervalMs) : undefined;
  timer?.unref();
  return {
    evaluate,
    firing: () => [...states.values()].filter((s) => s.firing).map((s) => s.name),
    close: () => clearInterval(timer),
  };
}
