/** Bad options throw ConfigError naming the option; TTLs come from calls, categories and tables. */

import { createCache } from '@stratacache/patterns';
import { describe, expect, it } from 'vitest';
import { createSqlCache, DEFAULT_CATEGORIES, type SqlDriver } from '../src/index.js';

/** A driver that must never be called: these tests check options only. */
const driver: SqlDriver = {
  dialect: 'postgres',
  pinned: false,
  query: () => Promise.reject(new Error('not called')),
  transaction: () => Promise.reject(new Error('not called')),
};
const cache = createCache({ memory: { maxEntries: 10 } });

describe('options', () => {
  it.each([
    [{ cache: undefined }, /cache must be a Cache/],
    [{ db: {} }, /db must be a driver/],
    [{ dialect: 'sqlite' }, /dialect must be/],
    [{ defaults: { ttl: 'soon' } }, /defaults.ttl/],
    [{ defaults: { category: 'nope' } }, /defaults.category: unknown category "nope"/],
    [{ categories: { hot: -1 } }, /categories.hot/],
    [{ tables: { t: {} } }, /tables.t needs a ttl or a category/],
    [{ tables: { t: { category: 'x' } } }, /tables.t.category/],
    [{ views: { v: 'orders' } }, /views.v must be an array/],
    [{ schemas: 'some' }, /schemas must be/],
    [{ parseCacheSize: 0 }, /parseCacheSize/],
    [{ horizon: { lifetime: 0 } }, /horizon.lifetime/],
  ])('%j is refused', (bad, message) => {
    expect(() => createSqlCache({ cache, db: driver, ...(bad as object) })).toThrow(message);
    try {
      createSqlCache({ cache, db: driver, ...(bad as object) });
    } catch (error) {
      expect((error as { code?: string }).code).toBe('E_CONFIG');
    }
  });

  it('requires defaultSchema for qualified MySQL names', () => {
    expect(() => createSqlCache({ cache, db: { ...driver, dialect: 'mysql' }, schemas: 'qualify' })).toThrow(
      /defaultSchema/,
    );
  });

  it('ships the documented categories', () => {
    expect(DEFAULT_CATEGORIES).toEqual({ static: '24h', reference: '1h', default: '5m', volatile: '30s' });
  });

  it('names tables by name alone by default, or schema-qualified on request', () => {
    const plain = createSqlCache({ cache, db: driver });
    expect(plain.table('Sales.Orders')).toBe('orders');
    const qualified = createSqlCache({ cache, db: driver, schemas: 'qualify' });
    expect(qualified.table('orders')).toBe('public.orders');
    expect(qualified.table('sales.orders')).toBe('sales.orders');
    plain.close();
    qualified.close();
  });
});
