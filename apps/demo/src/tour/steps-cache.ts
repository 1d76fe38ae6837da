/**
 * The tour's caching steps: a catalog read missing then hitting (and the other
 * instance hitting from Redis), a write invalidating both instances, `/top`'s
 * stampede protection, and the fail-safe while Redis is down.
 */

import { ms, type TourContext, verdict } from './context.js';
import { call, eventually } from './http.js';

/** Catalog reads: miss, hit from memory, hit from Redis on the other instance. */
export async function catalogStep(t: TourContext) {
  t.step('1. Catalog reads through sql-cache: miss, then hit');
  const page = '/products?category=garden';
  // Earlier runs may have cached this page: start from a known state, on every instance.
  await call('POST', `${t.a}/cache/invalidate`, { body: { tables: ['products'] } });
  t.say(
    '   POST /cache/invalidate {"tables": ["products"]}: a clean start (sql-cache invalidateTables, on every instance)',
  );
  const first = await call('GET', `${t.a}${page}`);
  const second = await call('GET', `${t.a}${page}`);
  const other = await call('GET', `${t.b}${page}`);
  t.say(
    `   GET ${page} on a: x-cache ${verdict(first.headers)}, ${ms(first.ms)}  (server-timing: ${first.headers['server-timing']})`,
  );
  t.say(`   the same on a:   x-cache ${verdict(second.headers)}, ${ms(second.ms)}`);
  t.say(`   the same on b:   x-cache ${verdict(other.headers)}, ${ms(other.ms)}`);
  t.say('   The first read ran the query (products JOIN reviews, GROUP BY) on PostgreSQL and stored the rows in');
  t.say("   Redis and in a's memory. a's second read came from its memory; b had never seen it, so it read Redis.");
  t.check(first.headers['x-cache'] === 'miss', 'the first read is a miss');
  t.check(second.headers['x-cache'] === 'hit', 'the second read on the same instance is a hit');
  t.check(
    other.headers['x-cache'] === 'hit' && other.headers['x-cache-tier'] === 'redis',
    'the other instance hits Redis',
  );
  return { first, second, other };
}

/** A write in a transaction invalidates the product on both instances. */
export async function invalidationStep(t: TourContext) {
  t.step('2. A write invalidates both instances');
  const id = 3;
  const read = (base: string) => call('GET', `${base}/products/${id}`);
  await read(t.a);
  const beforeA = await read(t.a);
  const beforeB = await read(t.b);
  const oldPrice = beforeA.body.product.price_cents as number;
  const newPrice = oldPrice === 1999 ? 2999 : 1999;
  t.say(
    `   product ${id} costs ${oldPrice}; a: x-cache ${verdict(beforeA.headers)}, b: x-cache ${verdict(beforeB.headers)}`,
  );
  const put = await call('PUT', `${t.a}/products/${id}`, { body: { price_cents: newPrice } });
  t.say(`   PUT /products/${id} {"price_cents": ${newPrice}} on a: ${put.status}, in a transaction; after COMMIT the`);
  t.say('   products table is invalidated: its tag time in Redis, and a bus message that drops every memory copy.');
  const afterB = await read(t.b);
  const afterA = await read(t.a);
  t.say(`   b now: x-cache ${verdict(afterB.headers)}, price ${afterB.body.product.price_cents}`);
  t.say(`   a now: x-cache ${verdict(afterA.headers)}, price ${afterA.body.product.price_cents}`);
  t.say(
    "   b missed and read PostgreSQL; a did not serve its memory copy (it was dropped) but b's fresh entry in Redis.",
  );
  t.check(put.status === 200, 'the update commits');
  t.check(beforeA.headers['x-cache'] === 'hit' && beforeB.headers['x-cache'] === 'hit', 'both instances had it cached');
  t.check(afterB.headers['x-cache'] === 'miss', 'the next read after the write misses');
  t.check(afterA.headers['x-cache-tier'] !== 'memory', "a's memory copy was dropped");
  t.check(
    afterA.body.product.price_cents === newPrice && afterB.body.product.price_cents === newPrice,
    'both instances serve the new price',
  );
  return { put, beforeA, beforeB, afterA, afterB, newPrice };
}

/** Twenty concurrent requests for an uncached /top on both instances run the factory once. */
export async function stampedeStep(t: TourContext) {
  t.step('3. /top: 20 concurrent requests, one computation');
  await call('DELETE', `${t.a}/top`);
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => call('GET', `${i % 2 ? t.b : t.a}/top`)));
  const runs = new Set(answers.map((r) => r.body.run as number));
  const misses = answers.filter((r) => r.headers['x-cache'] === 'miss').length;
  const computedBy = answers[0]?.body.computedBy as string;
  t.say('   DELETE /top forgot the ranking; then 10 requests to a and 10 to b at once.');
  t.say(`   factory runs: ${[...runs].join(', ')}   (one run number: one computation, by ${computedBy})`);
  t.say(`   ${misses} answer(s) ran the factory; the others waited for it: in their process by sharing its promise,`);
  t.say('   across processes on the stampede lock (a fenced lock per key), reading Redis until the value appeared.');
  t.check(
    answers.every((r) => r.status === 200),
    'every request answers 200',
  );
  t.check(runs.size === 1, 'the factory ran once for all 20 requests');
  return { answers, runs: [...runs] };
}

