/** The channel payload types: one per channel, keyed by full name, and what a subscriber reads. */
import { subscribe } from 'node:diagnostics_channel';
import { describe, expectTypeOf, it } from 'vitest';
import {
  CoordinationChannels,
  type CoordinationEvents,
  type CoordinationEventsByKey,
  type LockAcquiredEvent,
  type RateLimitEvent,
} from '../src/index.js';

describe('coordination event types', () => {
  it('has one payload type per channel, keyed by the full channel name', () => {
    type Names = (typeof CoordinationChannels)[keyof typeof CoordinationChannels];
    expectTypeOf<keyof CoordinationEvents>().toEqualTypeOf<Names>();
    expectTypeOf<keyof CoordinationEventsByKey>().toEqualTypeOf<keyof typeof CoordinationChannels>();
    expectTypeOf<CoordinationEvents['stratacache:coordination:lock-acquired']>().toEqualTypeOf<LockAcquiredEvent>();
    expectTypeOf<CoordinationEvents[typeof CoordinationChannels.rateLimit]>().toEqualTypeOf<RateLimitEvent>();
  });

  it('types the fields a subscriber reads', () => {
    subscribe(CoordinationChannels.rateLimit, (message) => {
      const event = message as CoordinationEvents[typeof CoordinationChannels.rateLimit];
      expectTypeOf(event.decision).toEqualTypeOf<'allowed' | 'limited' | 'blocked'>();
      expectTypeOf(event.source).toEqualTypeOf<'redis' | 'fail-open' | 'fail-closed' | 'insurance'>();
      expectTypeOf(event.limiter).toEqualTypeOf<string>();
    });
    subscribe(CoordinationChannels.lockAcquired, (message) => {
      const event = message as LockAcquiredEvent;
      expectTypeOf(event.fence).toEqualTypeOf<number>();
      expectTypeOf(event.lock).toEqualTypeOf<string>();
    });
  });
});
