/**
 * Events on `node:diagnostics_channel`, named `stratacache:streams:<event>`.
 * The metrics package subscribes to these names. Fields that a metrics layer
 * may turn into labels (`source`, `topic`, `partition`, `operation`, `name`)
 * are configuration, never a record's key, id or value.
 */
import { channel } from 'node:diagnostics_channel';

/** Channel names published by @stratacache/streams. */
export const StreamsChannels = Object.freeze({
  /**
   * `{ source, records, applied, duplicate, late, dropped, invalid, durationMs }`: one partition
   * batch was applied (every window series) and committed. `late` counts applied records that came
   * after their window had ended (within grace); the other five add up to `records`.
   */
  batch: 'stratacache:streams:batch',
  /** `{ source, topic, partition, lag }`: records not yet consumed, polled every `lagInterval`. */
  lag: 'stratacache:streams:lag',
  /** `{ source, depth, paused }`: records queued or in flight; published when the source pauses or resumes and after each batch. */
  queue: 'stratacache:streams:queue',
  /** `{ source, topic, partition, offset }`: the source was told a batch is done (XACK, Kafka commit of `offset`). */
  commit: 'stratacache:streams:commit',
  /** `{ source, operation, error }`: a failure that is being retried or given up (`error` is the Error, a StratacacheError with a `code` when Redis failed). */
  error: 'stratacache:streams:error',
  /** `{ name, start, final }`: a window update was published (`final: true` once the watermark passed end + grace). */
  window: 'stratacache:streams:window',
});

type ChannelName = keyof typeof StreamsChannels;

const channels = Object.fromEntries(
  Object.entries(StreamsChannels).map(([name, full]) => [name, channel(full)]),
) as Record<ChannelName, ReturnType<typeof channel>>;

/** Publishes `message` on the named streams channel when anyone listens. */
export function publish(name: ChannelName, message: Record<string, unknown>): void {
  const target = channels[name];
  if (target.hasSubscribers) target.publish(message);
}

/** True when someone listens on the named channel (to skip building a message nobody reads). */
export function listened(name: ChannelName): boolean {
  return channels[name].hasSubscribers;
}
