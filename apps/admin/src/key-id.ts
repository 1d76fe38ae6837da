/**
 * Keys travel between the browser and the console as base64url of their
 * bytes: key names are arbitrary bytes (attacker data), and this way no
 * name can break a URL, a form or the page, and a binary name survives.
 */
import { HttpError } from './security.js';

/** The URL-safe id of a key. */
export function keyId(key: Buffer | string): string {
  return (typeof key === 'string' ? Buffer.from(key) : key).toString('base64url');
}

/** The key of an id from a request; a 400 for anything that is not one. */
export function keyFromId(id: string): Buffer {
  if (!/^[A-Za-z0-9_-]{1,8192}$/.test(id)) throw new HttpError(400, 'k must be a key id (base64url)');
  return Buffer.from(id, 'base64url');
}

/** A key's place in the stratacache scheme `{prefix}:{namespace}:{kind}:{id...}`, when it has one. */
export interface KeyParts {
  namespace: string;
  kind: string;
  /** The rest after the kind (still percent-encoded). */
  id: string;
}

const NAMESPACE = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})*$/;
const KIND = /^[A-Za-z0-9_-]{1,64}$/;

/** Splits a key of this prefix into namespace, kind and id; undefined for any other key. */
export function parseKey(key: Buffer, prefix: string): KeyParts | undefined {
  const text = key.toString('utf8');
  if (Buffer.byteLength(text) !== key.length || !text.startsWith(`${prefix}:`)) return undefined;
  const rest = text.slice(prefix.length + 1);
  const [namespace = '', kind = '', ...id] = rest.split(':');
  if (!NAMESPACE.test(namespace) || !KIND.test(kind) || id.length === 0) return undefined;
  return { namespace, kind, id: id.join(':') };
}

/** Undoes the key builder's encoding of an id part (`%`, `:`, `{`, `}`). */
export function decodeKeyPart(part: string): string {
  return part.replace(/%(25|3A|7B|7D)/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}
