/**
 * vitest global setup: resolves one Redis per project, that is per package (see
 * resolve-redis.ts) and hands it to tests through `inject('redis')`.
 * The teardown stops whatever was started, also when tests failed; the
 * process guard covers runs that are interrupted or killed.
 *
 * ```ts
 * // vitest.config.ts
 * export default defineConfig({ test: { globalSetup: ['@stratacache/test-utils/global-setup'] } });
 * ```
 */
import type { TestProject } from 'vitest/node';
import { type RedisSource, resolveRedis } from './resolve-redis.js';

/** What tests receive from `inject('redis')`. */
export interface ProvidedRedis {
  source: RedisSource;
  url: string;
  socketPath?: string;
  pid?: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    redis: ProvidedRedis;
  }
}

/** Starts (or finds) Redis and provides it; returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await resolveRedis();
  const provided: ProvidedRedis = { source: redis.source, url: redis.url };
  if (redis.socketPath) provided.socketPath = redis.socketPath;
  if (redis.pid !== undefined) provided.pid = redis.pid;
  project.provide('redis', provided);
  return () => redis.stop();
}
