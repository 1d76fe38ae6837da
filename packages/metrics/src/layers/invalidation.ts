/** Metrics of invalidation: bus messages, delivery delay, gaps, clears, connection, invalidator calls. */
import { Channels } from '../channels.js';
import { count, type Registrar, seconds } from '../registrar.js';

/** Registers the invalidation metrics on `r`. */
export function invalidationMetrics(r: Registrar): void {
  const c = Channels.invalidation;
  const messages = r.events('invalidation_messages_total', 'Invalidation bus messages published and received.', [
    'channel',
    'direction',
    'op',
  ]);
  const delivery = r.histogram(
    'invalidation_delivery_seconds',
    "Delay from a sender's publish to this instance receiving it (by the sender's clock, so skew included).",
    ['channel'],
    'fast',
  );
  const gaps = r.events('invalidation_gaps_total', 'Times messages were lost (sequence gap, or resubscribed).', [
    'channel',
    'reason',
  ]);
  const clears = r.events('invalidation_clears_total', 'Local memory tiers cleared, by reason.', ['channel', 'reason']);
  const connected = r.gauge('invalidation_bus_connected', '1 while the bus is subscribed, 0 while disconnected.', [
    'channel',
  ]);
  const failures = r.events('invalidation_publish_failures_total', 'Publishes that failed and were queued for retry.', [
    'channel',
  ]);
  const dropped = r.events('invalidation_dropped_total', 'Queued messages given up.', ['channel', 'reason']);
  const invalidations = r.events('invalidations_total', 'Invalidator calls by namespace, strategy and target.', [
    'namespace',
    'strategy',
    'target',
  ]);

  r.on(c.published, (m) => messages.inc(1, m.channel, 'published', m.op));
  r.on(c.received, (m) => {
    messages.inc(1, m.channel, 'received', m.op);
    const s = seconds(m.delayMs);
    if (s !== undefined) delivery.observe(s, m.channel);
  });
  r.on(c.gap, (m) => gaps.inc(1, m.channel, m.reason));
  r.on(c.clear, (m) => clears.inc(1, m.channel, m.reason));
  r.on(c.connected, (m) => connected.set(r.labels(connected, { channel: m.channel }), 1));
  r.on(c.disconnected, (m) => {
    const labels = r.labels(connected, { channel: m.channel });
    // A bus stopped on purpose is gone, not down: drop its series so no alert fires for it.
    if (m.reason === 'stopped') connected.remove(labels);
    else connected.set(labels, 0);
  });
  r.on(c['publish-failed'], (m) => failures.inc(1, m.channel));
  r.on(c.dropped, (m) => dropped.inc(count(m.count) ?? 1, m.channel, m.reason));
  r.on(c.invalidated, (m) => invalidations.inc(1, m.namespace, m.strategy, m.target));
}
