/**
 * The layer graph of DESIGN.md, as data: each workspace package and the
 * packages it may import directly. Everything reachable from those is below
 * it and may be imported too; anything else (a sibling, a layer above) may not.
 * Adding a package means adding it here, in DESIGN.md and in docs/architecture.md.
 */
export const LAYERS = {
  '@stratacache/serializers': [],
  '@stratacache/core-client': [],
  '@stratacache/coordination': ['@stratacache/core-client'],
  '@stratacache/invalidation': ['@stratacache/core-client'],
  '@stratacache/sessions': ['@stratacache/core-client', '@stratacache/serializers'],
  '@stratacache/metrics': ['@stratacache/core-client'],
  '@stratacache/streams': ['@stratacache/core-client'],
  '@stratacache/patterns': ['@stratacache/core-client', '@stratacache/serializers', '@stratacache/invalidation'],
  '@stratacache/sql-cache': ['@stratacache/patterns', '@stratacache/core-client', '@stratacache/invalidation'],
  // Private: any package's tests may use it; it uses no layer.
  '@stratacache/test-utils': [],
  // The `stratacache` command sits on top, like the apps: it reads and changes what the layers wrote.
  '@stratacache/cli': [
    '@stratacache/core-client',
    '@stratacache/serializers',
    '@stratacache/invalidation',
    '@stratacache/patterns',
    '@stratacache/sessions',
  ],
  // Private: runs the migration guides' code (docs/migrating) in child processes; imports no layer.
  '@stratacache/migration-guides': [],
  // Applications and benchmarks sit on top.
  '@stratacache/demo': [
    '@stratacache/patterns',
    '@stratacache/sql-cache',
    '@stratacache/coordination',
    '@stratacache/sessions',
    '@stratacache/metrics',
    '@stratacache/streams',
  ],
  '@stratacache/admin': [
    '@stratacache/core-client',
    '@stratacache/serializers',
    '@stratacache/invalidation',
    '@stratacache/coordination',
    '@stratacache/sessions',
    '@stratacache/metrics',
    '@stratacache/streams',
  ],
  '@stratacache/bench': [
    '@stratacache/patterns',
    '@stratacache/sql-cache',
    '@stratacache/coordination',
    '@stratacache/sessions',
    '@stratacache/metrics',
    '@stratacache/streams',
  ],
};

/** Packages any package may import from its tests (never from shipped code). */
export const TEST_ONLY = ['@stratacache/test-utils'];

/**
 * Implementations a package's tests may use, where shipped code only sees a
 * core-client contract: patterns' tests exercise its stampede lock with the
 * real `DistributedLock` of coordination, as an application would pass it in;
 * metrics' tests drive every layer whose channels it consumes.
 */
export const TEST_IMPLEMENTATIONS = {
  // The CLI's tests write locks and rate limits with the real coordination layer, then read them.
  '@stratacache/cli': ['@stratacache/coordination'],
  '@stratacache/patterns': ['@stratacache/coordination'],
  // metrics subscribes to every layer's channels by name; its tests drive the real layers
  // (and serializers, which the Cache needs) to prove the names and payloads match.
  '@stratacache/metrics': [
    '@stratacache/coordination',
    '@stratacache/invalidation',
    '@stratacache/patterns',
    '@stratacache/serializers',
    '@stratacache/sessions',
  ],
  // The admin console decodes Cache entries and write-behind journals from their documented byte and
  // stream layouts (it may not import patterns); its tests write them with the real Cache and
  // write-behind, so the decoder cannot drift from the writer unseen.
  '@stratacache/admin': ['@stratacache/patterns'],
};

/** Every package below `name`: the transitive closure of its allowed imports. */
export function below(name, seen = new Set()) {
  for (const next of LAYERS[name] ?? []) {
    if (!seen.has(next)) {
      seen.add(next);
      below(next, seen);
    }
  }
  return seen;
}
