/**
 * `Duration` admits exactly the strings `ms` parses (a number alone, or a number and a unit with
 * or without one space, in lower, UPPER or Capitalized case) and refuses typos at compile time.
 * `test/duration.test.ts` proves at run time that every string accepted here parses.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { type Duration, toMs } from '../src/index.js';
import type { ListedUnit } from './duration-units.js';

describe('Duration', () => {
  it('accepts numbers and what ms parses', () => {
    expectTypeOf(250).toExtend<Duration>();
    expectTypeOf<'250'>().toExtend<Duration>();
    expectTypeOf<'500ms'>().toExtend<Duration>();
    expectTypeOf<'10 sec'>().toExtend<Duration>();
    expectTypeOf<'10sec'>().toExtend<Duration>();
    expectTypeOf<'30s'>().toExtend<Duration>();
    expectTypeOf<'1.5 hours'>().toExtend<Duration>();
    expectTypeOf<'.5s'>().toExtend<Duration>();
    expectTypeOf<'5m'>().toExtend<Duration>();
    expectTypeOf<'5 mins'>().toExtend<Duration>();
    expectTypeOf<'2 Weeks'>().toExtend<Duration>();
    expectTypeOf<'1 YEAR'>().toExtend<Duration>();
    expectTypeOf<'7d'>().toExtend<Duration>();
    expectTypeOf<'100 msecs'>().toExtend<Duration>();
    expectTypeOf<`${number}s`>().toExtend<Duration>();
    // Every unit ms reads (the list the run-time test parses), in the three cases, with or without a space.
    expectTypeOf<`1${ListedUnit}`>().toExtend<Duration>();
    expectTypeOf<`1 ${Uppercase<ListedUnit>}`>().toExtend<Duration>();
    expectTypeOf<`1${Capitalize<ListedUnit>}`>().toExtend<Duration>();
    toMs('30s', 'ttl');
    toMs('1 hr', 'ttl');
  });

  it('refuses typos and units ms does not know', () => {
    expectTypeOf<'10 parsecs'>().not.toExtend<Duration>();
    expectTypeOf<'10 secz'>().not.toExtend<Duration>();
    expectTypeOf<'5 mins later'>().not.toExtend<Duration>();
    expectTypeOf<'soon'>().not.toExtend<Duration>();
    expectTypeOf<'s'>().not.toExtend<Duration>();
    expectTypeOf<'1h30m'>().not.toExtend<Duration>();
    expectTypeOf<'10s '>().not.toExtend<Duration>();
    // A plain string (say, an environment variable) must be checked before it is a Duration.
    expectTypeOf<string>().not.toExtend<Duration>();
    // A typo is a compile error where an option takes a Duration...
    const option = (ttl: Duration) => ttl;
    // @ts-expect-error: '10 parsecs' is not a Duration
    option('10 parsecs');
    // ...while toMs, the run-time parser, takes any string (from the environment) and checks it.
    expectTypeOf(toMs).parameter(0).toEqualTypeOf<Duration | string>();
  });

  it('admits what a number template admits, which toMs refuses at run time', () => {
    // The number part is `${number}`: exponents, hex, Infinity, negatives and a leading space pass
    // the type; ms (or toMs, for negatives) refuses them with a ConfigError naming the option.
    expectTypeOf<'1e3s'>().toExtend<Duration>();
    expectTypeOf<'-5s'>().toExtend<Duration>();
    expectTypeOf<' 10s'>().toExtend<Duration>();
    // ms reads any number of spaces before the unit, and so does the type (the number part may
    // end in spaces).
    expectTypeOf<'10  s'>().toExtend<Duration>();
  });
});
