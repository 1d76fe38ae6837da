/** An instance's configuration, from the environment the launcher gives it. */

/** What one instance needs to know. */
export interface InstanceConfig {
  /** `a` or `b`: shown in the `x-instance` header and in logs. */
  instance: string;
  port: number;
  redisUrl: string;
  databaseUrl: string;
  /** The schema of the shop's tables (`public` in the embedded database). */
  dbSchema: string;
  /** HMAC secret of session ids, the same for both instances. */
  sessionSecret: string;
  /** How often each instance tries to claim the reindex job. */
  reindexEveryMs: number;
  /** Order events generated per second (0 turns the generator off). */
  ordersPerSecond: number;
}

/**
 * Reads the configuration; a missing or bad variable is an error naming it (the launcher sets the
 * required ones). An empty variable counts as unset, as in most shells' habits.
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): InstanceConfig {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set: start the demo with \`pnpm demo\`, which sets it`);
    return value;
  };
  const number = (name: string, fallback: number, min: number): number => {
    const value = Number(env[name] || fallback);
    if (!Number.isInteger(value) || value < min)
      throw new Error(`${name} must be an integer of at least ${min}; got ${env[name]}`);
    return value;
  };
  return {
    instance: need('DEMO_INSTANCE'),
    port: Number(need('PORT')),
    redisUrl: need('REDIS_URL'),
    databaseUrl: need('DATABASE_URL'),
    dbSchema: env.DEMO_DB_SCHEMA || 'public',
    sessionSecret: need('SESSION_SECRET'),
    reindexEveryMs: number('DEMO_REINDEX_MS', 10_000, 500),
    ordersPerSecond: number('DEMO_ORDERS_PER_SECOND', 2, 0),
  };
}
