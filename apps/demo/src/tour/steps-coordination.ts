/**
 * The tour's coordination steps: sessions (device limit, IP binding in detect
 * mode, revoke), a 429 with its headers, 50 concurrent checkouts decrementing
 * stock exactly once each, a holder paused past its lock refused by its
 * fencing token, and the reindex job claimed by exactly one instance per period.
 */
import { randomUUID } from 'node:crypto';
import type { TourContext } from './context.js';
import { type Answer, call, Device, eventually } from './http.js';

/** Logins: two devices, a third evicts the oldest; another address is reported; revoke. */
export async function sessionsStep(t: TourContext) {
  t.step('4. Sessions: 2 devices per user, IP binding in detect mode, revoke');
  const from = { localAddress: t.clientAddress };
  const laptop = new Device('laptop', from);
  const phone = new Device('phone', from);
  const tablet = new Device('tablet', from);
  const login = (d: Device, base: string) =>
    d.call('POST', `${base}/login`, { body: { username: 'carol', password: 'stratashop' } });
  const l1 = await login(laptop, t.a);
  const l2 = await login(phone, t.b);
  const l3 = await login(tablet, t.a);
  t.say(
    `   carol logs in from a laptop (on a), a phone (on b), a tablet (on a): evicted ${l1.body.evicted}, ${l2.body.evicted}, ${l3.body.evicted}`,
  );
  const laptopNow = await laptop.call('GET', `${t.b}/me`);
  t.say(
    `   the laptop's session now: ${laptopNow.status} ${laptopNow.body.error ?? ''} (the least recently used device was logged out)`,
  );
  const list = await phone.call('GET', `${t.a}/me/sessions`);
  t.say(
    `   GET /me/sessions: ${list.body.sessions?.length} sessions (${list.body.sessions?.map((s: { ip: string }) => s.ip).join(', ')})`,
  );
  const elsewhere = await phone.call('GET', `${t.b}/me`, { localAddress: t.otherAddress });
  t.say(
    `   the phone's cookie sent from ${t.otherAddress}: ${elsewhere.status}, x-session-warning: ${elsewhere.headers['x-session-warning'] ?? '(none)'}`,
  );
  t.say('   detect mode lets the request through and reports it (header, diagnostics event, metric): the app decides.');
  // Listed most recently used first: the phone is the one asking, so the second is the tablet.
  const tabletRef = list.body.sessions?.[1]?.ref as string | undefined;
  const revoke = tabletRef ? await phone.call('DELETE', `${t.a}/me/sessions/${tabletRef}`) : undefined;
  const after = await phone.call('GET', `${t.a}/me/sessions`);
  const tabletNow = await tablet.call('GET', `${t.b}/me`);
  t.say(
    `   the phone revokes the tablet (DELETE /me/sessions/:ref): ${revoke?.status}; sessions left: ${after.body.sessions?.length}; the tablet's /me: ${tabletNow.status}`,
  );
  const logout = await phone.call('POST', `${t.b}/logout`);
  const gone = await phone.call('GET', `${t.a}/me`);
  t.say(`   logout on b, then /me on a: ${gone.status}`);
  t.check(l1.status === 200 && l2.status === 200 && l3.status === 200, 'three logins succeed');
  t.check(l3.body.evicted === 1 && laptopNow.status === 401, 'the third device evicts the least recently used one');
  t.check(list.body.sessions?.length === 2, 'the user has exactly 2 sessions');
  t.check(
    elsewhere.status === 200 && /ip-mismatch/.test(elsewhere.headers['x-session-warning'] ?? ''),
    'another address is reported, not refused',
  );
  t.check(
    revoke?.status === 200 && after.body.sessions?.length === 1 && tabletNow.status === 401,
    'a revoked device is logged out',
  );
  t.check(logout.status === 200 && gone.status === 401, 'after logout the session is gone on both instances');
  return { l1, l2, l3, laptopNow, list, elsewhere, revoke, after, tabletNow, gone };
}

