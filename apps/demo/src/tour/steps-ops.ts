/**
 * The tour's operations steps: the per-minute order windows and a metrics
 * scrape of both instances.
 */

import type { TourContext } from './context.js';
import { call, eventually } from './http.js';

/** `GET /stats/orders`: per-minute windows of the orders stream, the current one filling up. */
export async function windowsStep(t: TourContext) {
  t.step('9. Orders per minute: windows over a Redis Stream');
  const read = async (base: string) => (await call('GET', `${base}/stats/orders?count=3`)).body as OrdersStats;
  const first = await eventually(async () => {
    const r = await read(t.a);
    return r.minutes?.length ? r : undefined;
  }, 15_000);
  if (!first) {
    t.check(false, 'the windows have data within 15 s');
    return { first, second: undefined };
  }
  const current = first.minutes[0] as OrdersStats['minutes'][number];
  // The same minute read on the other instance a moment later: it has grown (or the minute turned).
  const second = await eventually(async () => {
    const r = await read(t.b);
    const now = r.minutes?.[0];
    return now && (now.start !== current.start || now.orders > current.orders) ? r : undefined;
  }, 15_000);
  const show = (label: string, stats: OrdersStats) => {
    t.say(`   ${label} (instance ${stats.instance}):`);
    for (const m of stats.minutes)
      t.say(
        `     ${m.start.slice(11, 16)}  ${String(m.orders).padStart(4)} orders  ${String(m.units).padStart(4)} units  ${(m.revenueCents / 100).toFixed(2).padStart(9)} revenue  ~${m.products} products  ${JSON.stringify(m.bySource)}${m.final ? '  final' : '  (open)'}`,
      );
  };
  show('GET /stats/orders', first);
  if (second) show('a moment later', second);
  t.say(`   The generator (on ${first.stream.generatedBy}) and every checkout append to ${first.stream.key}.`);
  t.say('   Both instances consume it in one group (each its share); every event changes its minute exactly once,');
  t.say('   because the offset is stored by the same Lua script that applies the event.');
  t.check(first.minutes.length > 0 && current.orders > 0, 'the windows have orders');
  t.check(second !== undefined, 'the current window fills up, and both instances read the same windows');
  return { first, second };
}

/** What `/stats/orders` answers. */
export interface OrdersStats {
  instance: string;
  minutes: {
    start: string;
    orders: number;
    units: number;
    revenueCents: number;
    products: number;
    bySource: Record<string, number>;
    final: boolean;
  }[];
  stream: { key: string; generatedBy: string | null };
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
    'stratacache_cache_lookups_total',
    'stratacache_sql_cache_invalidations_total',
    'stratacache_lock_acquisitions_total',
    'stratacache_ratelimit_decisions_total',
    'stratacache_sessions_created_total',
    'stratacache_stream_records_total',
  ]) {
    const line = sa.find((l) => l.startsWith(prefix));
    if (line) t.say(`     ${line}`);
  }
  t.say(`   /healthz on a: ${ha.status}; /readyz on b: ${rb.status} (${Object.keys(rb.body.checks ?? {}).join(', ')})`);
  t.check(ma.status === 200 && sa.length > 0, 'a scrape has stratacache_ series');
  t.check(ha.status === 200 && rb.status === 200, 'both instances are live and ready');
  return { samples: sa.length, families: [...families] };
}
