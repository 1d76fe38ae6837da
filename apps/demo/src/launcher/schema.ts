/**
 * The shop's tables and seed data, created by the launcher before the
 * instances start. Deterministic: every run starts from the same catalog, so
 * the tour and the tests know what to expect.
 */
import { createHash, randomBytes, scryptSync } from 'node:crypto';
import pg from 'pg';

/** Categories of the catalog. */
export const CATEGORIES = ['books', 'coffee', 'games', 'garden', 'kitchen', 'music', 'outdoor', 'tools'] as const;
/** Products in the seed. */
export const PRODUCT_COUNT = 200;
/** Reviews in the seed: enough that the catalog's aggregate costs the database real work. */
export const REVIEW_COUNT = 40_000;
/** Seeded users, all with the password {@link DEMO_PASSWORD}. */
export const USERS = ['alice', 'bob', 'carol'] as const;
/** The password of every seeded user (it is a demo). */
export const DEMO_PASSWORD = 'stratashop';

const TABLES = `
CREATE TABLE products (
  id integer PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  name text NOT NULL,
  category text NOT NULL,
  description text NOT NULL,
  price_cents integer NOT NULL,
  stock integer NOT NULL CHECK (stock >= 0),
  -- The newest fencing token that wrote stock: a write with an older token is refused.
  stock_fence bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_category ON products (category);
CREATE TABLE reviews (
  id serial PRIMARY KEY,
  product_id integer NOT NULL REFERENCES products (id),
  rating integer NOT NULL,
  body text NOT NULL
);
CREATE INDEX reviews_product ON reviews (product_id);
CREATE TABLE users (
  id text PRIMARY KEY,
  password_hash text NOT NULL
);
CREATE TABLE orders (
  id text PRIMARY KEY,
  product_id integer NOT NULL REFERENCES products (id),
  qty integer NOT NULL,
  amount_cents integer NOT NULL,
  fence bigint NOT NULL,
  instance text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_product ON orders (product_id);
CREATE TABLE search_index (
  product_id integer PRIMARY KEY REFERENCES products (id),
  document tsvector NOT NULL
);
CREATE TABLE product_views (
  product_id integer PRIMARY KEY REFERENCES products (id),
  views bigint NOT NULL,
  journal_id text NOT NULL
);
CREATE TABLE job_runs (
  id serial PRIMARY KEY,
  job text NOT NULL,
  period bigint NOT NULL,
  instance text NOT NULL,
  rows integer NOT NULL,
  ran_at timestamptz NOT NULL DEFAULT now()
);
`;

const ADJECTIVES = [
  'Classic',
  'Compact',
  'Deluxe',
  'Everyday',
  'Field',
  'Heritage',
  'Nordic',
  'Pocket',
  'Studio',
  'Urban',
];
const NOUNS: Record<(typeof CATEGORIES)[number], string[]> = {
  books: ['Atlas', 'Cookbook', 'Field Guide', 'Novel', 'Notebook'],
  coffee: ['Dripper', 'Grinder', 'Kettle', 'Mug', 'Roast'],
  games: ['Card Game', 'Chess Set', 'Dice Tower', 'Puzzle', 'Board Game'],
  garden: ['Planter', 'Pruner', 'Seed Kit', 'Trowel', 'Watering Can'],
  kitchen: ['Knife', 'Pan', 'Board', 'Ladle', 'Whisk'],
  music: ['Capo', 'Headphones', 'Metronome', 'Tuner', 'Ukulele'],
  outdoor: ['Backpack', 'Headlamp', 'Hammock', 'Stove', 'Tent'],
  tools: ['Level', 'Multitool', 'Screwdriver', 'Tape', 'Wrench'],
};

/**
 * Names the shape of the seeded database: the embedded one keeps a dump of itself right after
 * seeding under a name holding this, so a change of the tables or the seed is never served from an
 * old dump. Bump `SEED_REVISION` when the seed changes in a way the hash cannot see (the code below).
 */
const SEED_REVISION = 1;
export const SCHEMA_VERSION = createHash('sha256')
  .update(JSON.stringify({ TABLES, CATEGORIES, PRODUCT_COUNT, REVIEW_COUNT, USERS, SEED_REVISION }))
  .digest('hex')
  .slice(0, 12);

/** scrypt with a random salt, stored as `salt:hash` in hex. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `${salt.toString('hex')}:${scryptSync(password, salt, 32).toString('hex')}`;
}

/** Creates the tables (in `schema`, recreated when it is not `public`) and seeds them. */
export async function createSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if (schema !== 'public') {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(`SET search_path TO ${schema}`);
    }
    await client.query(TABLES);
    const rows: unknown[] = [];
    for (let id = 1; id <= PRODUCT_COUNT; id++) {
      const category = CATEGORIES[(id - 1) % CATEGORIES.length] as (typeof CATEGORIES)[number];
      const nouns = NOUNS[category];
      const name = `${ADJECTIVES[(id * 7) % ADJECTIVES.length]} ${nouns[(id * 3) % nouns.length]} ${id}`;
      const price = 500 + ((id * 7919) % 19_500);
      rows.push(
        id,
        `SKU-${String(id).padStart(4, '0')}`,
        name,
        category,
        `A ${name.toLowerCase()} for ${category} lovers`,
        price,
        100,
      );
    }
    const placeholders = Array.from({ length: PRODUCT_COUNT }, (_, i) => {
      const b = i * 7;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7})`;
    });
    await client.query(
      `INSERT INTO products (id, sku, name, category, description, price_cents, stock) VALUES ${placeholders.join(', ')}`,
      rows,
    );
    await client.query(
      `INSERT INTO reviews (product_id, rating, body)
       SELECT 1 + (g % ${PRODUCT_COUNT}), 1 + ((g * 7) % 5), 'review number ' || g FROM generate_series(1, ${REVIEW_COUNT}) g`,
    );
    await client.query(
      `INSERT INTO search_index (product_id, document)
       SELECT id, to_tsvector('simple', name || ' ' || category || ' ' || description) FROM products`,
    );
    for (const user of USERS) {
      await client.query('INSERT INTO users (id, password_hash) VALUES ($1, $2)', [user, hashPassword(DEMO_PASSWORD)]);
    }
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}
