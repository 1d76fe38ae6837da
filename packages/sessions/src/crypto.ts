/**
 * Encryption at rest: AES-256-GCM with a random 96-bit nonce per write and the
 * full 16-byte tag. The additional authenticated data is the key id and the
 * session's Redis key, so a ciphertext moved to another session, or relabelled
 * with another key id, fails authentication. Decrypts with any listed key,
 * encrypts with the current one.
 *
 * Sealed layout: magic (4 bytes) | key id length (1) | key id (utf8) | nonce (12) | tag (16) | ciphertext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from '@stratacache/core-client';

/** One encryption key. */
export interface EncryptionKey {
  /** A short label stored with every value (1-64 characters); never reuse one for another key. */
  id: string;
  /** 32 bytes of key material (AES-256). */
  key: Uint8Array;
}

/** The `encryption` option of the session manager. */
export interface EncryptionOptions {
  /** Every key that may have written a stored value; at least one. */
  keys: readonly EncryptionKey[];
  /** The id of the key new writes use. @default the first key's id */
  current?: string;
}

const MAGIC = Buffer.from([0x53, 0x43, 0x53, 0x01]); // 'SCS' v1
const NONCE = 12;
const TAG = 16;

/** Why a stored value could not be opened. */
export class Tampered extends Error {}

/** Seals and opens values with a key ring. */
export class KeyRing {
  private readonly keys = new Map<string, Buffer>();
  private readonly currentId: string;

  constructor(options: EncryptionOptions) {
    if (!options || !Array.isArray(options.keys) || options.keys.length === 0) {
      throw new ConfigError('encryption.keys must list at least one { id, key }', {
        context: { option: 'encryption.keys' },
      });
    }
    for (const entry of options.keys) {
      const id = entry?.id;
      if (typeof id !== 'string' || id.length === 0 || Buffer.byteLength(id) > 64) {
        throw new ConfigError(`encryption.keys[].id must be a string of 1-64 bytes; got ${JSON.stringify(id)}`, {
          context: { option: 'encryption.keys' },
        });
      }
      if (this.keys.has(id)) {
        throw new ConfigError(`encryption.keys has the id ${JSON.stringify(id)} twice`, {
          context: { option: 'encryption.keys' },
        });
      }
      if (!(entry.key instanceof Uint8Array) || entry.key.length !== 32) {
        throw new ConfigError(
          `encryption.keys[${JSON.stringify(id)}].key must be 32 bytes (a Buffer, e.g. randomBytes(32)); got ${entry.key instanceof Uint8Array ? `${entry.key.length} bytes` : typeof entry.key}`,
          { context: { option: 'encryption.keys' } },
        );
      }
      this.keys.set(id, Buffer.from(entry.key));
    }
    this.currentId = options.current ?? (options.keys[0] as EncryptionKey).id;
    if (!this.keys.has(this.currentId)) {
      throw new ConfigError(
        `encryption.current names ${JSON.stringify(this.currentId)}, which is not in encryption.keys`,
        {
          context: { option: 'encryption.current' },
        },
      );
    }
  }

  /** Encrypts `plain` for the session stored at `redisKey`. */
  seal(plain: Buffer, redisKey: string): Buffer {
    const id = Buffer.from(this.currentId);
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId) as Buffer, nonce, {
      authTagLength: TAG,
    });
    cipher.setAAD(aad(id, redisKey));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([MAGIC, Buffer.from([id.length]), id, nonce, cipher.getAuthTag(), body]);
  }

  /** Decrypts a sealed value of `redisKey`; throws `Tampered` for anything that does not authenticate. */
  open(sealed: Buffer, redisKey: string): Buffer {
    if (!isSealed(sealed)) throw new Tampered('the value is not encrypted');
    const idLength = sealed[MAGIC.length] as number;
    const start = MAGIC.length + 1;
    if (sealed.length < start + idLength + NONCE + TAG) throw new Tampered('the value is truncated');
    const id = sealed.subarray(start, start + idLength);
    const key = this.keys.get(id.toString());
    if (!key) throw new Tampered('the value was written with a key id that is not listed');
    const nonce = sealed.subarray(start + idLength, start + idLength + NONCE);
    const tag = sealed.subarray(start + idLength + NONCE, start + idLength + NONCE + TAG);
    const body = sealed.subarray(start + idLength + NONCE + TAG);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG });
      decipher.setAAD(aad(id, redisKey));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch (error) {
      throw new Tampered('the value failed authentication', { cause: error });
    }
  }
}

/** True when `value` starts like a sealed value. */
export function isSealed(value: Buffer): boolean {
  return value.length > MAGIC.length && value.subarray(0, MAGIC.length).equals(MAGIC);
}

function aad(id: Buffer, redisKey: string): Buffer {
  // Length-prefixed, so no (id, key) pair can be spelled as another.
  return Buffer.concat([Buffer.from([id.length]), id, Buffer.from(redisKey)]);
}
