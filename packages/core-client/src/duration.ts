/** Durations in options: milliseconds, or strings such as `'30s'`, `'5m'`, `'250ms'` (parsed by `ms`). */
import ms from 'ms';
import { failOption } from './describe-value.js';

/** A duration: milliseconds, or a string `ms` understands (`'500ms'`, `'30s'`, `'5m'`, `'1h'`). */
export type Duration = number | string;

/**
 * Converts a {@link Duration} to milliseconds. Throws a `ConfigError` naming
 * `option` for a negative, non-finite or unparseable value (`NaN`, `''`,
 * `'soon'`, `'1h30m'`, `true`).
 */
export function toMs(value: Duration, option: string): number {
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
