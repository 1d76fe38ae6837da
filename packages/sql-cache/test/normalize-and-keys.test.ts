/** Normalization and keys: the same query shares an entry, different ones never do. */
import { describe, expect, it } from 'vitest';
import { encodeParam, normalizeSql, queryHash, shapeHash } from '../src/index.js';

describe('normalizeSql', () => {
  it('collapses whitespace outside literals and drops trailing semicolons', () => {
    expect(normalizeSql('  SELECT *\n   FROM   t\tWHERE a = $1 ;  ', 'postgres')).toBe('SELECT *\nFROM t WHERE a = $1');
  });

  it('keeps literals, quoted identifiers and dollar quotes as written', () => {
    expect(normalizeSql('SELECT \'a   b\',  "x  y"', 'postgres')).toBe('SELECT \'a   b\', "x  y"');
    expect(normalizeSql("SELECT 'it''s   x'", 'postgres')).toBe("SELECT 'it''s   x'");
    expect(normalizeSql('SELECT $$a   b$$,  $tag$ c  $tag$', 'postgres')).toBe('SELECT $$a   b$$, $tag$ c  $tag$');
    expect(normalizeSql('SELECT `a  b`  FROM t', 'mysql')).toBe('SELECT `a  b` FROM t');
  });

  it('keeps the newline that ends a line comment', () => {
    expect(normalizeSql('SELECT 1 -- c\n   , 2', 'postgres')).toBe('SELECT 1 -- c\n, 2');
    expect(normalizeSql('SELECT 1 # c\n , 2', 'mysql')).toBe('SELECT 1 # c\n, 2');
  });

  it('leaves a text with a backslash as it is (escapes differ by dialect and setting)', () => {
    expect(normalizeSql("SELECT 'a\\'  b'  ,  1", 'mysql')).toBe("SELECT 'a\\'  b'  ,  1");
  });

  it('does not take an identifier holding $ for a dollar quote', () => {
    expect(normalizeSql('SELECT a$b$  ,  $1', 'postgres')).toBe('SELECT a$b$ , $1');
  });

  it('never maps two different statements to one text', () => {
    const texts = [
      "SELECT '  x'",
      "SELECT ' x'",
      'SELECT 1 -- a\n, 2',
      'SELECT 1 -- a , 2',
      'SELECT $$ a$$',
      'SELECT $$a$$',
    ];
    const normalized = texts.map((t) => normalizeSql(t, 'postgres'));
    expect(new Set(normalized).size).toBe(texts.length);
  });
});

describe('keys', () => {
  it('tells parameter types apart', () => {
    const values = [
      1,
      '1',
      1n,
      true,
      'true',
      null,
      undefined,
      Number.NaN,
      new Date(0),
      new Date(0).toISOString(),
      Buffer.from('a'),
      'YQ==',
    ];
    const hashes = values.map((v) => queryHash('postgres', 'SELECT $1', [v]));
    expect(new Set(hashes).size).toBe(values.length);
  });

  it('is canonical for objects and stable across calls', () => {
    expect(queryHash('postgres', 'q', [{ a: 1, b: [2, { c: 3, d: 4 }] }])).toBe(
      queryHash('postgres', 'q', [{ b: [2, { d: 4, c: 3 }], a: 1 }]),
    );
    expect(encodeParam(new Uint8Array([97]))).toEqual(encodeParam(Buffer.from('a')));
  });

  it('keeps an own __proto__ key (as JSON.parse makes it) apart from an empty object', () => {
    const parsed = JSON.parse('{"__proto__": 1}');
    expect(queryHash('postgres', 'q', [parsed])).not.toBe(queryHash('postgres', 'q', [{}]));
  });

  it('hashes the shape once: the memoized shape gives the same key as a fresh one', () => {
    const shape = shapeHash('postgres', 'SELECT $1');
    expect(queryHash('postgres', 'SELECT $1', [7], shape)).toBe(queryHash('postgres', 'SELECT $1', [7]));
    expect(queryHash('postgres', 'SELECT 1', [])).toBe(shapeHash('postgres', 'SELECT 1'));
    // A parameterless query and one whose text hashes like its shape stay apart.
    expect(queryHash('postgres', 'SELECT $1', [])).not.toBe(queryHash('postgres', 'SELECT $1', [null]));
  });

  it('depends on the dialect, the text and the parameters', () => {
    const base = queryHash('postgres', 'SELECT $1', [1]);
    expect(queryHash('mysql', 'SELECT $1', [1])).not.toBe(base);
    expect(queryHash('postgres', 'SELECT $2', [1])).not.toBe(base);
    expect(queryHash('postgres', 'SELECT $1', [2])).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses parameters it cannot key', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => queryHash('postgres', 'q', [cycle])).toThrow(/cycle/);
    expect(() => queryHash('postgres', 'q', [new Map()])).toThrow(/Map/);
    expect(() => queryHash('postgres', 'q', [() => 1])).toThrow(/function/);
  });
});
