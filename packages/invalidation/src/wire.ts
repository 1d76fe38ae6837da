/**
 * The wire format of invalidation messages, version 1: a small JSON object
 * with one-letter fields, and never a value.
 *
 * | field | meaning |
 * |---|---|
 * | `v` | format version (1) |
 * | `i` | sender instance id (receivers ignore their own) |
 * | `s` | sender sequence number, +1 per message (a jump means messages were lost) |
 * | `n` | cache namespace the message is about (`*` for all) |
 * | `o` | operation: `dk` delete keys, `ek` expire keys, `dp` delete prefixes, `dt` delete tags, `et` expire tags, `c` clear, `ev` application event |
 * | `d` | the keys, prefixes or tags (or the event) |
 * | `t` | sender time (ms since the epoch), for "when was this invalidated" |
 */

import { check, failOption } from '@stratacache/core-client';

/** Wire format version written by this package. */
export const WIRE_VERSION = 1;

/** Invalidation operations. */
export type InvalidationOp = 'dk' | 'ek' | 'dp' | 'dt' | 'et' | 'c' | 'ev';

/** One message on the bus. */
export interface WireMessage {
  v: number;
  i: string;
  s: number;
  n: string;
  o: InvalidationOp;
  d: unknown;
  t: number;
}

const OPS = new Set<InvalidationOp>(['dk', 'ek', 'dp', 'dt', 'et', 'c', 'ev']);

/**
 * Checks what a sender is about to publish, so a message receivers would drop
 * as malformed is refused at the sender (`ConfigError`) instead.
 */
export function checkOutgoing(op: unknown, namespace: unknown, data: unknown): void {
  check.oneOf(op, 'op', [...OPS]);
  check.name(namespace, 'namespace');
  if (op !== 'c' && op !== 'ev' && !(Array.isArray(data) && data.every((x) => typeof x === 'string'))) {
    failOption('data', `must be an array of strings for op '${String(op)}'`, data);
  }
}

/** Parses and checks a message; returns null for anything that is not a v1 message. */
export function parseWire(value: unknown): WireMessage | null {
  if (typeof value !== 'object' || value === null) return null;
  const m = value as Partial<WireMessage>;
  if (m.v !== WIRE_VERSION || typeof m.i !== 'string' || typeof m.s !== 'number' || typeof m.n !== 'string')
    return null;
  if (!OPS.has(m.o as InvalidationOp) || typeof m.t !== 'number') return null;
  if (m.o !== 'c' && m.o !== 'ev' && !(Array.isArray(m.d) && m.d.every((x) => typeof x === 'string'))) return null;
  return m as WireMessage;
}
