/**
 * Orders and revenue per minute, from the orders stream, with
 * `@stratacache/streams`: each instance is one consumer of the stream's group
 * (so the two split the events), and every event changes the per-minute
 * windows in Redis exactly once, however often it is delivered (the offset is
 * stored by the same script that applies it). Both instances read the same
 * windows back.
 */
import type { StrataRedis } from '@stratacache/core-client';
import { createWindowAggregator, RedisStreamSource, type WindowAggregator } from '@stratacache/streams';
import { ORDER_WINDOWS } from './redis-names.js';

/** The name of the per-minute series. */
export const ORDERS_PER_MINUTE = ORDER_WINDOWS.series;

/** A per-minute window as `/stats/orders` shows it. */
export interface OrdersMinute {
  start: string;
  end: string;
  orders: number;
  units: number;
  revenueCents: number;
  /** Orders by where they came from: the generator or a real checkout. */
  bySource: Record<string, number>;
  /** Distinct products ordered (HyperLogLog estimate). */
  products: number;
  /** True once no late event can change it any more. */
  final: boolean;
}

/** Creates (does not start) the aggregator of instance `instance` over `stream`. */
export function createOrdersWindows(redis: StrataRedis, stream: string, instance: string): WindowAggregator {
  return createWindowAggregator({
    redis,
    namespace: ORDER_WINDOWS.namespace,
    // Each instance keeps its consumer name across restarts, as the streams package asks.
    source: new RedisStreamSource({
      redis,
      stream,
      group: 'orders-windows',
      consumer: `instance-${instance}`,
      block: '1s',
    }),
    time: 'time',
    windows: [
      {
        name: ORDERS_PER_MINUTE,
        size: ORDER_WINDOWS.size,
        grace: ORDER_WINDOWS.grace,
        retention: '2h',
        fields: ['qty', 'amountCents'],
        dimensions: ['source'],
        distinct: ['productId'],
      },
    ],
  });
}

/** The last `count` minutes, newest first. */
export async function recentMinutes(aggregator: WindowAggregator, count = 10): Promise<OrdersMinute[]> {
  const windows = await aggregator.recent(ORDERS_PER_MINUTE, { count });
  return windows.reverse().map((w) => ({
    start: new Date(w.start).toISOString(),
    end: new Date(w.end).toISOString(),
    orders: w.count,
    units: w.fields.qty?.sum ?? 0,
    revenueCents: w.fields.amountCents?.sum ?? 0,
    bySource: Object.fromEntries(Object.entries(w.dimensions.source ?? {}).map(([k, v]) => [k, v.count])),
    products: w.distinct.productId ?? 0,
    final: w.final,
  }));
}