/** Search until the limit answers 429, and show its headers. */
export async function rateLimitStep(t: TourContext) {
  t.step('5. Rate limits: a 429 and its headers');
  let last: Answer | undefined;
  let allowed = 0;
  for (let i = 0; i < 12; i++) {
    last = await call('GET', `${i % 2 ? t.b : t.a}/search?q=grinder`, { localAddress: t.clientAddress });
    if (last.status === 429) break;
    allowed++;
  }
  const h = last?.headers ?? {};
  t.say(`   ${allowed} searches from ${t.clientAddress} (alternating a and b) were allowed, then:`);
  t.say(`   HTTP ${last?.status}`);
  for (const name of [
    'ratelimit-limit',
    'ratelimit-remaining',
    'ratelimit-reset',
    'ratelimit-policy',
    'ratelimit',
    'retry-after',
  ])
    t.say(`     ${name}: ${h[name]}`);
  t.say(`   body: ${JSON.stringify(last?.body)}`);
  t.say(
    '   One sliding log in Redis (a Lua script on its clock, exact over any 10 s) for both instances, so the limit is per',
  );
  t.say(
    '   client, not per instance. RateLimit-Limit/-Remaining/-Reset are the widely used fields of the earlier IETF',
  );
  t.say("   drafts; RateLimit-Policy and RateLimit are the current draft's; Retry-After says when to come back.");
  t.say("   The route's onRequest hook is coordination's own Fastify middleware (@stratacache/coordination/fastify).");
  t.check(last?.status === 429, 'the 11th search within 10 s is refused with 429');
  t.check(allowed === 10, 'exactly 10 searches were allowed across both instances');
  t.check(
    h['ratelimit-limit'] === '10' &&
      h['ratelimit-remaining'] === '0' &&
      Number(h['retry-after']) >= 1 &&
      /^"search";r=0;t=\d+$/.test(h.ratelimit ?? ''),
    'the 429 carries RateLimit-*, RateLimit-Policy, RateLimit and Retry-After',
  );
  return { allowed, last };
}

/** 50 concurrent checkouts of a product with 20 in stock: 20 orders, stock 0, fences unique and increasing. */
export async function checkoutStep(t: TourContext, productId = 7) {
  t.step('6. Checkout: 50 concurrent orders, 20 in stock');
  const restock = await call('PUT', `${t.a}/products/${productId}`, { body: { stock: 20 } });
  t.say(`   PUT /products/${productId} {"stock": 20} (under the same lock, with its own fence): ${restock.status}`);
  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      call('POST', `${i % 2 ? t.b : t.a}/checkout`, {
        body: { productId },
        headers: { 'idempotency-key': randomUUID() },
      }),
    ),
  );
  const created = answers.filter((r) => r.status === 201);
  const refused = answers.filter((r) => r.status === 409 && r.body.error === 'out-of-stock');
  const fences = created.map((r) => Number(r.body.lock.fence)).sort((x, y) => x - y);
  const product = await call('GET', `${t.b}/products/${productId}?cache=off`);
  const stock = product.body?.product?.stock as number | undefined;
  const other = answers.filter((r) => r.status !== 201 && !(r.status === 409 && r.body.error === 'out-of-stock'));
  t.say(`   201 created: ${created.length}, 409 out of stock: ${refused.length}, other: ${other.length}`);
  if (other[0]) t.say(`   e.g. ${other[0].status}: ${JSON.stringify(other[0].body)}`);
  t.say(`   stock now: ${stock}; fencing tokens of the 20 orders: ${fences[0]} .. ${fences.at(-1)}, all distinct`);
  t.say(
    `   e.g. lock ${created[0]?.body.lock.name} held by ${created[0]?.body.lock.holder} with fence ${created[0]?.body.lock.fence}`,
  );
  t.say("   Each order took the product's lock, then in one transaction decremented the stock WHERE stock_fence < its");
  t.say('   fence and inserted the order; the database, not the lock, is the last word.');
  const key = (created[0]?.body.order.id as string | undefined) ?? 'no-order-was-created';
  const replay = await call('POST', `${t.a}/checkout`, { body: { productId }, headers: { 'idempotency-key': key } });
  const stockAfterReplay = (await call('GET', `${t.a}/products/${productId}?cache=off`)).body?.product?.stock;
  t.say(
    `   the first order sent again with its Idempotency-Key: ${replay.status}, replayed ${replay.body.replayed}, stock ${stockAfterReplay}`,
  );
  t.check(created.length === 20 && refused.length === 30, '20 orders succeed and 30 are refused for stock');
  t.check(stock === 0, 'stock ends at exactly 0');
  t.check(
    new Set(fences).size === fences.length && fences.every((f, i) => i === 0 || f > (fences[i - 1] as number)),
    'every order has its own fencing token',
  );
  t.check(
    replay.status === 200 && replay.body.replayed === true && stockAfterReplay === 0,
    'a replayed order does not decrement again',
  );
  return { created: created.length, refused: refused.length, stock, fences, replay };
}

