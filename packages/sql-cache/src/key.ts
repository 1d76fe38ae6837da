/**
 * Cache keys of query results: the first table, then the SHA-256 of the
 * dialect, the normalized SQL text and the parameters with their types.
 *
 * Parameters are encoded as `[type, value]` pairs before canonical JSON, so
 * values JSON would confuse stay apart: `1` and `'1'`, `1n` and `1`, a Date and
 * its ISO string, a Buffer and its base64, `undefined` and `null`, NaN and
 * null. Object keys are sorted (core-client's canonical JSON), so `{a, b}` and
 * `{b, a}` share a key.
 */
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
        const out: Record<string, Encoded> = {};
        for (const [k, v] of Object.entries(value)) out[k] = encodeParam(v, `${path}.${k}`, seen);
        return ['o', out];
      } finally {
        seen.delete(value);
      }
    }
    default:
      throw new KeyError(`Cannot key a ${typeof value} query parameter at ${path}`);
  }
}

/** The SHA-256 (hex) identifying a query: dialect, normalized text and typed parameters. */
export function queryHash(dialect: string, normalizedSql: string, params: readonly unknown[]): string {
  return hashParams([dialect, normalizedSql, params.map((p, i) => encodeParam(p, `params[${i}]`))]);
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
