/**
 * @stratacache/streams: windowed aggregates (tumbling and hopping windows on
 * event time, late data within grace, distinct counts) from Redis Streams or
 * Kafka into Redis, applied once per record however often it is delivered.
 * Kafka lives on the `@stratacache/streams/kafka` subpath.
 */

export type { AggregatorStats, WindowAggregatorEvents } from './aggregator.js';
export { createWindowAggregator, WindowAggregator } from './aggregator.js';
export { StreamsChannels } from './diagnostics.js';
export type { HealthCheck, HealthCheckResult, HealthChecks, HealthOutcome } from './health.js';
export { runHealthChecks } from './health.js';
export type { WindowsHandler, WindowsHandlerOptions } from './http.js';
export { createWindowsHandler } from './http.js';
export type {
  BatchOptions,
  EventTime,
  QueueOptions,
  ResolvedAggregatorOptions,
  ResolvedWindowSpec,
  RetryOptions,
  WindowAggregatorOptions,
  WindowSpec,
} from './options.js';
export { resolveAggregatorOptions, resolveWindowSpec } from './options.js';
export type {
  DimensionAggregate,
  FieldAggregate,
  RecentQuery,
  WindowReaderOptions,
  WindowResult,
  WindowUpdate,
} from './reader.js';
export { createWindowReader, WindowReader } from './reader.js';
export type { RecordCounts } from './record-counts.js';
export type { RedisStreamSourceOptions } from './redis-stream-source.js';
export { RedisStreamSource } from './redis-stream-source.js';
export type {
  PartitionLag,
  ResumePoint,
  SourceBatch,
  SourceHandlers,
  SourcePartition,
  SourceStatus,
  StreamRecord,
  StreamSource,
} from './source.js';
