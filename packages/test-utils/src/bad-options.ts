/**
 * Table-driven option tests: for each kind of option, the bad values every
 * package must refuse (a wrong type, a negative, zero, NaN, an unknown enum
 * value, an out-of-range value, as far as each applies), and the check that a
 * refusal is a `ConfigError` (`E_CONFIG`) whose `context.option` and message
 * name the option and the value received.
 *
 * ```ts
 * for (const row of rows) for (const value of row.values) {
 *   it(`${row.option} = ${shown(value)}`, () => expectConfigError(() => row.make(value), row.option, value));
 * }
 * ```
 */
import { expect } from 'vitest';

/** Bad values by kind of option. */
export const BAD_OPTION_VALUES = Object.freeze({
  /** A duration of more than 0 ms. */
  positiveDuration: [true, {}, -1, 0, Number.NaN, Number.POSITIVE_INFINITY, 'soon', ''],
  /** A duration of 0 ms or more. */
  nonNegativeDuration: [true, {}, -1, Number.NaN, Number.POSITIVE_INFINITY, 'soon'],
  /** An integer of 1 or more. */
  positiveInt: ['5', true, -1, 0, Number.NaN, 1.5, Number.POSITIVE_INFINITY],
  /** An integer of 1 or more, or Infinity for "no limit". */
  positiveIntOrInfinity: ['5', true, -1, 0, Number.NaN, 1.5, Number.NEGATIVE_INFINITY],
  /** An integer of 0 or more. */
  nonNegativeInt: ['5', true, -1, Number.NaN, 1.5, Number.POSITIVE_INFINITY],
  /** A number from 0 to 1, both included. */
  fraction: ['0.5', true, -0.1, Number.NaN, 1.5],
  /** A number from 0 to 1, 0 excluded. */
  fractionWithoutZero: ['0.5', true, -0.1, 0, Number.NaN, 1.5],
  /** A number between 0 and 1, both excluded. */
  openFraction: ['0.5', true, -0.1, 0, 1, Number.NaN, 1.5],
  /** true or false. */
  boolean: ['yes', 1, 0, Number.NaN],
  /** A non-empty string. */
  name: [5, true, '', Number.NaN, {}],
  /** A key namespace. */
  namespace: [5, '', 'a:b', 'a*', 'x'.repeat(65), Number.NaN],
  /** A function. */
  function: ['x', 5, Number.NaN, {}],
  /** An options object. */
  object: ['x', 5, Number.NaN, true],
});

/** Bad values of an enum option: a wrong type, NaN and unknown members. */
export function badEnumValues(): unknown[] {
  return [5, true, Number.NaN, 'nope', ''];
}

/** How a value appears after `got` in a message (as core-client's validators show it). */
export function shown(value: unknown): string {
  // Long values are cut to 80 characters, as in the messages.
  const cut = (text: string) => (text.length > 80 ? `${text.slice(0, 77)}...` : text);
  if (typeof value === 'string') return cut(JSON.stringify(value));
  if (typeof value === 'object' && value !== null) return cut(JSON.stringify(value));
  return String(value);
}

/**
 * Runs `run` (sync or async) and expects a `ConfigError` naming `option` in
 * `context.option` and at the start of its message; unless `hideValue`, the
 * message also shows the value received (`got <value>`).
 */
export async function expectConfigError(
  run: () => unknown,
  option: string,
  value: unknown,
  options: { hideValue?: boolean } = {},
): Promise<void> {
  let error: unknown;
  try {
    await run();
  } catch (caught) {
    error = caught;
  }
  const label = `${option} = ${shown(value)}`;
  expect(error, label).toMatchObject({ code: 'E_CONFIG', context: { option } });
  const message = (error as Error).message;
  expect(message.startsWith(`${option} `), `${label}: ${message}`).toBe(true);
  if (!options.hideValue) expect(message, label).toContain(`got ${shown(value)}`);
}
