/**
 * Auto-batching of Redis reads: the GETs a cache issues in the same tick
 * (a `Promise.all` of gets, a burst of getOrSet, the continuations of many
 * replies that arrived in one socket read) go out as one MGET, sent in a
 * microtask once the tick's synchronous code has run. A lone read is still
 * one GET, so sequential callers see no change. 100 concurrent reads then
 * cost the server one command and the client one reply instead of 100, and
 * the per-command costs of the client (the `run()` wrapper, the command
 * object, its timer, a socket write) are paid once per batch.
 *
 * What a batch changes: MGET reads a key holding another type (a hash
 * written by another program) as nil, where GET answers WRONGTYPE. A batched
 * read of such a key is therefore a miss, as in `getMany`; a lone read, and
 * every write-back (a script reading the key), still reports the refusal.
 */
import type { StrataRedis } from '@stratacache/core-client';

type Resolve = (buf: Buffer | null) => void;
type Reject = (error: unknown) => void;

/**
 * Schedules the flush as a plain promise reaction: `queueMicrotask` wraps every
 * callback in an AsyncResource (an object, a bind, a scope entered and left),
 * paid on every lone read.
 */
const RESOLVED = Promise.resolve();

/** Reads of one Redis client, batched per tick. */
export class ReadBatch {
  private keys: string[] = [];
  private resolves: Resolve[] = [];
  private rejects: Reject[] = [];
  private readonly flush = () => this.send();

  constructor(private readonly redis: StrataRedis) {}

  /** The bytes of `rk` (null for nothing), read with the other reads of this tick. */
  get(rk: string): Promise<Buffer | null> {
    return new Promise<Buffer | null>((resolve, reject) => {
      if (this.keys.length === 0) RESOLVED.then(this.flush);
      this.keys.push(rk);
      this.resolves.push(resolve);
      this.rejects.push(reject);
    });
  }

  private send(): void {
    const { keys, resolves, rejects } = this;
    // Never throws: run() and getMany() report failures through their promises.
    this.keys = [];
    this.resolves = [];
    this.rejects = [];
    if (keys.length === 1) {
      this.redis.run('get', (c) => c.getBuffer(keys[0] as string)).then(resolves[0], rejects[0]);
      return;
    }
    this.redis.getMany(keys).then(
      (bufs) => {
        for (let i = 0; i < resolves.length; i++) (resolves[i] as Resolve)(bufs[i] ?? null);
      },
      (error: unknown) => {
        for (const reject of rejects) reject(error);
      },
    );
  }
}

/** A reader without batching: one GET per read (`batchReads: false`). */
export class DirectRead {
  constructor(private readonly redis: StrataRedis) {}

  get(rk: string): Promise<Buffer | null> {
    return this.redis.run('get', (c) => c.getBuffer(rk));
  }
}

/** What the read path reads Redis through. */
export type RedisReader = Pick<ReadBatch, 'get'>;
