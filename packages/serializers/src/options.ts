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

/** Applies defaults once and validates, so encoders and decoders never re-check options. */
export function resolveDecodeOptions(options: DecodeOptions = {}): ResolvedDecodeOptions {
  const resolved = { ...DEFAULT_DECODE_OPTIONS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (resolved as Record<string, unknown>)[key] = value;
  }
  if (!Number.isInteger(resolved.maxSize) || resolved.maxSize <= 0) {
    throw new SerializerConfigError(`maxSize must be a positive integer (bytes), got ${String(options.maxSize)}`);
  }
  if (!Number.isInteger(resolved.maxDepth) || resolved.maxDepth <= 0) {
    throw new SerializerConfigError(`maxDepth must be a positive integer, got ${String(options.maxDepth)}`);
  }
  if (resolved.protoAction !== 'remove' && resolved.protoAction !== 'error') {
    throw new SerializerConfigError(`protoAction must be 'remove' or 'error', got ${String(options.protoAction)}`);
  }
  if (resolved.msgpackExtensions !== 'safe' && resolved.msgpackExtensions !== 'trusted') {
    throw new SerializerConfigError(
      `msgpackExtensions must be 'safe' or 'trusted', got ${String(options.msgpackExtensions)}`,
    );
  }
  if (typeof resolved.allowV8 !== 'boolean') {
    throw new SerializerConfigError(`allowV8 must be true or false, got ${String(options.allowV8)}`);
  }
  return Object.freeze(resolved);
}
