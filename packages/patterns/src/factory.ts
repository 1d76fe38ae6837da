/**
 * What a factory receives: the key, the stale value, an abort signal, and
 * ways to decide from its result how (and whether) it is cached.
 */
import type { Duration } from '@stratacache/core-client';
import { FactoryFailedError } from './errors.js';
import { resolveEntryOptions } from './options.js';

/** The context passed to a factory. */
export interface FactoryContext<T = unknown> {
  /** The key being loaded (as the caller gave it). */
  readonly key: string;
  /** The stale value when there is one (expired, within grace), else `undefined`. */
  readonly stale: T | undefined;
  /** Aborted when the hard timeout gives up on this call. */
  readonly signal: AbortSignal;
  /** Sets the TTL of this result (for example from an HTTP `max-age`). */
  setTtl(ttl: Duration): void;
  /** Sets the tags of this result (replacing the call's tags). */
  setTags(tags: readonly string[]): void;
  /** Sets the version of this result: a stored entry with a newer version is never overwritten by it. */
  setVersion(version: number): void;
  /** Return the result to the caller without caching it. */
  skip(): void;
  /** Fails this load without an exception of your own: the stale value, if any, is kept and served. */
  fail(reason?: string): never;
}

/** A factory: loads the value of a key from the source. */
export type Factory<T> = (ctx: FactoryContext<T>) => Promise<T> | T;

/** The context object, with what the factory decided. */
export class FactoryCall<T> implements FactoryContext<T> {
  ttlMs: number | undefined;
  tags: readonly string[] | undefined;
  version = 0;
  skipped = false;
  readonly controller = new AbortController();

  constructor(
    readonly key: string,
    readonly stale: T | undefined,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  setTtl(ttl: Duration): void {
    this.ttlMs = resolveEntryOptions({ ttl }).ttlMs;
  }

  setTags(tags: readonly string[]): void {
    this.tags = resolveEntryOptions({ tags }).tags;
  }

  setVersion(version: number): void {
    if (!Number.isFinite(version) || version < 0)
      throw new RangeError(`version must be a finite number >= 0; got ${version}`);
    this.version = version;
  }

  skip(): void {
    this.skipped = true;
  }

  fail(reason = 'The factory failed'): never {
    throw new FactoryFailedError(reason, { context: { key: this.key } });
  }
}

/** Outcome of waiting for a factory under timeouts. */
export type Waited<T> =
  | { kind: 'value'; value: T }
  | { kind: 'error'; error: unknown }
  | { kind: 'soft' }
  | { kind: 'hard' };

/**
 * Waits for `running` at most `softMs` (when > 0) and then at most `hardMs`
 * in total (when > 0). The factory is never cancelled here; its promise keeps
 * running and the caller decides what its late result does.
 */
export function waitWithTimeouts<T>(running: Promise<T>, softMs: number, hardMs: number): Promise<Waited<T>> {
  const settled = running.then(
    (value): Waited<T> => ({ kind: 'value', value }),
    (error: unknown): Waited<T> => ({ kind: 'error', error }),
  );
  if (softMs <= 0 && hardMs <= 0) return settled;
  return new Promise((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    const done = (w: Waited<T>) => {
      for (const t of timers) clearTimeout(t);
      resolve(w);
    };
    void settled.then(done);
    if (softMs > 0 && (hardMs <= 0 || softMs < hardMs)) timers.push(setTimeout(() => done({ kind: 'soft' }), softMs));
    if (hardMs > 0) timers.push(setTimeout(() => done({ kind: 'hard' }), hardMs));
  });
}
