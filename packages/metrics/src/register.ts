/**
 * `registerMetrics`: one call that turns every layer's diagnostics channels
 * into well-named Prometheus metrics on the caller's registry.
 */
import { ConfigError } from '@stratacache/core-client';
import type { Registry } from 'prom-client';
import { coordinationMetrics } from './layers/coordination.js';
import { coreMetrics } from './layers/core.js';
import { invalidationMetrics } from './layers/invalidation.js';
import { patternsMetrics } from './layers/patterns.js';
import { sessionsMetrics } from './layers/sessions.js';
import { sqlCacheMetrics } from './layers/sql-cache.js';
import { streamsMetrics } from './layers/streams.js';
import { type MetricsOptions, resolveMetricsOptions } from './options.js';
import { type NodeReading, serverMetrics } from './redis-server.js';
import { Registrar } from './registrar.js';
import type { ScrapeCache } from './scrape-cache.js';

/** What `registerMetrics` returns. */
export interface MetricsHandle {
  /** The registry the metrics live on (serve it at `/metrics`). */
  readonly registry: Registry;
  /** The prefix of the stratacache metric names. */
  readonly prefix: string;
  /** Every metric name registered, `redis_*` server metrics included. */
  readonly metricNames: readonly string[];
  /** True until `unregister()`. */
  readonly active: boolean;
  /** Unsubscribes from every channel and removes every metric from the registry. Idempotent. */
  unregister(): void;
}

const byRegistry = new WeakMap<Registry, MetricsHandle>();
const readers = new WeakMap<MetricsHandle, ScrapeCache<NodeReading[]>>();

/**
 * Subscribes to every stratacache channel and registers the metrics on
 * `options.registry`. Registering twice on one registry throws a
 * `ConfigError` (call `unregister()` on the first handle, or use another
 * registry). Never touches prom-client's global registry, never calls
 * `collectDefaultMetrics`.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * const metrics = registerMetrics({ registry, redis, caches: [cache] });
 * // serve `await registry.metrics()` at /metrics; metrics.unregister() on shutdown
 * ```
 */
export function registerMetrics(options: MetricsOptions): MetricsHandle {
  const o = resolveMetricsOptions(options);
  if (byRegistry.get(o.registry)?.active) {
    throw new ConfigError(
      'registerMetrics was already called on this registry: call unregister() on the first handle before registering again, or pass another Registry.',
      { context: { option: 'registry' } },
    );
  }
  const r = new Registrar(o);
  let reader: ScrapeCache<NodeReading[]> | undefined;
  try {
    const collectErrors = r.counter(
      'metrics_collect_errors_total',
      'Values read at scrape that could not be read (the scrape went on without them), by source.',
      ['source'],
    );
    coreMetrics(r);
    patternsMetrics(r);
    coordinationMetrics(r);
    invalidationMetrics(r);
    sessionsMetrics(r, (source) => collectErrors.inc({ source }));
    sqlCacheMetrics(r);
    streamsMetrics(r);
    if (o.redis) reader = serverMetrics(r, o.redis);
  } catch (error) {
    r.close(); // all or nothing: no half-registered set left behind
    throw error;
  }
  let active = true;
  const handle: MetricsHandle = {
    registry: o.registry,
    prefix: o.prefix,
    metricNames: Object.freeze([...r.metricNames]),
    get active() {
      return active;
    },
    unregister() {
      if (!active) return;
      active = false;
      r.close();
      if (byRegistry.get(o.registry) === handle) byRegistry.delete(o.registry);
    },
  };
  byRegistry.set(o.registry, handle);
  if (reader) readers.set(handle, reader);
  return handle;
}

/** The INFO reader of a handle registered with `redis` (for the in-process alerts). */
export function serverReaderOf(handle: MetricsHandle): ScrapeCache<NodeReading[]> | undefined {
  return readers.get(handle);
}
