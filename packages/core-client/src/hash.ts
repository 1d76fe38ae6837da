/**
 * Deterministic hashing of parameters that become part of a key (query
 * parameters, function arguments): canonical JSON (object keys sorted at
 * every depth, by safe-stable-stringify), SHA-256, hex. The same value hashes
 * the same in every process, whatever order its keys were built in.
 */
import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';
import { KeyError } from './errors.js';

const canonical = configure({ deterministic: true, bigint: false, circularValue: Error });

/**
 * Refuses what canonical JSON would silently change, so two different values
 * can never hash alike: Map, Set, Date and class instances (JSON writes `{}` or
 * a string), BigInt (it would equal its number), NaN and Infinity (they would
 * equal null), and undefined (it would equal a missing key).
 */
function assertJsonValue(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (Number.isFinite(value)) return;
      throw new KeyError(`Cannot hash ${value} at ${path}: use a finite number, a string or null.`);
    case 'object': {
      if (value === null) return;
      if (seen.has(value))
        throw new KeyError(`Cannot hash a value with a cycle (at ${path}); pass the parameters that identify it.`);
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) assertJsonValue(value[i], `${path}[${i}]`, seen);
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          const kind = (value as object).constructor?.name ?? 'object';
          throw new KeyError(
            `Cannot hash a ${kind} at ${path}: pass plain objects, arrays and primitives (convert it first, e.g. date.toISOString(), [...map]).`,
          );
        }
        for (const [key, item] of Object.entries(value)) assertJsonValue(item, `${path}.${key}`, seen);
      }
      seen.delete(value);
      return;
    }
    default:
      throw new KeyError(
        `Cannot hash ${typeof value} at ${path}: key parameters must be JSON values (use null for "none", a string for a BigInt).`,
      );
  }
}

/** Canonical JSON of `value`: object keys sorted at every depth. Only JSON values are accepted. */
export function canonicalJson(value: unknown): string {
  assertJsonValue(value, '$', new Set());
  return canonical(value) as string;
}

/**
 * SHA-256 (hex, 64 characters) of the canonical JSON of `value`.
 *
 * @example
 * ```ts
 * hashParams({ b: 2, a: [1, 'x'] }) === hashParams({ a: [1, 'x'], b: 2 }); // true
 * ```
 */
export function hashParams(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
