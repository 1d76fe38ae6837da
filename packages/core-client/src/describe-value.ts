/** How option values appear in error messages, and the one way an option is refused. */
import { ConfigError } from './errors.js';

/**
 * How a value is shown in a message: strings quoted, `NaN`, `Infinity`,
 * `undefined` and functions by name (JSON would print `null` for NaN), long
 * values cut. Never pass a secret.
 */
export function describeValue(value: unknown): string {
  const cut = (text: string) => (text.length > 80 ? `${text.slice(0, 77)}...` : text);
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
    case 'string':
      return cut(JSON.stringify(value));
    case 'boolean':
      return String(value);
    default: {
      if (value === null) return 'null';
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null && !Array.isArray(value)) {
        return `a ${(value as object).constructor?.name ?? 'object'}`;
      }
      try {
        return cut(JSON.stringify(value));
      } catch {
        return Array.isArray(value) ? 'an array' : 'an object';
      }
    }
  }
}

/** Throws the `ConfigError` every validator throws: `<option> <requirement>; got <value>`. */
export function failOption(option: string, requirement: string, value: unknown): never {
  throw new ConfigError(`${option} ${requirement}; got ${describeValue(value)}`, { context: { option } });
}
