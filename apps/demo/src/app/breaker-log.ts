/**
 * Says when the Redis circuit breaker of this instance moves, and why: it is
 * what turns Redis trouble into fallbacks (`x-cache: bypass (redis-down)`),
 * so a user watching the demo's output sees the cause next to the effect.
 */
import { subscribe } from 'node:diagnostics_channel';
import { CoreChannels } from '@stratacache/core-client';

/** Starts logging breaker changes, each "open" with the last failed commands before it. */
export function logBreakerChanges(): void {
  const recent: string[] = [];
  subscribe(CoreChannels.commandError, (message) => {
    const m = message as { command?: string; code?: string };
    recent.push(`${m.command ?? '?'} ${m.code ?? '?'}`);
    if (recent.length > 5) recent.shift();
  });
  subscribe(CoreChannels.breaker, (message) => {
    const m = message as { from: string; to: string; failures: number };
    const why = m.to === 'open' ? ` after ${m.failures} failures (last: ${recent.join(', ') || 'none seen'})` : '';
    console.log(`redis breaker: ${m.from} -> ${m.to}${why}`);
  });
}
