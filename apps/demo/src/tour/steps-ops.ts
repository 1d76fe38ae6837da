/**
 * The tour's operations steps: the per-minute order windows (or why they are
 * not there yet) and a metrics scrape of both instances.
 */

import type { TourContext } from './context.js';
import { call } from './http.js';

/** `GET /stats/orders`: the windows once @stratacache/streams exists; until then a 503 that says so. */
export async function windowsStep(t: TourContext) {
  t.step('9. Orders per minute (windowed aggregates)');
  const stats = await call('GET', `${t.a}/stats/orders`);
  if (stats.status === 503 && stats.body.error === 'windows-unavailable') {
    t.say(`   ${stats.status}: ${stats.body.message}`);
    t.say(
      `   The generator has appended ${stats.body.stream?.length} events to ${stats.body.stream?.key} so far (instance ${stats.body.stream?.generatedBy}).`,
    );
    t.check(Number(stats.body.stream?.length) > 0, 'order events are flowing into the Redis Stream');
    return { available: false as const, stats };
  }
  t.say(`   ${stats.status}: ${JSON.stringify(stats.body).slice(0, 300)}`);
  t.check(stats.status === 200, 'the windows answer');
  return { available: true as const, stats };
}

/** A scrape of `/metrics` on both instances. */
export async function metricsStep(t: TourContext) {
  t.step('10. Metrics, health, readiness');
  const [ma, mb, ha, rb] = await Promise.all([
    call('GET', `${t.a}/metrics`),
    call('GET', `${t.b}/metrics`),
    call('GET', `${t.a}/healthz`),
    call('GET', `${t.b}/readyz`),
  ]);
  const series = (text: string) => text.split('\n').filter((l) => l.startsWith('stratacache_'));
  const sa = series(String(ma.body));
  const families = new Set(sa.map((l) => l.split(/[{ ]/)[0]?.replace(/_(bucket|sum|count)$/, '')));
  t.say(
    `   /metrics on a: ${sa.length} stratacache_ samples in ${families.size} families; on b: ${series(String(mb.body)).length}`,
  );
  for (const prefix of [
    'stratacache_sql_cache_lookups_total',
    'stratacache_lock_acquisitions_total',
    'stratacache_ratelimit_decisions_total',
    'stratacache_sessions_created_total',
  ]) {
    const line = sa.find((l) => l.startsWith(prefix));
    if (line) t.say(`     ${line}`);
  }
  t.say(`   /healthz on a: ${ha.status}; /readyz on b: ${rb.status} (${Object.keys(rb.body.checks ?? {}).join(', ')})`);
  t.check(ma.status === 200 && sa.length > 0, 'a scrape has stratacache_ series');
  t.check(ha.status === 200 && rb.status === 200, 'both instances are live and ready');
  return { samples: sa.length, families: [...families] };
}
