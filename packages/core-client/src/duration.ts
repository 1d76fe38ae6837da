/** Durations in options: milliseconds, or strings such as `'30s'`, `'5m'`, `'250ms'` (parsed by `ms`). */
import ms from 'ms';
import { ConfigError } from './errors.js';

/** A duration: milliseconds, or a string `ms` understands (`'500ms'`, `'30s'`, `'5m'`, `'1h'`). */
export type Duration = number | string;

/**
 * Converts a {@link Duration} to milliseconds. Throws a `ConfigError` naming
 * `option` for a negative, non-finite or unparseable value.
 */
export function toMs(value: Duration, option: string): number {
  const parsed =
    typeof value === 'number' ? value : typeof value === 'string' ? ms(value as ms.StringValue) : Number.NaN;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    throw new ConfigError(
      `${option} must be a duration in milliseconds or a string such as '500ms', '30s' or '5m'; got ${JSON.stringify(value)}`,
      { context: { option } },
    );
  }
  return Math.round(parsed);
}
