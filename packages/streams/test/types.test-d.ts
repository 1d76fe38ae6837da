/** Public types: kafkajs fits the Kafka source's structural interface; queries and results are typed. */
import { Kafka } from 'kafkajs';
import { expectTypeOf, test } from 'vitest';
import type { HealthCheck, HealthChecks, RecentQuery, WindowAggregator, WindowResult } from '../src/index.js';
import type { KafkaLike } from '../src/kafka.js';

test('a kafkajs client is a KafkaLike', () => {
  expectTypeOf(new Kafka({ brokers: ['127.0.0.1:9092'] })).toMatchTypeOf<KafkaLike>();
});

test('recent() takes count or since, not both', () => {
  expectTypeOf({ count: 5 }).toMatchTypeOf<RecentQuery>();
  expectTypeOf({ since: 0 }).toMatchTypeOf<RecentQuery>();
  expectTypeOf({ count: 5, since: 0 }).not.toMatchTypeOf<RecentQuery>();
  expectTypeOf<WindowAggregator['recent']>().returns.resolves.toEqualTypeOf<WindowResult[]>();
});

test('health checks have the shape metrics takes', () => {
  expectTypeOf<HealthChecks>().toEqualTypeOf<{
    live: Record<string, HealthCheck>;
    ready: Record<string, HealthCheck>;
  }>();
  expectTypeOf<HealthCheck>().parameters.toEqualTypeOf<[AbortSignal]>();
  expectTypeOf<ReturnType<HealthCheck>>().resolves.toEqualTypeOf<
    { ok: boolean; detail?: Record<string, unknown> } | boolean
  >();
});
