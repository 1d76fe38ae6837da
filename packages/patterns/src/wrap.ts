/**
 * Memoizing functions with the cache: `wrap(cache, fn, options)` and the
 * standard (TC39, TypeScript 5) method decorator `@cached(...)`. Both take a
 * `when` predicate for conditional caching: a result is returned either way,
 * but cached only when the predicate holds.
 */
import type { Cache } from './cache/cache.js';
import type { EntryOptions } from './options.js';

/** Options of {@link wrap} and {@link cached}. */
export interface WrapOptions<A extends unknown[], R> extends EntryOptions {
  /**
   * The cache key of a call. @default the function name and the JSON of the arguments
   */
  key?: (...args: A) => string;
  /** Cache a result only when this holds (the conditional cache of seed 004). @default always */
  when?: (result: R, ...args: A) => boolean;
}

/**
 * Returns `fn` memoized in `cache`: calls with the same key share one
 * result, loaded once (single-flight, stampede protection, grace...).
 *
 * @example
 * ```ts
 * const getUser = wrap(cache, (id: string) => db.findUser(id), { key: (id) => `user:${id}`, ttl: '1m' });
 * ```
 */
export function wrap<A extends unknown[], R>(
  cache: Cache<R>,
  fn: (...args: A) => Promise<R> | R,
  options: WrapOptions<A, R> = {},
): (...args: A) => Promise<R> {
  const { key, when, ...entry } = options;
  const name = fn.name || 'fn';
  const keyOf = key ?? ((...args: A) => `${name}:${JSON.stringify(args)}`);
  const entryOptions = Object.keys(entry).length > 0 ? entry : undefined;
  return function memoized(this: unknown, ...args: A): Promise<R> {
    return cache.getOrSet(
      keyOf(...args),
      async (ctx) => {
        const result = await fn.apply(this, args);
        if (when && !when(result, ...args)) ctx.skip();
        return result;
      },
      entryOptions,
    );
  };
}

/** Where `@cached` finds its cache: the cache, or a function of the instance (`(self) => self.cache`). */
export type CacheSource<R> = Cache<R> | ((self: never) => Cache<R>);

/**
 * A standard method decorator (TypeScript 5 `experimentalDecorators: false`)
 * caching the method's results. The default key is `Class.method:` plus the
 * JSON of the arguments.
 *
 * @example
 * ```ts
 * class Users {
 *   @cached(cache, { key: (id: string) => `user:${id}`, ttl: '1m' })
 *   async find(id: string) { return db.findUser(id); }
 * }
 * ```
 */
export function cached<A extends unknown[], R>(source: CacheSource<R>, options: WrapOptions<A, R> = {}) {
  return function decorate<This>(
    method: (this: This, ...args: A) => Promise<R> | R,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: A) => Promise<R> | R>,
  ): (this: This, ...args: A) => Promise<R> {
    if (context.kind !== 'method') throw new TypeError('@cached decorates methods');
    const label = String(context.name);
    const { key, ...rest } = options;
    const keyOf = key ?? ((...args: A) => `${label}:${JSON.stringify(args)}`);
    return function (this: This, ...args: A): Promise<R> {
      const cache = typeof source === 'function' ? (source as (self: This) => Cache<R>)(this) : source;
      return wrap(cache, (...a: A) => method.apply(this, a), { ...rest, key: keyOf })(...args);
    };
  };
}
