/**
 * The order-event generator: synthetic orders appended to the Redis Stream
 * `{prefix}:shop:stream:orders` (next to the real checkouts' events), for the
 * per-minute windows of `GET /stats/orders`. One instance generates at a time:
 * it keeps a task claim (`ensureClaimTask`) that the other takes over within
 * a few seconds if it dies.
 */
import { quietError } from '../quiet-log.js';
import type { Services } from '../services.js';

/** What this instance's generator did. */
export interface GeneratorStatus {
  /** Who generates now (this instance or the other). */
  owner?: string;
  /** Events this instance appended. */
  appended: number;
  errors: number;
}

/** Starts the generator; resolves a handle to read its status and stop it. */
export function startOrderGenerator(s: Services): {
  status: GeneratorStatus;
  streamKey: string;
  stop(): Promise<void>;
} {
  const status: GeneratorStatus = { appended: 0, errors: 0 };
  const streamKey = s.ordersStream;
  const perSecond = s.config.ordersPerSecond;
  let running: Promise<void> | undefined;
  let seed = s.config.instance.charCodeAt(0) * 7919;
  const random = () => {
    // A small deterministic generator, so runs are comparable.
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };

  async function tick(): Promise<void> {
    const claim = await s.claims.ensureClaimTask('order-generator', { ttl: '5s' });
    status.owner = claim.owner;
    if (claim.status === 'held') return;
    await s.redis.clock.ready();
    // Event time on Redis's clock, so both instances' events agree on the minute they belong to.
    const time = String(Math.round(s.redis.clock.now()));
    const batch = s.redis.client.pipeline();
    for (let i = 0; i < perSecond; i++) {
      const productId = 1 + Math.floor(random() * 200);
      const qty = 1 + Math.floor(random() * 3);
      const amountCents = qty * (500 + ((productId * 7919) % 19_500));
      batch.xadd(
        streamKey,
        'MAXLEN',
        '~',
        '100000',
        '*',
        'time',
        time,
        'source',
        'generator',
        'productId',
        String(productId),
        'qty',
        String(qty),
        'amountCents',
        String(amountCents),
      );
    }
    await s.redis.run('xadd', () => batch.exec());
    status.appended += perSecond;
  }

  const timer = setInterval(() => {
    if (running || perSecond <= 0) return;
    running = tick()
      .catch((error: Error) => {
        status.errors++;
        quietError('order generator', error.message);
      })
      .finally(() => {
        running = undefined;
      });
  }, 1000);
  timer.unref();
  return {
    status,
    streamKey,
    async stop() {
      clearInterval(timer);
      await running;
      // So the other instance takes over at once; if Redis is gone, the claim ends with its TTL (5 s).
      await s.claims.releaseClaim('order-generator').catch(() => {});
    },
  };
}
