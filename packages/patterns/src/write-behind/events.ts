/**
 * The events a WriteBehind emits. The worker emits them as it goes, and
 * `flush()` listens for `'dead-letter'` to know its entries were parked.
 */
import type { WriteBehindEntry } from './journal.js';

/** The `'flushed'` event: a batch was written and acknowledged. */
export interface WriteBehindFlushedEvent<T> {
  /** What the writer received (one entry per key). */
  entries: WriteBehindEntry<T>[];
  /** Journal entries acknowledged (before coalescing). */
  journaled: number;
  /** Writer attempts it took. */
  attempts: number;
  /** Unflushed entries left in the journal. */
  depth: number;
}

/** The `'retry'` event: the writer failed and will be called again. */
export interface WriteBehindRetryEvent {
  /** The failed attempt (1-based). */
  attempt: number;
  /** Wait before the next attempt, in ms. */
  delayMs: number;
  /** What the writer threw. */
  error: unknown;
  /** Entries in the batch. */
  entries: number;
}

/** The `'dead-letter'` event: entries were parked in the dead-letter stream. */
export interface WriteBehindDeadLetterEvent<T> {
  /** The parked entries, uncoalesced (value `undefined` where it could not be decoded). */
  entries: WriteBehindEntry<T>[];
  /** `'writer'`: the writer failed `maxAttempts` times; `'decode'`: the entry was unreadable. */
  reason: 'writer' | 'decode';
  /** The last error. */
  error: unknown;
  /** Writer attempts made (0 for `'decode'`). */
  attempts: number;
}

/** Events of `WriteBehind`, as listener argument lists. */
export interface WriteBehindEvents<T> {
  /** The worker loop failed (usually Redis); it keeps going with backoff. */
  error: [error: unknown];
  flushed: [event: WriteBehindFlushedEvent<T>];
  retry: [event: WriteBehindRetryEvent];
  'dead-letter': [event: WriteBehindDeadLetterEvent<T>];
}
