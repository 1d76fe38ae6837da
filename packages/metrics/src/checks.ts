/** Ready-made readiness checks: Redis answers PING, the breaker is not open, the bus is subscribed. */
import type { StrataRedis } from '@stratacache/core-client';
import type { HealthCheck } from './health.js';

/** Redis answers PING (bounded by the health timeout); the detail holds the round trip. */
export function pingCheck(redis: StrataRedis): HealthCheck {
  return async () => {
    const started = performance.now();
    // The raw client, not redis.run(): a probe must see Redis itself, even while the breaker is open.
    const reply = await redis.client.ping();
    return { ok: reply === 'PONG', detail: { latencyMs: performance.now() - started } };
  };
}

/**
 * The circuit breaker is not open (closed, or half-open while it probes).
 * A client without a breaker always passes.
 */
export function breakerClosedCheck(redis: { readonly breaker?: { readonly state: string } | undefined }): HealthCheck {
  return async () => {
    const state = redis.breaker?.state ?? 'none';
    return { ok: state !== 'open', detail: { state } };
  };
}

/**
 * The invalidation bus is started and subscribed (anything with a
 * `connected` boolean: an `InvalidationBus`, or a core-client `PubSub`).
 */
export function busConnectedCheck(bus: { readonly connected: boolean }): HealthCheck {
  return async () => ({ ok: bus.connected === true, detail: { connected: bus.connected === true } });
}
