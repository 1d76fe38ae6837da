/**
 * Errors of @stratacache/serializers.
 *
 * The base class carries the same `Symbol.for` marker as the base error of
 * `@stratacache/core-client`, so `StratacacheError.isInstance()` from either
 * package recognises errors thrown by both, even across duplicate installs
 * where `instanceof` fails.
 */

/** The marker every stratacache error carries; shared by all packages through `Symbol.for`. */
export const STRATACACHE_ERROR_MARKER: unique symbol = Symbol.for('stratacache.error') as never;

/** Options accepted by every stratacache error constructor. */
export interface StratacacheErrorOptions {
  /** The underlying error, kept as the standard `cause`. */
  cause?: unknown;
  /** Structured facts about the failure (never secrets, never values). */
  context?: Record<string, unknown>;
}

/**
 * Base of every error thrown by stratacache packages: a stable `code`
 * (`E_...`), `context` fields and a `cause`.
 */
export class StratacacheError extends Error {
  /** Stable machine-readable code, such as `E_SERIALIZATION_CORRUPT`. */
  readonly code: string;
  /** Structured facts about the failure. */
  readonly context: Readonly<Record<string, unknown>>;
  declare readonly [STRATACACHE_ERROR_MARKER]: true;

  constructor(code: string, message: string, options: StratacacheErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = Object.freeze({ ...(options.context ?? {}) });
    Object.defineProperty(this, STRATACACHE_ERROR_MARKER, { value: true, enumerable: false });
  }

  /**
   * True when `value` is a stratacache error from any package or any installed
   * copy of one. Prefer this to `instanceof`, which fails across duplicate installs.
   */
  static isInstance(value: unknown): value is StratacacheError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[STRATACACHE_ERROR_MARKER] === true
    );
  }
}

/** Codes a {@link SerializationError} can carry. */
export const SerializationErrorCode = {
  /** The value cannot be represented by the chosen serializer (a BigInt in plain JSON, a cycle). */
  Encode: 'E_SERIALIZATION_ENCODE',
  /** The buffer ends before the value does. */
  Truncated: 'E_SERIALIZATION_TRUNCATED',
  /** The bytes are not a valid encoding of any value. */
  Corrupt: 'E_SERIALIZATION_CORRUPT',
  /** The encoded or decoded size exceeds `maxSize`. */
  TooLarge: 'E_SERIALIZATION_TOO_LARGE',
  /** The header names a format or compression this version does not know. */
  UnknownFormat: 'E_SERIALIZATION_UNKNOWN_FORMAT',
  /** The header is from a newer envelope version than this reader supports. */
  UnsupportedVersion: 'E_SERIALIZATION_UNSUPPORTED_VERSION',
  /** The value holds a key or extension refused by the safety policy. */
  Unsafe: 'E_SERIALIZATION_UNSAFE',
} as const;

/** A code of {@link SerializationErrorCode}. */
export type SerializationErrorCode = (typeof SerializationErrorCode)[keyof typeof SerializationErrorCode];

/**
 * Thrown when a value cannot be encoded or a buffer cannot be decoded.
 * Decoders never throw anything else: callers can treat this error as
 * "a miss plus an error event".
 */
export class SerializationError extends StratacacheError {
  declare readonly code: SerializationErrorCode;

  constructor(code: SerializationErrorCode, message: string, options: StratacacheErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * Thrown when a serializer is built with an invalid option. Code `E_CONFIG`,
 * the same code core-client's `ConfigError` carries; the message names the option.
 */
export class SerializerConfigError extends StratacacheError {
  constructor(message: string, options: StratacacheErrorOptions = {}) {
    super('E_CONFIG', message, options);
  }
}
