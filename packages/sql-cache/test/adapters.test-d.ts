/** The adapters take the drivers' own objects, as their published types describe them. */
import type { PGlite } from '@electric-sql/pglite';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import type postgres from 'postgres';
import { expectTypeOf, test } from 'vitest';
import type { QueryResult, SqlDriver } from '../src/index.js';
import { mysql2Driver } from '../src/mysql2.js';
import { pgDriver } from '../src/pg.js';
import { pgliteDriver } from '../src/pglite.js';
import { postgresDriver } from '../src/postgres.js';
import type { SqlCache } from '../src/sql-cache.js';

test('every driver object is accepted', () => {
  expectTypeOf(pgDriver).toBeCallableWith({} as pg.Pool);
  expectTypeOf(pgDriver).toBeCallableWith({} as pg.Client);
  expectTypeOf(pgDriver).toBeCallableWith({} as pg.PoolClient);
  expectTypeOf(postgresDriver).toBeCallableWith({} as postgres.Sql);
  expectTypeOf(mysql2Driver).toBeCallableWith({} as mysql.Pool);
  expectTypeOf(mysql2Driver).toBeCallableWith({} as mysql.Connection);
  expectTypeOf(pgliteDriver).toBeCallableWith({} as PGlite);
  expectTypeOf(pgDriver({} as pg.Pool)).toEqualTypeOf<SqlDriver>();
});

test('rows take the type asked for', () => {
  const sql = {} as SqlCache;
  expectTypeOf(sql.query<{ id: number }>('SELECT 1')).resolves.toEqualTypeOf<QueryResult<{ id: number }>>();
  expectTypeOf(sql.getDataFromTable<{ id: number }>('t', [], {})).resolves.toEqualTypeOf<{ id: number }[]>();
});
