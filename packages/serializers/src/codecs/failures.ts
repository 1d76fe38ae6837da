/** Small constructors for the errors every codec throws, so messages stay uniform. */
import { SerializationError, SerializationErrorCode } from '../errors.js';

/** The value cannot be encoded by `serializer`; `hint` says what to use instead. */
export function encodeFailure(serializer: string, cause: unknown, hint = ''): SerializationError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new SerializationError(
    SerializationErrorCode.Encode,
    `${serializer} cannot encode this value: ${reason}${hint ? `. ${hint}` : ''}`,
    { cause, context: { serializer } },
  );
}

/** The bytes are not a valid `format` payload. */
export function corrupt(format: string, detail: string, cause?: unknown): SerializationError {
  return new SerializationError(
    SerializationErrorCode.Corrupt,
    `Stored ${format} value is corrupt (${detail}); it was not written by a compatible serializer or was damaged in storage.`,
    { cause, context: { format } },
  );
}

/** The bytes end before the `format` value does. */
export function truncated(format: string, cause?: unknown): SerializationError {
  return new SerializationError(
    SerializationErrorCode.Truncated,
    `Stored ${format} value ends too early; it was cut short in storage or transit.`,
    { cause, context: { format } },
  );
}

/** `size` bytes exceed `maxSize`; `what` says which size was measured. */
export function tooLarge(what: string, size: number | undefined, maxSize: number): SerializationError {
  return new SerializationError(
    SerializationErrorCode.TooLarge,
    `${what} ${size === undefined ? 'exceeds' : `is ${size} bytes, over`} maxSize (${maxSize} bytes); raise the maxSize option if values this large are expected.`,
    { context: { size, maxSize } },
  );
}

/** Something the safety policy refuses. */
export function unsafe(detail: string, hint: string): SerializationError {
  return new SerializationError(SerializationErrorCode.Unsafe, `Refused to decode: ${detail}. ${hint}`, {
    context: { detail },
  });
}

/**
 * Wraps anything a codec threw that is not already a SerializationError. The
 * codec's own message may quote the stored bytes (JSON.parse and msgpackr do),
 * and messages end up in logs, so it is kept only as `cause`.
 */
export function asSerializationError(format: string, error: unknown): SerializationError {
  if (error instanceof SerializationError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/end of (json|messagepack|data|file|input)|unexpected end|unterminated|truncat/i.test(message)) {
    return truncated(format, error);
  }
  if (error instanceof RangeError && /call stack/i.test(message)) {
    return corrupt(format, 'nested too deeply', error);
  }
  return corrupt(format, `${error instanceof Error ? error.name : 'error'} while decoding`, error);
}
