/**
 * `POST /checkout`: an order for one product, taken under the product's fenced
 * lock, in one transaction: the order row (its id is the `Idempotency-Key`, so
 * a retried request never orders twice) and the stock decrement, which the
 * database applies only if the holder's fencing token is newer than the last
 * one that wrote the stock. After COMMIT the event goes to the orders stream.
 *
 * `pauseMs` (at most 5000) sleeps after taking the lock: a stand-in for a GC
 * pause, so the tour can show a holder whose lock expired being refused.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';
import { withStockLock } from './stock-lock.js';

/** Why a checkout did not happen: rolled back and answered 409. */
class Refused extends Error {
  constructor(
    readonly reason: 'out-of-stock' | 'stale-fence' | 'not-found',
    message: string,
  ) {
    super(message);
  }
}

interface CheckoutBody {
  productId?: number;
  qty?: number;
  pauseMs?: number;
  lockTtlMs?: number;
}

/** Registers the checkout route. */
export async function checkoutRoutes(app: FastifyInstance, s: Services): Promise<void> {
  app.post<{ Body: CheckoutBody }>('/checkout', async (request, reply) => {
    const { productId, qty = 1, pauseMs = 0, lockTtlMs = 5000 } = request.body ?? {};
    if (!Number.isInteger(productId) || (productId as number) < 1)
      return reply.code(400).send({ error: 'bad-request', message: 'productId must be a positive integer' });
    if (!Number.isInteger(qty) || qty < 1 || qty > 100)
      return reply.code(400).send({ error: 'bad-request', message: 'qty must be an integer from 1 to 100' });
    if (!Number.isInteger(pauseMs) || pauseMs < 0 || pauseMs > 5000)
      return reply.code(400).send({ error: 'bad-request', message: 'pauseMs must be an integer from 0 to 5000' });
    if (!Number.isInteger(lockTtlMs) || lockTtlMs < 100 || lockTtlMs > 30_000)
      return reply.code(400).send({ error: 'bad-request', message: 'lockTtlMs must be an integer from 100 to 30000' });
    const id = productId as number;
    const orderId = String(request.headers['idempotency-key'] ?? randomUUID()).slice(0, 100);

    let outcome: Awaited<ReturnType<typeof place>>;
    try {
      outcome = await place(s, id, qty, orderId, { pauseMs, ttlMs: lockTtlMs });
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      return reply.code(error.reason === 'not-found' ? 404 : 409).send({
        instance: s.config.instance,
        error: error.reason,
        message: error.message,
        ...(error.reason === 'stale-fence' ? { fence: (error as Refused & { fence?: number }).fence } : {}),
      });
    }
    if (outcome.kind === 'busy') return reply.code(503).send({ error: 'busy', message: outcome.message });
    const { order, stockLeft, replayed } = outcome.value;
    if (!replayed)
      await publishOrder(s, order).catch((e: Error) => console.warn(`order event not published: ${e.message}`));
    return reply.code(replayed ? 200 : 201).send({
      instance: s.config.instance,
      replayed,
      order,
      stockLeft,
      lock: outcome.lock,
    });
  });
}

interface Order {
  id: string;
  product_id: number;
  qty: number;
  amount_cents: number;
  fence: string;
  instance: string;
}

async function place(
  s: Services,
  productId: number,
  qty: number,
  orderId: string,
  o: { pauseMs: number; ttlMs: number },
) {
  return withStockLock(
    s,
    productId,
    (fence) =>
      s.sql.transaction(async (tx) => {
        // Never from the cache: whether this order exists decides whether stock moves.
        const existing = await tx.query<Order>('SELECT * FROM orders WHERE id = $1', [orderId], { cache: false });
        if (existing.rows[0]) return { order: existing.rows[0], stockLeft: null, replayed: true };
        const updated = await tx.query<{ stock: number; price_cents: number }>(
          `UPDATE products SET stock = stock - $2, stock_fence = $3, updated_at = now()
           WHERE id = $1 AND stock >= $2 AND stock_fence < $3
           RETURNING stock, price_cents`,
          [productId, qty, fence],
        );
        const row = updated.rows[0];
        if (!row) {
          const current = await tx.query<{ stock: number; stock_fence: string }>(
            'SELECT stock, stock_fence FROM products WHERE id = $1',
            [productId],
            { cache: false },
          );
          const now = current.rows[0];
          if (!now) throw new Refused('not-found', `no product ${productId}`);
          if (Number(now.stock_fence) >= fence) {
            throw Object.assign(
              new Refused(
                'stale-fence',
                `refused by the database: this holder's fencing token ${fence} is older than ${now.stock_fence}, ` +
                  'the token of a later holder that already wrote the stock (our lock expired while we were paused)',
              ),
              { fence },
            );
          }
          throw new Refused('out-of-stock', `only ${now.stock} left of product ${productId}`);
        }
        const inserted = await tx.query<Order>(
          `INSERT INTO orders (id, product_id, qty, amount_cents, fence, instance)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
          [orderId, productId, qty, row.price_cents * qty, fence, s.config.instance],
        );
        return { order: inserted.rows[0] as Order, stockLeft: row.stock, replayed: false };
      }),
    o,
  );
}

/** Appends a committed order to the orders stream, next to the generated events. */
async function publishOrder(s: Services, order: Order): Promise<void> {
  const key = s.ordersStream;
  await s.redis.clock.ready();
  const time = String(Math.round(s.redis.clock.now()));
  await s.redis.run('xadd', (c) =>
    c.xadd(
      key,
      'MAXLEN',
      '~',
      '100000',
      '*',
      'time',
      time,
      'source',
      'checkout',
      'orderId',
      order.id,
      'productId',
      String(order.product_id),
      'qty',
      String(order.qty),
      'amountCents',
      String(order.amount_cents),
    ),
  );
}
