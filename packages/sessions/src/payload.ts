/**
 * What is stored for a session: the user, the data and the binding facts,
 * serialized, then sealed with AES-256-GCM when encryption is on. Opening
 * never throws: a value that does not authenticate or decode is `undefined`
 * and a `tampered` event.
 */
import { isSealed, Tampered } from './crypto.js';
import { publish } from './diagnostics.js';
import type { ResolvedSessionOptions } from './options.js';

/** The stored payload. */
export interface Payload {
  /** The user id, or null for an anonymous session. */
  u: string | null;
  /** The application's data. */
  d: unknown;
  /** The normalised address the session was bound to. */
  ip?: string;
  /** SHA-256 of the user agent. */
  ua?: string;
}

/** The bytes stored for `payload` at the Redis key `key` (sealed to that key when encryption is on). */
export function sealPayload(options: ResolvedSessionOptions, payload: Payload, key: string): Buffer {
  const bytes = options.serializer.encode(payload);
  return options.keyRing ? options.keyRing.seal(bytes, key) : bytes;
}

/** The payload of a stored value, or undefined (and a `tampered` event) when it does not authenticate or decode. */
export function openPayload(options: ResolvedSessionOptions, value: Buffer, key: string): Payload | undefined {
  try {
    let bytes = value;
    if (options.keyRing) bytes = options.keyRing.open(value, key);
    else if (isSealed(value)) throw new Tampered('the value is encrypted but no encryption keys are configured');
    const payload = options.serializer.decode(bytes) as Payload;
    if (typeof payload !== 'object' || payload === null || !('u' in payload) || !('d' in payload)) {
      throw new Tampered('the value is not a session');
    }
    return payload;
  } catch (error) {
    publish('tampered', {
      namespace: options.namespace,
      cause: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
}
