/**
 * The channels metrics consumes, by name. Layers publish on
 * `stratacache:<package>:<event>` and metrics subscribes by that name: it
 * imports no layer but core-client, so an application installs only the
 * layers it uses. These names and the payloads in each package's README are
 * the contract; the tests drive the real layers to prove they still match.
 */
import { CoreChannels } from '@stratacache/core-client';

const names = <P extends string, E extends readonly string[]>(pkg: P, events: E) =>
  Object.freeze(Object.fromEntries(events.map((e) => [e, `stratacache:${pkg}:${e}`]))) as {
    readonly [K in E[number]]: `stratacache:${P}:${K}`;
  };

/** Every channel metrics subscribes to, per package. */
export const Channels = Object.freeze({
  core: CoreChannels,
  patterns: names('patterns', [
    'hit',
    'miss',
    'stale',
    'set',
    'delete',
    'factory',
    'timeout',
    'refresh',
    'refused',
    'error',
    'write-behind',
    'evict',
  ] as const),
  coordination: names('coordination', [
    'lock-acquired',
    'lock-contended',
    'lock-timeout',
    'lock-lost',
    'lock-released',
    'fence-refused',
    'claim',
    'heartbeat',
    'heartbeat-dead',
    'rate-limit',
    'semaphore-acquired',
    'semaphore-timeout',
    'semaphore-released',
  ] as const),
  invalidation: names('invalidation', [
    'published',
    'received',
    'gap',
    'clear',
    'connected',
    'disconnected',
    'publish-failed',
    'dropped',
    'invalidated',
  ] as const),
  sessions: names('sessions', [
    'created',
    'destroyed',
    'expired',
    'evicted',
    'rejected',
    'regenerated',
    'binding-mismatch',
    'tampered',
    'refused',
  ] as const),
  sqlCache: names('sql-cache', ['lookup', 'invalidation', 'query', 'fallback', 'parse-failure'] as const),
  streams: names('streams', ['batch', 'lag', 'queue', 'commit', 'error'] as const),
  metrics: names('metrics', ['alert'] as const),
});
