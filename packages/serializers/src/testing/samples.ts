/** Values every serializer must round-trip exactly: what JSON itself can hold. */
export const JSON_SAMPLES: readonly unknown[] = Object.freeze([
  null,
  true,
  false,
  0,
  -1,
  42,
  3.5,
  Number.MAX_SAFE_INTEGER,
  '',
  'hello',
  'ünïcødé ✓ 日本 🚀',
  'x'.repeat(10_000),
  [],
  [1, 'two', null, { three: 3 }],
  {},
  { a: 1, b: 'two', c: [true, false], d: { e: null } },
  { nested: { deeper: { deepest: [1, [2, [3, [4]]]] } } },
  Array.from({ length: 200 }, (_, i) => ({ id: i, name: `row-${i}`, active: i % 2 === 0 })),
]);

/**
 * An object none of whose strict prefixes is a valid encoding in any format,
 * used to prove that truncation is always detected.
 */
export const TRUNCATION_SAMPLE = Object.freeze({
  id: 7,
  tags: ['a', 'b', 'c'],
  body: 'truncate me at every byte',
  nested: { ok: true, n: [1, 2, 3] },
});
