/**
 * The read side: recent windows from a series' index, one window by start,
 * and pub/sub updates. Needs only the series' definitions, not a running
 * aggregator, so an API process can read what a worker process writes.
 */
import { ConfigError, KeyError, type StrataRedis, type Subscription } from '@stratacache/core-client';
import { type ResolvedWindowSpec, resolveWindowSpec, type WindowSpec } from './options.js';
import { SeriesKeys } from './series.js';

/** Sum, min and max of one numeric field in a window. */
export interface FieldAggregate {
  sum: number;
  min: number;
  max: number;
}

/** A breakdown cell: the aggregates of one dimension value. */
export interface DimensionAggregate {
  count: number;
  fields: Record<string, FieldAggregate>;
}

/** One window as stored. */
export interface WindowResult {
  /** The series. */
  name: string;
  /** Start and end (exclusive) in ms since the epoch. */
  start: number;
  end: number;
  /** Records applied. */
  count: number;
  /** By numeric field. */
  fields: Record<string, FieldAggregate>;
  /** By dimension, then by value (`''` for records without the field). */
  dimensions: Record<string, Record<string, DimensionAggregate>>;
  /** Estimated distinct values by field (HyperLogLog). */
  distinct: Record<string, number>;
  /** True once the series' watermark passed end + grace: no record will change it any more. */
  final: boolean;
}

/** A window update as published on pub/sub. */
export interface WindowUpdate {
  name: string;
  start: number;
  final: boolean;
}

/** Which windows `recent` returns: the last `count`, or every one starting at or after `since` (ms). */
export type RecentQuery = { count: number; since?: never } | { since: number; count?: never };

/** Options of {@link createWindowReader}. */
export interface WindowReaderOptions {
  /** The client from `createRedis()` of @stratacache/core-client. Required. */
  redis: StrataRedis;
  /** The series, as the aggregator was given them. Required. */
  windows: readonly WindowSpec[];
  /** Key namespace. @default 'streams' */
  namespace?: string;
}

const DECODE: Readonly<Record<string, string>> = { '%25': '%', '%3A': ':', '%7B': '{', '%7D': '}' };
const decodePart = (part: string) => part.replace(/%(25|3A|7B|7D)/g, (m) => DECODE[m] as string);

/** Reads what an aggregator wrote. */
export class WindowReader {
  private readonly series = new Map<string, SeriesKeys>();

  constructor(
    private readonly redis: StrataRedis,
    specs: readonly ResolvedWindowSpec[],
    private readonly namespace = 'streams',
  ) {
    const keys = redis.keys(namespace);
    for (const spec of specs) this.series.set(spec.name, new SeriesKeys(keys, spec));
  }

  /** Names of the series this reader knows. */
  get names(): string[] {
    return [...this.series.keys()];
  }

  /** The keys of a series; throws `ConfigError` for an unknown name. */
  keysOf(name: string): SeriesKeys {
    const found = this.series.get(name);
    if (!found) {
      throw new ConfigError(`No window series named ${JSON.stringify(name)}; known: ${this.names.join(', ')}`, {
        context: { option: 'name' },
      });
    }
    return found;
  }

  /**
   * The last `count` windows, or those starting at or after `since`, oldest
   * first; windows past retention are left out.
   */
  async recent(name: string, query: RecentQuery): Promise<WindowResult[]> {
    const series = this.keysOf(name);
    const { sizeMs, retentionMs } = series.spec;
    const cutoff = Date.now() - sizeMs - retentionMs;
    let starts: string[];
    if (query && typeof query.count === 'number') {
      if (!Number.isInteger(query.count) || query.count <= 0)
        throw new ConfigError(`count must be a positive integer; got ${query.count}`, { context: { option: 'count' } });
      starts = await this.redis.run('zrevrangebyscore', (c) =>
        c.zrevrangebyscore(series.index, '+inf', `(${cutoff}`, 'LIMIT', 0, query.count),
      );
      starts.reverse();
    } else if (query && typeof query.since === 'number' && Number.isFinite(query.since)) {
      const from = Math.max(query.since, cutoff + 1);
      starts = await this.redis.run('zrangebyscore', (c) => c.zrangebyscore(series.index, from, '+inf'));
    } else {
      throw new ConfigError('recent() takes { count } or { since }', { context: { option: 'query' } });
    }
    return this.load(series, starts.map(Number));
  }

