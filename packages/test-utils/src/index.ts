/**
 * @stratacache/test-utils (private): real Redis for stratacache tests.
 *
 * - `global-setup`: one Redis per vitest project (REDIS_URL, else redis-server from PATH,
 *   else a container, else a clear error), provided as `inject('redis')`.
 * - `startRedisServer`: extra servers with a password, ACL users, TLS,
 *   maxmemory or DEBUG, that tests can stop, kill, pause and restart.
 * - `redisTest`, `uniqueNamespace`, `cleanupNamespace`: isolation per test.
 * - `resolvePostgres`, `resolveMysql`: the databases of tests (env URL, local server, PGlite / a clear error).
 */

export type { AsyncContextWatch } from './async-contexts.js';
export { watchAsyncContexts } from './async-contexts.js';
export { BAD_OPTION_VALUES, badEnumValues, expectConfigError, shown } from './bad-options.js';
export { dockerAnswers } from './docker.js';
export { exportedNames } from './exported-names.js';
export type { RedisTestFixtures, TestRedisOptions } from './fixtures.js';
export {
  connectTestRedis,
  redisTest,
  testRedisOptions,
  testRedisUrl,
  testTopology,
  withTestRedis,
} from './fixtures.js';
export type { ProvidedRedis } from './global-setup.js';
export { cleanupNamespace, escapeGlob, uniqueNamespace } from './namespace.js';
export type { PingTarget } from './ping.js';
export { ping, waitForPing } from './ping.js';
export { getFreePort } from './ports.js';
export { guardProcess, isProcessAlive, releaseProcess, trackedProcesses } from './process-guard.js';
export type { PublicSurface } from './public-surface.js';
export { describePublicSurface } from './public-surface.js';
export type { ClusterFailover, RedisClusterHandle, RedisClusterOptions } from './redis-cluster.js';
export { startRedisCluster } from './redis-cluster.js';
export type { RedisSentinelHandle, RedisSentinelOptions, SentinelFailover } from './redis-sentinel.js';
export { startRedisSentinel } from './redis-sentinel.js';
export type { AclUser, RedisServerHandle, RedisServerOptions } from './redis-server.js';
export { endProcess, RedisServerStartError, spawnRedisProcess, startRedisServer } from './redis-server.js';
export type {
  PostgresSource,
  ResolveDatabaseOptions,
  ResolvedMysql,
  ResolvedPostgres,
} from './resolve-database.js';
export {
  NEEDS_POSTGRES_SERVER,
  NO_MYSQL_MESSAGE,
  portAnswers,
  resolveMysql,
  resolvePostgres,
} from './resolve-database.js';
export type { RedisSource, ResolvedRedis, ResolveRedisOptions } from './resolve-redis.js';
export { binaryRuns, NO_REDIS_MESSAGE, resolveRedis } from './resolve-redis.js';
export type { TlsFixture } from './tls-fixture.js';
export { createTlsFixture } from './tls-fixture.js';
export type { StartedTopology, Topology } from './topology.js';
export { parseTopology, startTopology, TEST_SENTINEL_NAME, TOPOLOGIES } from './topology.js';
export type { Worker, WorkerOptions } from './workers.js';
export { eventually, startWorker } from './workers.js';
