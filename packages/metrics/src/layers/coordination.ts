/** Metrics of coordination: locks, fencing, claims, heartbeats, rate limits, semaphores. */
import { Channels } from '../channels.js';
import { count, type Registrar, seconds } from '../registrar.js';

/** Registers the coordination metrics on `r`. */
export function coordinationMetrics(r: Registrar): void {
  const c = Channels.coordination;
  const acquisitions = r.events(
    'lock_acquisitions_total',
    'Lock outcomes by lock family: acquired, contended (first attempt found it held), timeout (gave up), lost.',
    ['lock', 'result'],
  );
  const wait = r.histogram('lock_wait_seconds', 'Time from an acquire call to holding the lock.', ['lock'], 'slow');
  const held = r.histogram('lock_held_seconds', 'Time a lock was held, from acquire to release.', ['lock'], 'slow');
  const fencing = r.events('lock_fencing_refusals_total', 'Writes refused for carrying an older fencing token.', [
    'namespace',
  ]);
  const claims = r.events('claims_total', 'Task claim calls by result.', ['namespace', 'result']);
  const beats = r.events('heartbeats_total', 'Worker heartbeats.', ['group']);
  const dead = r.gauge('heartbeat_dead_workers', 'Workers found quiet by the last dead() call.', ['group']);
  const decisions = r.events(
    'ratelimit_decisions_total',
    'Rate-limit decisions: allowed, limited or blocked (penalty), and who decided (redis, insurance, fail-open, fail-closed).',
    ['limiter', 'decision', 'source'],
  );
  const semaphores = r.events('semaphore_acquisitions_total', 'Semaphore acquire outcomes.', ['semaphore', 'result']);
  const semWait = r.histogram('semaphore_wait_seconds', 'Time from an acquire call to a slot.', ['semaphore'], 'slow');
  const semHeld = r.histogram('semaphore_held_seconds', 'Time a semaphore slot was held.', ['semaphore'], 'slow');

  r.on(c['lock-acquired'], (m) => {
    acquisitions.inc(1, m.lock, 'acquired');
    const s = seconds(m.waitMs);
    if (s !== undefined) wait.observe(s, m.lock);
  });
  r.on(c['lock-contended'], (m) => acquisitions.inc(1, m.lock, 'contended'));
  r.on(c['lock-timeout'], (m) => acquisitions.inc(1, m.lock, 'timeout'));
  r.on(c['lock-lost'], (m) => acquisitions.inc(1, m.lock, 'lost'));
  r.on(c['lock-released'], (m) => {
    const s = seconds(m.holdMs);
    if (s !== undefined) held.observe(s, m.lock);
  });
  r.on(c['fence-refused'], (m) => fencing.inc(1, m.namespace));
  r.on(c.claim, (m) => claims.inc(1, m.namespace, m.result));
  r.on(c.heartbeat, (m) => beats.inc(1, m.group));
  r.on(c['heartbeat-dead'], (m) => dead.set(r.labels(dead, { group: m.group }), count(m.count) ?? 0));
  r.on(c['rate-limit'], (m) => decisions.inc(1, m.limiter, m.decision, m.source));
  r.on(c['semaphore-acquired'], (m) => {
    semaphores.inc(1, m.semaphore, 'acquired');
    const s = seconds(m.waitMs);
    if (s !== undefined) semWait.observe(s, m.semaphore);
  });
  r.on(c['semaphore-timeout'], (m) => semaphores.inc(1, m.semaphore, 'timeout'));
  r.on(c['semaphore-released'], (m) => {
    if (m.held === false) semaphores.inc(1, m.semaphore, 'lost');
    const s = seconds(m.holdMs);
    if (s !== undefined) semHeld.observe(s, m.semaphore);
  });
}
