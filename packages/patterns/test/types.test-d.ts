/**
 * The Cache's generics as a user meets them: the value type is chosen per call (`getOrSet<User>`,
 * or inferred from the factory) and per namespace (`namespace<User>('users')`), within the value
 * type of the cache it came from; durations are checked against what `ms` parses.
 */
import { createRedis } from '@stratacache/core-client';
import { describe, expectTypeOf, it } from 'vitest';
import { type Cache, createCache, type FactoryContext } from '../src/index.js';

interface User {
  id: number;
  name: string;
}
interface Admin extends User {
  scopes: string[];
}

const redis = createRedis();

describe('per-call value types', () => {
  it('on a cache of unknown values, each call names or infers its own type', () => {
    const cache = createCache({ redis });
    expectTypeOf(cache).toEqualTypeOf<Cache<unknown>>();
    expectTypeOf(cache.get<User>('user:1')).resolves.toEqualTypeOf<User | undefined>();
    expectTypeOf(cache.get('user:1')).resolves.toEqualTypeOf<unknown>();
    expectTypeOf(cache.getOrSet<User>('user:1', async () => ({ id: 1, name: 'Ada' }))).resolves.toEqualTypeOf<User>();
    // Inferred from the factory, as BentoCache's getOrSet and cache-manager's wrap<T> do.
    expectTypeOf(cache.getOrSet('user:1', async () => ({ id: 1, name: 'Ada' }))).resolves.toEqualTypeOf<{
      id: number;
      name: string;
    }>();
    expectTypeOf(cache.getOrSet('n', () => 42)).resolves.toEqualTypeOf<number>();
    expectTypeOf(cache.set<User>('user:1', { id: 1, name: 'Ada' })).resolves.toEqualTypeOf<boolean>();
    expectTypeOf(cache.getMany<User>(['user:1', 'user:2'])).resolves.toEqualTypeOf<(User | undefined)[]>();
    expectTypeOf(
      cache.getOrSetMany<User>(['user:1'], async (missing) => missing.map((id) => ({ id: Number(id), name: '' }))),
    ).resolves.toEqualTypeOf<User[]>();
  });

  it('refuses a value that is not of the named type', () => {
    const cache = createCache({ redis });
    // @ts-expect-error: name is missing
    void cache.set<User>('user:1', { id: 1 });
    // @ts-expect-error: the factory returns a string, not a User
    void cache.getOrSet<User>('user:1', async () => 'Ada');
  });

  it('the factory context carries the call type', () => {
    const cache = createCache({ redis });
    void cache.getOrSet<User>('user:1', async (ctx) => {
      expectTypeOf(ctx).toEqualTypeOf<FactoryContext<User>>();
      expectTypeOf(ctx.stale).toEqualTypeOf<User | undefined>();
      ctx.setTtl('5 minutes');
      // @ts-expect-error: not a duration ms can parse
      ctx.setTtl('5 parsecs');
      return ctx.stale ?? { id: 1, name: 'Ada' };
    });
  });
});

describe('a cache with a value type', () => {
  it('narrows per call within that type, and refuses types outside it', () => {
    const users = createCache<User>({ redis });
    expectTypeOf(users.get('u')).resolves.toEqualTypeOf<User | undefined>();
    expectTypeOf(users.get<Admin>('admin')).resolves.toEqualTypeOf<Admin | undefined>();
    expectTypeOf(
      users.getOrSet<Admin>('admin', () => ({ id: 1, name: 'Root', scopes: ['*'] })),
    ).resolves.toEqualTypeOf<Admin>();
    // @ts-expect-error: number is not a User
    void users.get<number>('u');
    // @ts-expect-error: a User cache stores Users
    void users.set('u', 'Ada');
  });
});

describe('typed namespaces', () => {
  it('namespace<V>() gives a child cache of V', () => {
    const cache = createCache({ redis });
    const users = cache.namespace<User>('users');
    expectTypeOf(users).toEqualTypeOf<Cache<User>>();
    expectTypeOf(users.get('1')).resolves.toEqualTypeOf<User | undefined>();
    expectTypeOf(users.getOrSet('1', () => ({ id: 1, name: 'Ada' }))).resolves.toEqualTypeOf<User>();
    // @ts-expect-error: the users namespace holds Users
    void users.set('1', { title: 'not a user' });
    // A namespace of a typed cache stays within its type.
    const admins = createCache<User>({ redis }).namespace<Admin>('admins');
    expectTypeOf(admins).toEqualTypeOf<Cache<Admin>>();
    // @ts-expect-error: a namespace of a User cache cannot hold numbers
    createCache<User>({ redis }).namespace<number>('counts');
  });
});

describe('durations in options', () => {
  it('accepts what ms parses and refuses typos', () => {
    createCache({ redis, defaults: { ttl: '10m', grace: '1 hour', lockWait: 500 } });
    const cache = createCache({ redis });
    void cache.set('k', 1, { ttl: '30 sec' });
    // @ts-expect-error: '10 parsecs' is not a duration
    void cache.set('k', 1, { ttl: '10 parsecs' });
    // @ts-expect-error: nor is '1h30m' (ms reads one number and one unit)
    createCache({ redis, defaults: { ttl: '1h30m' } });
  });
});
