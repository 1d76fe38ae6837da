/**
 * Deterministic hashing of parameters that become part of a key (query
 * parameters, function arguments): canonical JSON (object keys sorted at
 * every depth, by safe-stable-stringify), SHA-256, hex. The same value hashes
 * the same in every process, whatever order its keys were built in.
 */
import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';
import { KeyError } from './errors.js';

const canonical = configure({ deterministic: true, bigint: true, circularValue: Error });

/** Canonical JSON of `value`: sorted keys, BigInt as digits, cycles refused. */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonical(value);
  } catch (error) {
    throw new KeyError('Cannot hash a value with a cycle; pass the parameters that identify it instead.', {
      cause: error,
    });
  }
  if (text === undefined) {
    throw new KeyError(`Cannot hash ${typeof value}: key parameters must be JSON values (use null for "none").`);
  }
  return text;
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
