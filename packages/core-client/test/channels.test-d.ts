import { describe, expectTypeOf, it } from 'vitest';
import { CoreChannels, defineChannels } from '../src/index.js';

describe('defineChannels types', () => {
  it('types the full names as literals and accepts only declared events', () => {
    const set = defineChannels('coordination', { acquired: 'lock-acquired', lost: 'lock-lost' });
    expectTypeOf(set.names.acquired).toEqualTypeOf<'stratacache:coordination:lock-acquired'>();
    expectTypeOf(set.names).toEqualTypeOf<{
      readonly acquired: 'stratacache:coordination:lock-acquired';
      readonly lost: 'stratacache:coordination:lock-lost';
    }>();
    expectTypeOf(set.publish).parameter(0).toEqualTypeOf<'acquired' | 'lost'>();
    // @ts-expect-error: not a declared event
    set.publish('released', {});
    // @ts-expect-error: not a declared event
    set.listening('released');
    expectTypeOf(CoreChannels.breaker).toEqualTypeOf<'stratacache:core:breaker'>();
  });
});
