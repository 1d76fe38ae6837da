/**
 * Cache keys of query results: the first table, then the SHA-256 of the
 * dialect, the normalized SQL text and the parameters with their types.
 *
 * Parameters are encoded as `[type, value]` pairs before JSON, so values JSON
 * would confuse stay apart: `1` and `'1'`, `1n` and `1`, a Date and its ISO
 * string, a Buffer and its base64, `undefined` and `null`, NaN and null.
 * Objects become `[key, value]` pairs sorted by key, so `{a, b}` and `{b, a}`
 * share a key.
 */
import { createHash } from 'node:crypto';
import { hashParams, KeyError } from '@stratacache/core-client';

/** A parameter as it goes into the hash: `[type, value]`. */
type Encoded = [string, unknown?];

/** Encodes one parameter with its type (see the module comment). */
export function encodeParam(value: unknown, path = '$', seen: Set<object> = new Set()): Encoded {
  switch (typeof value) {
    case 'string':
      return ['s', value];
    case 'boolean':
      return ['t', value];
    case 'number':
      return Number.isFinite(value) ? (Object.is(value, -0) ? ['n', '-0'] : ['n', value]) : ['n', String(value)];
    case 'bigint':
      return ['b', value.toString()];
    case 'undefined':
      return ['u'];
    case 'object': {
      if (value === null) return ['z'];
      if (value instanceof Date) return ['d', Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()];
      if (Buffer.isBuffer(value)) return ['x', value.toString('base64')];
      if (value instanceof Uint8Array) return ['x', Buffer.from(value).toString('base64')];
      if (seen.has(value)) throw new KeyError(`A query parameter holds a cycle (at ${path})`);
      seen.add(value);
      try {
        if (Array.isArray(value)) return ['a', value.map((item, i) => encodeParam(item, `${path}[${i}]`, seen))];
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          const kind = (value as object).constructor?.name ?? 'object';
          throw new KeyError(
            `Cannot key a ${kind} query parameter at ${path}: pass strings, numbers, bigints, booleans, null, Dates, Buffers, arrays or plain objects`,
          );
        }
        // Sorted [key, value] pairs, not an object: canonical whatever the insertion order, and an own
        // `__proto__` key (JSON.parse makes one) stays data instead of setting a prototype.
        const pairs: Array<[string, Encoded]> = [];
        for (const k of Object.keys(value).sort()) {
          pairs.push([k, encodeParam((value as Record<string, unknown>)[k], `${path}.${k}`, seen)]);
        }
        return ['o', pairs];
      } finally {
        seen.delete(value);
      }
    }
    default:
      throw new KeyError(`Cannot key a ${typeof value} query parameter at ${path}`);
  }
}

/**
 * The SHA-256 (hex) of a query's shape: its dialect and normalized text. The
 * read path computes it once per distinct SQL text (it is memoized with the
 * parse), so a repeated query hashes only its parameters.
 */
export function shapeHash(dialect: string, normalizedSql: string): string {
  return createHash('sha256')
    .update(JSON.stringify([dialect, normalizedSql]))
    .digest('hex');
}

/**
 * The SHA-256 (hex) identifying a query: dialect, normalized text and typed
 * parameters. Without parameters it is the shape's hash; with them, the hash
 * of the shape's hash (fixed length) followed by the JSON of the typed
 * parameters, which is already canonical (objects are sorted pairs, and every
 * value is a string, a finite number, a boolean or null).
 */
export function queryHash(
  dialect: string,
  normalizedSql: string,
  params: readonly unknown[],
  shape: string = shapeHash(dialect, normalizedSql),
): string {
  if (params.length === 0) return shape;
  const typed = JSON.stringify(params.map((p, i) => encodeParam(p, `params[${i}]`)));
  return createHash('sha256').update(shape).update(typed).digest('hex');
}

/** The SHA-256 (hex) of a `getDataFromTable` call: columns and the `where` object, canonically. */
export function lookupHash(table: string, columns: readonly string[], where: unknown): string {
  return hashParams(['lookup', table, [...columns], encodeParam(where, 'where')]);
}

/**
 * The cache key of a query: `{first table}:{hash}`. The Cache encodes `:`,
 * `{` and `}` in keys, so a table name can neither add a segment nor become
 * a Cluster hash tag (every table's entries spread over the slots).
 */
export function entryKey(firstTable: string | undefined, hash: string): string {
  return `${firstTable ?? '_'}:${hash}`;
}
