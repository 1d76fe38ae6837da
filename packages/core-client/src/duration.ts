/** Durations in options: milliseconds, or strings such as `'30s'`, `'5m'`, `'250ms'` (parsed by `ms`). */
import ms from 'ms';
import { failOption } from './describe-value.js';

/** The unit names `ms` 2.x reads (its regular expression, case aside), shortest to longest. */
type DurationUnitName =
  | 'ms'
  | 'msec'
  | 'msecs'
  | 'millisecond'
  | 'milliseconds'
  | 's'
  | 'sec'
  | 'secs'
  | 'second'
  | 'seconds'
  | 'm'
  | 'min'
  | 'mins'
  | 'minute'
  | 'minutes'
  | 'h'
  | 'hr'
  | 'hrs'
  | 'hour'
  | 'hours'
  | 'd'
  | 'day'
  | 'days'
  | 'w'
  | 'week'
  | 'weeks'
  | 'y'
  | 'yr'
  | 'yrs'
  | 'year'
  | 'years';

/**
 * A unit as typed: lower case, UPPER CASE or Capitalized. `ms` ignores case entirely, so a
 * mixed case such as `'10 mS'` still parses at run time; the type keeps to the three spellings
 * people write (every mixed case would be thousands of members).
 */
type DurationUnit = DurationUnitName | Uppercase<DurationUnitName> | Capitalize<DurationUnitName>;

/**
 * A duration: milliseconds, or a string `ms` parses: a number alone (milliseconds), or a number
 * and a unit with or without one space: `'500ms'`, `'30s'`, `'30 sec'`, `'5m'`, `'1.5 hours'`,
 * `'7d'`. A typo (`'10 parsecs'`, `'5 mins later'`) is a type error. The number part is typed as
 * `${number}`, which also admits forms `ms` refuses (`'1e3s'`, `'0x10'`, `'Infinity'`) and
 * negatives: {@link toMs} rejects those at run time with a `ConfigError` naming the option.
 */
export type Duration = number | `${number}` | `${number}${DurationUnit}` | `${number} ${DurationUnit}`;

/**
 * Converts a {@link Duration} to milliseconds. Throws a `ConfigError` naming
 * `option` for a negative, non-finite or unparseable value (`NaN`, `''`,
 * `'soon'`, `'1h30m'`, `true`). It also takes any string, checked at run
 * time, for values that come from the environment or a config file
 * (`toMs(process.env.TTL ?? '5m', 'TTL')`): option types stay strict.
 */
export function toMs(value: Duration | string, option: string): number {
  // ms() throws a plain Error for '' and returns undefined for what it cannot read.
  const parsed =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim().length > 0
        ? ms(value as ms.StringValue)
        : Number.NaN;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    failOption(option, "must be a duration: milliseconds, or a string such as '500ms', '30s' or '5m'", value);
  }
  return Math.round(parsed);
}
