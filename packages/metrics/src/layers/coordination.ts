/** Metrics of coordination: locks, fencing, claims, heartbeats, rate limits, semaphores. */
import { Channels } from '../channels.js';
import { count, type Registrar, seconds } from '../registrar.js';

/** Registers the coordination metrics on `r`. */
export function coordinationMetrics(r: Registrar): void {
  const c = Channels.coordination;
  const acquisitions = r.counter(
    'lock_acquisitions_total',
    'Lock outcomes by lock family: acquired, contended (first attempt found it held), timeout (gave up), lost.',
    ['lock', 'result'],
  );
  const wait = r.histogram('lock_wait_seconds', 'Time from an acquire call to holding the lock.', ['lock'], 'slow');
  const held = r.histogram('lock_held_seconds', 'Time a lock was held, from acquire to release.', ['lock'], 'slow');
  const fencing = r.counter('lock_fencing_refusals_total', 'Writes refused for carrying an older fencing token.', [
    'namespace',
  ]);
  const claims = r.counter('claims_total', 'Task claim calls by result.', ['namespace', 'result']);
  const beats = r.counter('heartbeats_total', 'Worker heartbeats.', ['group']);
  const dead = r.gauge('heartbeat_dead_workers', 'Workers found quiet by the last dead() call.', ['group']);
  const decisions = r.counter(
    'ratelimit_decisions_total',
    'Rate-limit decisions: allowed, limited or blocked (penalty), and who decided (redis, insurance, fail-open, fail-closed).',
    ['limiter', 'decision', 'source'],
  );
  const semaphores = r.counter('semaphore_acquisitions_total', 'Semaphore acquire outcomes.', ['semaphore', 'result']);
  const semWait = r.histogram('semaphore_wait_seconds', 'Time from an acquire call to a slot.', ['semaphore'], 'slow');
  const semHeld = r.histogram('semaphore_held_seconds', 'Time a semaphore slot was held.', ['semaphore'], 'slow');

  const lockOutcome = (result: string) => (m: Record<string, unknown>) =>
    acquisitions.inc(r.labels(acquisitions, { lock: m.lock, result }));
  r.on(c['lock-acquired'], (m) => {
    lockOutcome('acquired')(m);
    const s = seconds(m.waitMs);
    if (s !== undefined) wait.observe(r.labels(wait, { lock: m.lock }), s);
  });
  r.on(c['lock-contended'], lockOutcome('contended'));
  r.on(c['lock-timeout'], lockOutcome('timeout'));
  r.on(c['lock-lost'], lockOutcome('lost'));
  r.on(c['lock-released'], (m) => {
    const s = seconds(m.holdMs);
    if (s !== undefined) held.observe(r.labels(held, { lock: m.lock }), s);
  });
  r.on(c['fence-refused'], (m) => fencing.inc(r.labels(fencing, { namespace: m.namespace })));
  r.on(c.claim, (m) => claims.inc(r.labels(claims, { namespace: m.namespace, result: m.result })));
  r.on(c.heartbeat, (m) => beats.inc(r.labels(beats, { group: m.group })));
  r.on(c['heartbeat-dead'], (m) => dead.set(r.labels(dead, { group: m.group }), count(m.count) ?? 0));
  r.on(c['rate-limit'], (m) =>
    decisions.inc(r.labels(decisions, { limiter: m.limiter, decision: m.decision, source: m.source })),
  );
  r.on(c['semaphore-acquired'], (m) => {
    semaphores.inc(r.labels(semaphores, { semaphore: m.semaphore, result: 'acquired' }));
    const s = seconds(m.waitMs);
    if (s !== undefined) semWait.observe(r.labels(semWait, { semaphore: m.semaphore }), s);
  });
  r.on(c['semaphore-timeout'], (m) =>
    semaphores.inc(r.labels(semaphores, { semaphore: m.semaphore, result: 'timeout' })),
  );
  r.on(c['semaphore-released'], (m) => {
    if (m.held === false) semaphores.inc(r.labels(semaphores, { semaphore: m.semaphore, result: 'lost' }));
    const s = seconds(m.holdMs);
    if (s !== undefined) semHeld.observe(r.labels(semHeld, { semaphore: m.semaphore }), s);
  });
}
