/**
 * Keys and hash fields of one window series. Every key carries the series'
 * hash tag, so one script can touch them all on Cluster:
 *
 * | key                                   | type | holds                                              |
 * |---------------------------------------|------|----------------------------------------------------|
 * | `{p}:{ns}:win:{<name>}:off`           | HASH | `o:<partition>` last applied offset, `w:` watermark, `t:` last apply time, `minwm` |
 * | `{p}:{ns}:win:{<name>}:idx`           | ZSET | window starts (score = member = start ms)          |
 * | `{p}:{ns}:win:{<name>}:w:<start>`     | HASH | the window's aggregates (fields below)             |
 * | `{p}:{ns}:win:{<name>}:hll:<start>:<field>` | HLL | distinct values of `field` in the window  |
 */
import { encodeKeyPart, type KeyBuilder } from '@stratacache/core-client';
import type { ResolvedWindowSpec } from './options.js';

/** Keys of one series. */
export class SeriesKeys {
  readonly offsets: string;
  readonly index: string;
  /** Pub/sub topic of the series' updates (the channel is `keys.channel(topic)`). */
  readonly topic: string;
  readonly channel: string;
  private readonly tag;

  constructor(
    private readonly keys: KeyBuilder,
    readonly spec: ResolvedWindowSpec,
  ) {
    this.tag = keys.tag(spec.name);
    this.offsets = keys.key('win', this.tag, 'off');
    this.index = keys.key('win', this.tag, 'idx');
    this.topic = `windows.${spec.name}`;
    this.channel = keys.channel(this.topic);
  }

  /** The hash of the window starting at `start` (ms). */
  window(start: number): string {
    return this.keys.key('win', this.tag, 'w', start);
  }

  /** The HyperLogLog of `field`'s distinct values in the window starting at `start`. */
  distinct(start: number, field: string): string {
    return this.keys.key('win', this.tag, 'hll', start, field);
  }
}

/**
 * Hash fields of a window: `count`, `sum:<f>`, `min:<f>`, `max:<f>`, and per
 * dimension value `d:<dim>:<value>:count`, `d:<dim>:<value>:sum:<f>`, ...
 * The value is percent-encoded like a key part, so a `:` in it cannot split a field.
 */
export const windowField = {
  count: 'count',
  stat: (stat: 'sum' | 'min' | 'max', field: string) => `${stat}:${field}`,
  dimension: (dimension: string, value: string) => `d:${dimension}:${encodeKeyPart(value)}:`,
};