/** With Redis paused: /top serves its stale copy, the catalog reads PostgreSQL, and everything recovers. */
export async function failSafeStep(t: TourContext, pauseMs = 4000) {
  t.step('11. Redis stops: fail-safe and recovery');
  if (!t.redis.owned || !t.redis.pid) {
    t.say('   Skipped: the demo runs on REDIS_URL, a Redis it did not start, so the tour will not pause it.');
    return { skipped: true as const };
  }
  const pid = t.redis.pid;
  await call('GET', `${t.a}/top`); // in a's memory now
  await call('POST', `${t.a}/top/expire`);
  t.say('   /top was read on a (so a holds it in memory), then expired: past its TTL but kept for its 10 min grace.');
  process.kill(pid, 'SIGSTOP');
  t.say(`   SIGSTOP to redis-server (pid ${pid}): connections stay open, nothing answers (the worst kind of outage).`);
  try {
    const top = await call('GET', `${t.a}/top`);
    const catalog = await call('GET', `${t.a}/products?category=tools`);
    const again = await call('GET', `${t.a}/top`);
    const ready = await call('GET', `${t.a}/readyz`);
    const search = await call('GET', `${t.a}/search?q=grinder`, { localAddress: t.clientAddress });
    t.say(
      `   GET /top on a:      ${top.status}, x-cache ${verdict(top.headers)}, ${ms(top.ms)}, age ${top.headers.age} s`,
    );
    t.say('     the factory needs Redis (the ranking lives there); it failed or ran past the 500 ms soft timeout, so');
    t.say('     getOrSet served the last good value (grace) instead of an error.');
    t.say(`   GET /products on a: ${catalog.status}, x-cache ${verdict(catalog.headers)}, ${ms(catalog.ms)}`);
    t.say('     sql-cache saw Redis failing and read PostgreSQL directly, caching nothing meanwhile.');
    t.say('     (The first requests wait out the 2 s command timeout; after 5 failures the circuit breaker opens');
    t.say('     and nothing waits for Redis any more.)');
    t.say(`   GET /top again:     ${again.status}, x-cache ${verdict(again.headers)}, ${ms(again.ms)}`);
    t.say(
      `   GET /readyz:        ${ready.status} (${Object.entries(ready.body.checks ?? {})
        .map(([k, v]) => `${k} ${(v as { ok: boolean }).ok ? 'ok' : 'failing'}`)
        .join(', ')})`,
    );
    t.say(
      `   GET /search on a:   ${search.status}, x-cache ${verdict(search.headers)}, x-ratelimit-source ${search.headers['x-ratelimit-source'] ?? '(none)'}`,
    );
    t.say("     the rate limit could not ask Redis: its 'insurance' policy counted in a's memory, and said so.");
    t.check(top.status === 200 && top.headers['x-cache'] === 'stale', '/top serves its stale copy while Redis is down');
    t.check(catalog.status === 200 && catalog.headers['x-cache'] === 'bypass', 'the catalog is served from PostgreSQL');
    t.check(ready.status === 503, 'readiness fails while Redis is down');
    t.check(
      search.status === 200 && search.headers['x-ratelimit-source'] === 'insurance',
      'the rate limit falls back to counting in memory, and the answer says so',
    );
    const spent = top.ms + catalog.ms + again.ms + ready.ms + search.ms;
    await new Promise((r) => setTimeout(r, Math.max(0, pauseMs - spent)));
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  t.say('   SIGCONT: Redis answers again. The breaker lets one probe through after 5 s, then closes.');
  const recovered = await eventually(async () => {
    const r = await call('GET', `${t.a}/readyz`);
    return r.status === 200 ? r : undefined;
  }, 20_000);
  const fresh = await eventually(async () => {
    const r = await call('GET', `${t.a}/top`);
    return r.headers['x-cache'] !== 'stale' ? r : undefined;
  }, 20_000);
  t.say(
    `   /readyz: ${recovered?.status ?? 'still failing'}; GET /top: x-cache ${fresh ? verdict(fresh.headers) : 'still stale'}, age ${fresh?.headers.age ?? '?'} s`,
  );
  t.check(recovered?.status === 200, 'readiness passes again after Redis is back');
  t.check(fresh !== undefined, '/top serves a fresh ranking again');
  return { skipped: false as const, recovered: recovered?.status, fresh: fresh?.headers['x-cache'] };
}