/** A holder paused past its lock's TTL writes after a newer holder: the database refuses its fence. */
export async function fencingStep(t: TourContext, productId = 11) {
  t.step('7. Fencing: a holder paused past its lock is refused');
  await call('PUT', `${t.a}/products/${productId}`, { body: { stock: 5 } });
  // Margins for a busy machine: a's lock (1 s) is gone well before b asks (1.5 s), and b has written
  // well before a wakes up (3 s).
  const paused = call('POST', `${t.a}/checkout`, { body: { productId, pauseMs: 3000, lockTtlMs: 1000 } });
  await new Promise((r) => setTimeout(r, 1500));
  const later = await call('POST', `${t.b}/checkout`, { body: { productId } });
  const stale = await paused;
  t.say('   a takes the lock (TTL 1 s) and pauses 3 s (a stand-in for a GC pause); the lock expires meanwhile.');
  t.say(`   b takes the lock and orders: ${later.status}, fence ${later.body.lock?.fence}`);
  t.say(`   a wakes up and writes with fence ${stale.body.fence}: ${stale.status} ${stale.body.error}`);
  t.say(`     "${stale.body.message}"`);
  t.check(later.status === 201, 'the later holder orders');
  t.check(
    stale.status === 409 && stale.body.error === 'stale-fence',
    'the paused holder is refused by its fencing token',
  );
  return { later, stale };
}

/** The reindex job: each period run by exactly one instance; both instances try. */
export async function jobsStep(t: TourContext, periods = 2, timeoutMs = 60_000) {
  t.step('8. The reindex job: one instance per period');
  const jobs = await eventually(
    async () => {
      const [a, b] = await Promise.all([call('GET', `${t.a}/jobs`), call('GET', `${t.b}/jobs`)]);
      const runs = a.body.reindex.recentRuns as { period: string; instance: string }[];
      return runs.length >= periods && a.body.reindex.attempts > 0 && b.body.reindex.attempts > 0
        ? { a, b, runs }
        : undefined;
    },
    timeoutMs,
    500,
  );
  if (!jobs) {
    t.check(false, `${periods} reindex runs within ${timeoutMs / 1000} s`);
    return { runs: [], perPeriod: new Map<string, number>() };
  }
  const perPeriod = new Map<string, number>();
  for (const r of jobs.runs) perPeriod.set(r.period, (perPeriod.get(r.period) ?? 0) + 1);
  for (const r of jobs.runs.slice(0, 6)) t.say(`   period ${r.period}: run by instance ${r.instance}`);
  const ra = jobs.a.body.reindex;
  const rb = jobs.b.body.reindex;
  t.say(
    `   a: ${ra.attempts} attempts, ${ra.claimed} claimed, ${ra.held} held by the other; b: ${rb.attempts}, ${rb.claimed}, ${rb.held}`,
  );
  t.say("   Both instances try every period (cut on Redis's clock); the claim is one SET NX, so one wins.");
  t.check(
    [...perPeriod.values()].every((n) => n === 1),
    'every period was run by exactly one instance',
  );
  t.check(ra.attempts > 0 && rb.attempts > 0, 'both instances tried');
  return { runs: jobs.runs, perPeriod };
}
