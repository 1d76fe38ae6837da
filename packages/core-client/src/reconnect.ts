/** Reconnect delays: exponential from a base, capped, with jitter so a fleet does not reconnect in lockstep. */

/**
 * The delay before reconnect attempt `attempt` (1-based): half of
 * `min(max, base * 2^(attempt-1))` plus a random part of the other half.
 */
export function reconnectDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
