/** The channel payload types: one per channel, keyed by full name, and what a subscriber reads. */
import { subscribe } from 'node:diagnostics_channel';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type SessionBindingMismatchEvent,
  SessionChannels,
  type SessionCreatedEvent,
  type SessionEvents,
  type SessionEventsByKey,
} from '../src/index.js';

describe('sessions event types', () => {
  it('has one payload type per channel, keyed by the full channel name', () => {
    type Names = (typeof SessionChannels)[keyof typeof SessionChannels];
    expectTypeOf<keyof SessionEvents>().toEqualTypeOf<Names>();
    expectTypeOf<keyof SessionEventsByKey>().toEqualTypeOf<keyof typeof SessionChannels>();
    expectTypeOf<SessionEvents['stratacache:sessions:created']>().toEqualTypeOf<SessionCreatedEvent>();
  });

  it('types the fields a subscriber reads', () => {
    subscribe(SessionChannels.bindingMismatch, (message) => {
      const event = message as SessionBindingMismatchEvent;
      expectTypeOf(event.kind).toEqualTypeOf<'ip' | 'ua'>();
      expectTypeOf(event.enforced).toEqualTypeOf<boolean>();
    });
  });
});