  /** The window starting at `start` (ms), or `undefined` when it holds nothing (or expired). */
  async window(name: string, start: number): Promise<WindowResult | undefined> {
    const series = this.keysOf(name);
    if (!Number.isInteger(start)) throw new KeyError(`start must be an integer (ms); got ${start}`);
    const [found] = await this.load(series, [start]);
    return found;
  }

  /** Calls `handler` for each update of the series published on pub/sub (best effort: pub/sub keeps nothing). */
  subscribe(name: string, handler: (update: WindowUpdate) => void): Promise<Subscription> {
    const series = this.keysOf(name);
    return this.redis.pubsub(this.namespace).subscribe<WindowUpdate>(series.topic, (update) => handler(update));
  }

  private async load(series: SeriesKeys, starts: number[]): Promise<WindowResult[]> {
    const { spec } = series;
    const replies = await this.redis.run('windows', async (c) => {
      const pipeline = c.pipeline();
      pipeline.hget(series.offsets, 'minwm');
      for (const start of starts) {
        pipeline.hgetall(series.window(start));
        for (const field of spec.distinct) pipeline.pfcount(series.distinct(start, field));
      }
      const results = (await pipeline.exec()) ?? [];
      for (const [error] of results) if (error) throw error;
      return results.map(([, value]) => value);
    });
    const minWatermark = replies[0] === null || replies[0] === undefined ? undefined : Number(replies[0]);
    const windows: WindowResult[] = [];
    let at = 1;
    for (const start of starts) {
      const hash = replies[at++] as Record<string, string>;
      const distinct: Record<string, number> = {};
      for (const field of spec.distinct) distinct[field] = Number(replies[at++]);
      if (!hash || Object.keys(hash).length === 0) continue;
      const end = start + spec.sizeMs;
      windows.push({
        name: spec.name,
        start,
        end,
        ...parseWindowHash(hash),
        distinct,
        final: minWatermark !== undefined && end + spec.graceMs <= minWatermark,
      });
    }
    return windows;
  }
}

/** Turns a window hash into counts, field aggregates and breakdowns. */
export function parseWindowHash(hash: Record<string, string>): Pick<WindowResult, 'count' | 'fields' | 'dimensions'> {
  const fields: Record<string, FieldAggregate> = {};
  const dimensions: Record<string, Record<string, DimensionAggregate>> = {};
  const stat = (into: Record<string, FieldAggregate>, kind: string, field: string, value: number) => {
    into[field] ??= { sum: 0, min: Number.NaN, max: Number.NaN };
    if (kind === 'sum' || kind === 'min' || kind === 'max') into[field][kind] = value;
  };
  for (const [name, raw] of Object.entries(hash)) {
    const parts = name.split(':');
    const value = Number(raw);
    if (parts[0] === 'd' && parts.length >= 4) {
      const [, dimension, encoded, kind, field] = parts as [string, string, string, string, string?];
      dimensions[dimension] ??= {};
      const byValue = dimensions[dimension];
      const label = decodePart(encoded);
      byValue[label] ??= { count: 0, fields: {} };
      const cell = byValue[label];
      if (kind === 'count') cell.count = value;
      else if (field !== undefined) stat(cell.fields, kind, field, value);
    } else if (parts.length === 2) {
      stat(fields, parts[0] as string, parts[1] as string, value);
    }
  }
  return { count: Number(hash.count ?? 0), fields, dimensions };
}

/** A reader for the series an aggregator writes, from their definitions (no aggregator needed). */
export function createWindowReader(options: WindowReaderOptions): WindowReader {
  if (!options || typeof options.redis?.run !== 'function')
    throw new ConfigError('redis must be a client from createRedis() of @stratacache/core-client', {
      context: { option: 'redis' },
    });
  if (!Array.isArray(options.windows) || options.windows.length === 0)
    throw new ConfigError('windows must list at least one window series', { context: { option: 'windows' } });
  const specs = options.windows.map((spec, i) => resolveWindowSpec(spec, `windows[${i}]`));
  return new WindowReader(options.redis, specs, options.namespace ?? 'streams');
}
