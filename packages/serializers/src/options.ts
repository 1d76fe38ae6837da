import { SerializerConfigError } from './errors.js';
import type { DecodeOptions, ResolvedDecodeOptions } from './types.js';

/** Default decode limits; see {@link DecodeOptions} for what each means. */
export const DEFAULT_DECODE_OPTIONS: ResolvedDecodeOptions = Object.freeze({
  maxSize: 64 * 1024 * 1024,
  protoAction: 'remove',
  msgpackExtensions: 'safe',
  maxDepth: 512,
  allowV8: false,
});

/**
 * Refuses an option: `<option> <requirement>; got <value>`, with `context.option`,
 * the same shape as core-client's validators (this package depends on nothing of ours).
 */
export function failOption(option: string, requirement: string, value: unknown): never {
  const shown =
    typeof value === 'string'
      ? JSON.stringify(value)
      : typeof value === 'function'
        ? 'a function'
        : typeof value === 'object' && value !== null
          ? 'an object'
          : String(value);
  throw new SerializerConfigError(`${option} ${requirement}; got ${shown}`, { context: { option } });
}

/** Options an options object may hold besides the decode options (`rich`, `level`, ...). */
export function checkOptionsObject(options: unknown, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    failOption('options', 'must be an object', options);
  }
  // A misspelt option (maxsize) would otherwise be ignored without a word.
  for (const key of Object.keys(options)) {
    if (!known.includes(key) && !(key in DEFAULT_DECODE_OPTIONS)) {
      failOption(
        key,
        `is not an option (known: ${[...known, ...Object.keys(DEFAULT_DECODE_OPTIONS)].join(', ')})`,
        key,
      );
    }
  }
}

/** Applies defaults once and validates, so encoders and decoders never re-check options. */
export function resolveDecodeOptions(options: DecodeOptions = {}): ResolvedDecodeOptions {
  checkOptionsObject(options, []);
  const resolved = { ...DEFAULT_DECODE_OPTIONS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (resolved as Record<string, unknown>)[key] = value;
  }
  if (!Number.isInteger(resolved.maxSize) || resolved.maxSize <= 0) {
    failOption('maxSize', 'must be a positive integer (bytes)', options.maxSize);
  }
  if (!Number.isInteger(resolved.maxDepth) || resolved.maxDepth <= 0) {
    failOption('maxDepth', 'must be a positive integer', options.maxDepth);
  }
  if (resolved.protoAction !== 'remove' && resolved.protoAction !== 'error') {
    failOption('protoAction', "must be 'remove' or 'error'", options.protoAction);
  }
  if (resolved.msgpackExtensions !== 'safe' && resolved.msgpackExtensions !== 'trusted') {
    failOption('msgpackExtensions', "must be 'safe' or 'trusted'", options.msgpackExtensions);
  }
  if (typeof resolved.allowV8 !== 'boolean') {
    failOption('allowV8', 'must be true or false', options.allowV8);
  }
  return Object.freeze(resolved);
}
