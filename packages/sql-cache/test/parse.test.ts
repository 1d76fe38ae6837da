/**
 * The parsers: which tables a statement reads or writes, what it is, and
 * what neither parser can read. No database: these are the rules the cache
 * trusts, checked statement by statement.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_TABLES, mysqlParser, postgresParser, type Statement } from '../src/index.js';

const pg = postgresParser();
const my = mysqlParser();
beforeAll(async () => {
  await Promise.all([pg.load(), my.load()]);
});

function one(parser: typeof pg, sql: string): Statement {
  const analysis = parser.analyze(sql);
  if (!analysis.ok) throw new Error(`could not parse: ${analysis.reason}`);
  expect(analysis.statements).toHaveLength(1);
  return analysis.statements[0] as Statement;
}

describe('PostgreSQL (libpg-query)', () => {
  it.each([
    ['SELECT * FROM orders WHERE id = $1', ['orders']],
    ['SELECT o.id FROM sales.orders o JOIN customers c ON c.id = o.customer_id', ['sales.orders', 'customers']],
    ['SELECT * FROM a WHERE x IN (SELECT y FROM b) UNION SELECT * FROM c', ['a', 'b', 'c']],
    ['SELECT * FROM a, LATERAL (SELECT * FROM b WHERE b.a = a.id) l', ['a', 'b']],
    ["SELECT data->>'k', row_number() OVER (ORDER BY id) FROM docs", ['docs']],
    ['TABLE t', ['t']],
    ['SELECT * FROM "Mixed"."Case"', ['mixed.case']],
  ])('reads %s', (sql, tables) => {
    expect(one(pg, sql)).toEqual({ kind: 'read', tables });
  });

  it('does not count CTE names as tables', () => {
    expect(one(pg, 'WITH recent AS (SELECT * FROM orders) SELECT * FROM recent JOIN items USING (id)')).toEqual({
      kind: 'read',
      tables: ['orders', 'items'],
    });
    // Inside its own body a non-recursive CTE's name is the real table.
    expect(one(pg, 'WITH t AS (SELECT * FROM t) SELECT * FROM t')).toEqual({ kind: 'read', tables: ['t'] });
    // A schema-qualified name is never a CTE.
    expect(one(pg, 'WITH t AS (SELECT 1) SELECT * FROM t, s.t')).toEqual({ kind: 'read', tables: ['s.t'] });
    expect(
      one(pg, 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r'),
    ).toEqual({ kind: 'read', tables: [] });
  });

  it.each([
    ['INSERT INTO orders (id) VALUES ($1)', ['orders']],
    ['INSERT INTO orders SELECT * FROM staging ON CONFLICT (id) DO UPDATE SET total = EXCLUDED.total', ['orders']],
    ['UPDATE orders o SET total = s.total FROM staging s WHERE s.id = o.id', ['orders']],
    ['DELETE FROM orders USING customers c WHERE c.id = orders.customer_id AND c.gone', ['orders']],
    ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a', ['t']],
    ['TRUNCATE a, b', ['a', 'b']],
    ['WITH d AS (DELETE FROM old RETURNING *) INSERT INTO archive SELECT * FROM d', ['old', 'archive']],
    ['WITH d AS (DELETE FROM old RETURNING *) SELECT count(*) FROM d', ['old']],
    ['SELECT * INTO copy FROM t', ['copy']],
    ['COPY t FROM STDIN', ['t']],
    ['EXPLAIN ANALYZE UPDATE t SET a = 1', ['t']],
  ])('writes %s', (sql, tables) => {
    const s = one(pg, sql) as { kind: string; tables: string[] };
    expect(s.kind).toBe('write');
    expect([...s.tables].sort()).toEqual([...tables].sort());
  });

  it('treats what it cannot know as a write of every table', () => {
    expect(one(pg, 'CALL do_things()')).toEqual({ kind: 'write', tables: ALL_TABLES });
    expect(one(pg, 'DO $$ BEGIN PERFORM 1; END $$')).toEqual({ kind: 'write', tables: ALL_TABLES });
    expect(one(pg, 'ALTER TABLE t ADD COLUMN c int')).toEqual({ kind: 'write', tables: ALL_TABLES, ddl: true });
    expect(one(pg, 'DROP VIEW v')).toEqual({ kind: 'write', tables: ALL_TABLES, ddl: true });
  });

  it('never caches locking reads, EXPLAIN or side-effect functions', () => {
    expect(one(pg, 'SELECT * FROM t FOR UPDATE')).toMatchObject({ kind: 'uncacheable', reason: 'locking' });
    expect(one(pg, 'EXPLAIN SELECT * FROM t')).toMatchObject({ kind: 'uncacheable', reason: 'explain' });
    expect(one(pg, "SELECT nextval('seq')")).toMatchObject({ kind: 'uncacheable', reason: 'side-effect-function' });
  });

  it('reads transaction control', () => {
    expect(one(pg, 'BEGIN ISOLATION LEVEL SERIALIZABLE')).toEqual({ kind: 'transaction', op: 'begin' });
    expect(one(pg, 'START TRANSACTION')).toEqual({ kind: 'transaction', op: 'begin' });
    expect(one(pg, 'END')).toEqual({ kind: 'transaction', op: 'commit' });
    expect(one(pg, 'ABORT')).toEqual({ kind: 'transaction', op: 'rollback' });
    expect(one(pg, 'ROLLBACK TO SAVEPOINT a')).toEqual({ kind: 'transaction', op: 'rollback-to' });
    expect(one(pg, "COMMIT PREPARED 'x'")).toEqual({ kind: 'write', tables: ALL_TABLES });
  });

  it('passes settings through', () => {
    expect(one(pg, 'SET search_path TO a')).toEqual({ kind: 'other' });
    expect(one(pg, 'LISTEN chan')).toEqual({ kind: 'other' });
  });

  it('reads several statements and reports what it cannot parse', () => {
    const several = pg.analyze('SELECT 1; UPDATE t SET a = 1');
    expect(several).toEqual({
      ok: true,
      statements: [
        { kind: 'read', tables: [] },
        { kind: 'write', tables: ['t'] },
      ],
    });
    expect(pg.analyze('SELECT 1 FROM')).toEqual({ ok: false, reason: 'syntax' });
  });
});

describe('MySQL (node-sql-parser)', () => {
  it.each([
    ['SELECT * FROM orders WHERE id = ?', ['orders']],
    ['SELECT * FROM `db`.`T1` WHERE id IN (SELECT id FROM t2)', ['t2', 'db.t1']],
  ])('reads %s', (sql, tables) => {
    expect(one(my, sql)).toEqual({ kind: 'read', tables });
  });

  it('does not count CTE names as tables', () => {
    expect(one(my, 'WITH c AS (SELECT * FROM t3) SELECT * FROM c JOIN t4 USING (id)')).toEqual({
      kind: 'read',
      tables: ['t3', 't4'],
    });
  });

  it.each([
    ['INSERT INTO a (x) VALUES (?) ON DUPLICATE KEY UPDATE x = VALUES(x)', ['a']],
    ['REPLACE INTO a VALUES (1)', ['a']],
    ['UPDATE t1 JOIN t2 ON t1.id = t2.id SET t1.a = t2.b, t2.c = 1', ['t1', 't2']],
    ['DELETE a, b FROM a JOIN b ON a.id = b.id WHERE a.x = ?', ['a', 'b']],
    ['TRUNCATE TABLE a', ['a']],
  ])('writes %s', (sql, tables) => {
    const s = one(my, sql);
    expect(s.kind).toBe('write');
    expect([...(s as { tables: string[] }).tables].sort()).toEqual([...tables].sort());
  });

  it('reads transaction control, locking reads and DDL', () => {
    expect(one(my, 'START TRANSACTION')).toEqual({ kind: 'transaction', op: 'begin' });
    expect(one(my, 'SAVEPOINT a')).toEqual({ kind: 'transaction', op: 'savepoint' });
    expect(one(my, 'ROLLBACK TO SAVEPOINT a')).toEqual({ kind: 'transaction', op: 'rollback-to' });
    expect(one(my, 'COMMIT')).toEqual({ kind: 'transaction', op: 'commit' });
    expect(one(my, 'SELECT * FROM t FOR UPDATE')).toMatchObject({ kind: 'uncacheable', reason: 'locking' });
    expect(one(my, 'ALTER TABLE t ADD COLUMN c int')).toEqual({ kind: 'write', tables: ALL_TABLES, ddl: true });
    expect(one(my, 'CALL p()')).toEqual({ kind: 'write', tables: ALL_TABLES });
  });

  it('reports what it cannot parse', () => {
    expect(my.analyze('SELECT 1 FROM')).toEqual({ ok: false, reason: 'syntax' });
  });
});
