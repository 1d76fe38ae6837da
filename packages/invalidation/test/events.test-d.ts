/** The channel payload types: one per channel, keyed by full name, and what a subscriber reads. */
import { subscribe } from 'node:diagnostics_channel';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type BusGapEvent,
  type InvalidatedEvent,
  InvalidationChannels,
  type InvalidationEvents,
  type InvalidationEventsByKey,
} from '../src/index.js';

describe('invalidation event types', () => {
  it('has one payload type per channel, keyed by the full channel name', () => {
    type Names = (typeof InvalidationChannels)[keyof typeof InvalidationChannels];
    expectTypeOf<keyof InvalidationEvents>().toEqualTypeOf<Names>();
    expectTypeOf<keyof InvalidationEventsByKey>().toEqualTypeOf<keyof typeof InvalidationChannels>();
    expectTypeOf<InvalidationEvents['stratacache:invalidation:gap']>().toEqualTypeOf<BusGapEvent>();
    expectTypeOf<InvalidationEvents[typeof InvalidationChannels.invalidated]>().toEqualTypeOf<InvalidatedEvent>();
  });

  it('types the fields a subscriber reads', () => {
    subscribe(InvalidationChannels.invalidated, (message) => {
      const event = message as InvalidatedEvent;
      expectTypeOf(event.strategy).toEqualTypeOf<'delete' | 'expire' | 'ttl'>();
      expectTypeOf(event.target).toEqualTypeOf<'key' | 'prefix' | 'pattern' | 'tag' | 'namespace'>();
    });
    subscribe(InvalidationChannels.gap, (message) => {
      const event = message as BusGapEvent;
      expectTypeOf(event.reason).toEqualTypeOf<'sequence' | 'resubscribed'>();
      expectTypeOf(event.missed).toEqualTypeOf<number | undefined>();
    });
  });
});
