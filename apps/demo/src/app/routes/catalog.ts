/**
 * The catalog, read through sql-cache: `GET /products`, `GET /products/:id`,
 * `GET /search` (rate limited: 10 per 10 s per client address, by
 * coordination's Fastify middleware), and `PUT /products/:id`, a write in a
 * transaction whose tables are invalidated on every instance after COMMIT.
 *
 * Every read answers with `x-cache` (hit, miss or bypass: what sql-cache did),
 * `x-cache-tier` on a hit, and `server-timing` with the time the read took.
 * `?cache=off` (or `x-cache-bypass: 1`) reads without the cache, for comparison.
 * `POST /cache/invalidate` invalidates tables by hand (sql-cache's `invalidateTables`).
 */
import type { FastifyInstance } from 'fastify';
import { cacheHeaders, observe, wantsBypass } from '../cache-status.js';
import type { Services } from '../services.js';
import { withStockLock } from './stock-lock.js';

const LIST = `
SELECT p.id, p.sku, p.name, p.category, p.price_cents, p.stock,
       count(r.id)::int AS reviews, coalesce(round(avg(r.rating), 2), 0)::float AS rating
FROM products p LEFT JOIN reviews r ON r.product_id = p.id
WHERE ($1::text IS NULL OR p.category = $1)
GROUP BY p.id ORDER BY p.id LIMIT $2 OFFSET $3`;

const ONE = `
SELECT p.id, p.sku, p.name, p.category, p.description, p.price_cents, p.stock, p.updated_at,
       count(r.id)::int AS reviews, coalesce(round(avg(r.rating), 2), 0)::float AS rating
FROM products p LEFT JOIN reviews r ON r.product_id = p.id
WHERE p.id = $1 GROUP BY p.id`;

const SEARCH = `
SELECT p.id, p.name, p.category, p.price_cents
FROM search_index s JOIN products p ON p.id = s.product_id
WHERE s.document @@ plainto_tsquery('simple', $1)
ORDER BY p.id LIMIT 20`;

/** Registers the catalog routes. */
export async function catalogRoutes(app: FastifyInstance, s: Services): Promise<void> {
  app.get<{ Querystring: { category?: string; page?: string; cache?: string } }>(
    '/products',
    async (request, reply) => {
      const page = Math.max(1, Number(request.query.page ?? 1) || 1);
      const bypass = wantsBypass(request.query, request.headers);
      const observed = await observe(
        () => s.sql.query(LIST, [request.query.category ?? null, 50, (page - 1) * 50], bypass ? { cache: false } : {}),
        { namespace: 'sql', sql: true, bypass },
      );
      cacheHeaders(reply, observed, 'sql');
      return { instance: s.config.instance, page, products: observed.value.rows };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { cache?: string } }>('/products/:id', async (request, reply) => {
    const id = Number(request.params.id);
    if (!Number.isInteger(id) || id < 1)
      return reply.code(400).send({ error: 'bad-id', message: 'id must be a positive integer' });
    const bypass = wantsBypass(request.query, request.headers);
    const observed = await observe(() => s.sql.query(ONE, [id], bypass ? { cache: false } : {}), {
      namespace: 'sql',
      sql: true,
      bypass,
    });
    cacheHeaders(reply, observed, 'sql');
    const product = observed.value.rows[0];
    if (!product) return reply.code(404).send({ error: 'not-found', message: `no product ${id}` });
    // A view: counted live in Redis, journaled for PostgreSQL (write-behind). A failure to count
    // must not fail the page: the product is still shown, and the failure is logged.
    const views = await s.views.record(id).catch((error: Error) => {
      console.warn(`view of product ${id} not counted: ${error.message}`);
      return null;
    });
    return { instance: s.config.instance, product, views };
  });

  app.get<{ Params: { id: string } }>('/products/:id/views', async (request) => {
    const id = Number(request.params.id);
    return { instance: s.config.instance, productId: id, ...(await s.views.read(id)) };
  });

  app.put<{ Params: { id: string }; Body: { name?: string; price_cents?: number; stock?: number } }>(
    '/products/:id',
    async (request, reply) => {
      const id = Number(request.params.id);
      const body = request.body ?? {};
      const bad = validateUpdate(id, body);
      if (bad) return reply.code(400).send({ error: 'bad-request', message: bad });
      // Stock is what checkouts decrement under a fenced lock: a restock takes the same lock and
      // writes its fence too, so a checkout paused past its lock can never overwrite it.
      const outcome = await withStockLock(s, id, async (fence) =>
        s.sql.transaction(async (tx) => {
          const updated = await tx.query(
            `UPDATE products SET name = coalesce($2, name), price_cents = coalesce($3, price_cents),
               stock = coalesce($4, stock), stock_fence = CASE WHEN $4::int IS NULL THEN stock_fence ELSE $5 END,
               updated_at = now()
             WHERE id = $1 AND ($4::int IS NULL OR stock_fence < $5)
             RETURNING id, name, price_cents, stock, stock_fence, updated_at`,
            [id, body.name ?? null, body.price_cents ?? null, body.stock ?? null, fence],
          );
          return updated.rows[0];
        }),
      );
      if (outcome.kind === 'busy') return reply.code(503).send({ error: 'busy', message: outcome.message });
      if (!outcome.value) return reply.code(404).send({ error: 'not-found', message: `no product ${id}` });
      return {
        instance: s.config.instance,
        product: outcome.value,
        invalidated: ['products'],
        note: 'committed; the products table was invalidated on every instance after COMMIT',
      };
    },
  );

  app.post<{ Body: { tables?: string[] } }>('/cache/invalidate', async (request, reply) => {
    const tables = request.body?.tables;
    if (!Array.isArray(tables) || tables.length === 0 || !tables.every((t) => typeof t === 'string'))
      return reply.code(400).send({ error: 'bad-request', message: 'send {"tables": ["products"]}' });
    await s.sql.invalidateTables(tables);
    return { instance: s.config.instance, invalidated: tables, note: 'on every instance: Redis tag times and the bus' };
  });

  app.get<{ Querystring: { q?: string; cache?: string } }>(
    '/search',
    { onRequest: s.rateLimits.search },
    async (request, reply) => {
      const q = (request.query.q ?? '').trim();
      if (!q) return reply.code(400).send({ error: 'bad-request', message: 'q is required: /search?q=coffee' });
      const bypass = wantsBypass(request.query, request.headers);
      const observed = await observe(() => s.sql.query(SEARCH, [q], bypass ? { cache: false } : {}), {
        namespace: 'sql',
        sql: true,
        bypass,
      });
      cacheHeaders(reply, observed, 'sql');
      return { instance: s.config.instance, q, results: observed.value.rows };
    },
  );
}

function validateUpdate(
  id: number,
  body: { name?: unknown; price_cents?: unknown; stock?: unknown },
): string | undefined {
  if (!Number.isInteger(id) || id < 1) return 'id must be a positive integer';
  if (body.name !== undefined && (typeof body.name !== 'string' || body.name.length === 0 || body.name.length > 200))
    return 'name must be a non-empty string of at most 200 characters';
  if (body.price_cents !== undefined && (!Number.isInteger(body.price_cents) || (body.price_cents as number) < 0))
    return 'price_cents must be a non-negative integer';
  if (body.stock !== undefined && (!Number.isInteger(body.stock) || (body.stock as number) < 0))
    return 'stock must be a non-negative integer';
  if (body.name === undefined && body.price_cents === undefined && body.stock === undefined)
    return 'give at least one of name, price_cents, stock';
  return undefined;
}
