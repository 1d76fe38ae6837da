/** `stratacache health`: core-client's health report (PING, INFO, warnings) for the configured Redis. */
import type { HealthReport, StrataRedis } from '@stratacache/core-client';

/** The health report; `ok: false` makes the command exit 1. */
export function health(redis: StrataRedis): Promise<HealthReport> {
  return redis.health();
}
