/** Metrics of sessions: created, ended, rejected (by reason), binding mismatches, live count at scrape. */
import { Channels } from '../channels.js';
import { count, type Registrar } from '../registrar.js';
import { ScrapeCache } from '../scrape-cache.js';

/** Registers the sessions metrics on `r`. */
export function sessionsMetrics(r: Registrar, collectErrors: (source: string) => void): void {
  const c = Channels.sessions;
  const simple = (name: string, help: string) => r.events(name, help, ['namespace']);
  const created = simple('sessions_created_total', 'Sessions created.');
  const destroyed = simple('sessions_destroyed_total', 'Sessions destroyed (logout, destroyAllForUser, revoke).');
  const expired = simple('sessions_expired_total', 'Sessions found expired.');
  const evicted = simple('sessions_evicted_total', "Sessions evicted by the per-user limit ('evict-oldest').");
  const regenerated = simple('sessions_regenerated_total', 'Sessions given a new id.');
  const rejected = r.events(
    'sessions_rejected_total',
    'Sessions refused: limit (per-user limit), ip_mismatch / ua_mismatch (enforced binding), tampered, refused (store write of an id it did not issue).',
    ['namespace', 'reason'],
  );
  const mismatches = r.events('sessions_binding_mismatches_total', 'Requests that did not match a session binding.', [
    'namespace',
    'kind',
    'enforced',
  ]);
  const managers = r.options.sessions.map((manager) => ({
    manager,
    active: new ScrapeCache(
      () => manager.stats().then((s) => s.active),
      r.options.scrapeCacheTtlMs,
      r.options.scrapeTimeoutMs,
    ),
  }));
  r.gauge('sessions_active', 'Live sessions, counted at scrape.', ['namespace'], async function collect() {
    await Promise.all(
      managers.map(async ({ manager, active }) => {
        try {
          this.set(r.labels(this, { namespace: manager.namespace }), await active.read());
        } catch {
          collectErrors('sessions');
        }
      }),
    );
  });

  const by = (counter: typeof created) => (m: Record<string, unknown>) => counter.inc(count(m.count) ?? 1, m.namespace);
  r.on(c.created, by(created));
  r.on(c.destroyed, by(destroyed));
  r.on(c.expired, by(expired));
  r.on(c.evicted, by(evicted));
  r.on(c.regenerated, by(regenerated));
  const reject = (reason: string) => (m: Record<string, unknown>) => rejected.inc(1, m.namespace, reason);
  r.on(c.rejected, reject('limit'));
  r.on(c.tampered, reject('tampered'));
  r.on(c.refused, reject('refused'));
  r.on(c['binding-mismatch'], (m) => {
    mismatches.inc(1, m.namespace, m.kind, m.enforced === true);
    if (m.enforced === true) reject(m.kind === 'ua' ? 'ua_mismatch' : 'ip_mismatch')(m);
  });
}
