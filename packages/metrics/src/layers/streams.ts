/** Metrics of stream consumers: records by result, batch durations, lag, queue, commits, errors. */
import { Channels } from '../channels.js';
import { count, type Registrar, seconds } from '../registrar.js';

const RESULTS = ['applied', 'duplicate', 'late', 'dropped', 'invalid'] as const;

/** Registers the stream-consumer metrics on `r`. */
export function streamsMetrics(r: Registrar): void {
  const c = Channels.streams;
  const records = r.events(
    'stream_records_total',
    'Stream records by result: applied, duplicate, late, dropped, invalid.',
    ['source', 'result'],
  );
  const batches = r.histogram('stream_batch_duration_seconds', 'Duration of one consumed batch.', ['source'], 'slow');
  const lag = r.gauge('stream_consumer_lag', 'Records behind the head of the partition.', [
    'source',
    'topic',
    'partition',
  ]);
  const depth = r.gauge('stream_queue_depth', 'Records waiting in the consumer queue.', ['source']);
  const paused = r.gauge('stream_queue_paused', '1 while the consumer is paused for back-pressure.', ['source']);
  const committed = r.gauge('stream_committed_offset', 'Last committed offset.', ['source', 'topic', 'partition']);
  const lastCommit = r.gauge('stream_last_commit_timestamp_seconds', 'When the last commit happened (Unix seconds).', [
    'source',
    'topic',
    'partition',
  ]);
  const errors = r.events('stream_errors_total', 'Consumer errors by operation.', ['source', 'operation']);

  r.on(c.batch, (m) => {
    for (const result of RESULTS) {
      records.inc(count(m[result]) ?? 0, m.source, result);
    }
    const s = seconds(m.durationMs);
    if (s !== undefined) batches.observe(s, m.source);
  });
  r.on(c.lag, (m) => {
    const n = Number(m.lag);
    if (!Number.isFinite(n)) throw new TypeError('lag');
    lag.set(r.labels(lag, { source: m.source, topic: m.topic, partition: m.partition }), n);
  });
  r.on(c.queue, (m) => {
    const labels = r.labels(depth, { source: m.source });
    depth.set(labels, count(m.depth) ?? 0);
    paused.set(labels, m.paused === true ? 1 : 0);
  });
  r.on(c.commit, (m) => {
    const labels = r.labels(committed, { source: m.source, topic: m.topic, partition: m.partition });
    const offset = Number(m.offset);
    if (Number.isFinite(offset)) committed.set(labels, offset);
    lastCommit.set(labels, Date.now() / 1000);
  });
  r.on(c.error, (m) => errors.inc(1, m.source, m.operation));
}
