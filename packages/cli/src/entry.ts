/**
 * Reads a value as stratacache wrote it, without its writer's settings:
 *
 * - a Cache entry of @stratacache/patterns: a 28-byte header (magic `0xC5`;
 *   kind; flags, bit 0 the value is `undefined`, bit 1 expired by `expire()`;
 *   tag count; as-of time, logical expiry and version as float64 LE at bytes
 *   4, 12 and 20), the tags (uint16 LE length + UTF-8 each), then the payload;
 * - the envelope of @stratacache/serializers (magic `0xF5`, version, format
 *   id, compression id), which any reader decodes whatever wrote it.
 *
 * The Cache's header layout is not exported by patterns (it is internal to
 * the Cache), so it is read here; the CLI's tests write entries through a real
 * Cache and read them back with this, so the two cannot drift apart unseen.
 */
import { CompressionId, decode, ENVELOPE_MAGIC, FormatId, readHeader } from '@stratacache/serializers';

const ENTRY_MAGIC = 0xc5;
const ENTRY_HEADER = 28;
const KINDS: Record<number, string> = { 1: 'value', 2: 'tombstone', 3: 'cached-error' };

/** A Cache entry's header, as read. */
export interface EntryHeader {
  kind: string;
  /** The stored value is `undefined` (negative caching). */
  undefinedValue: boolean;
  /** `expire()` marked it stale. */
  expiredByCall: boolean;
  /** When the data was known current, ms on the Redis clock. */
  asOf: number;
  /** Logical expiry, ms on the Redis clock (`Infinity`: none); the Redis TTL adds grace. */
  expiresAt: number;
  version: number;
  tags: string[];
}

/** The envelope header of a serialized value. */
export interface EnvelopeInfo {
  version: number;
  format: string;
  compression: string;
}

/** What a stored string holds. */
export interface DecodedValue {
  entry?: EntryHeader;
  envelope?: EnvelopeInfo;
  /** The decoded value; absent when there is none (a tombstone, `undefined`) or it could not be decoded. */
  value?: unknown;
  /** Why the payload could not be decoded. */
  error?: string;
  /** Neither an entry nor an envelope: the text (UTF-8) or the first bytes in hex. */
  raw?: string;
}

const nameOf = (table: Record<string, number>, id: number) =>
  Object.entries(table).find(([, v]) => v === id)?.[0] ?? `unknown (${id})`;

/** Reads a Cache entry header, or `undefined` when `buf` is not one. */
export function readEntry(buf: Buffer): { header: EntryHeader; payload: Buffer } | undefined {
  if (buf.length < ENTRY_HEADER || buf[0] !== ENTRY_MAGIC || KINDS[buf[1] as number] === undefined) return undefined;
  const flags = buf[2] as number;
  const tagCount = buf[3] as number;
  let at = ENTRY_HEADER;
  const tags: string[] = [];
  for (let i = 0; i < tagCount; i++) {
    if (at + 2 > buf.length) return undefined;
    const length = buf.readUInt16LE(at);
    if (at + 2 + length > buf.length) return undefined;
    tags.push(buf.toString('utf8', at + 2, at + 2 + length));
    at += 2 + length;
  }
  return {
    header: {
      kind: KINDS[buf[1] as number] as string,
      undefinedValue: (flags & 1) !== 0,
      expiredByCall: (flags & 2) !== 0,
      asOf: buf.readDoubleLE(4),
      expiresAt: buf.readDoubleLE(12),
      version: buf.readDoubleLE(20),
      tags,
    },
    payload: buf.subarray(at),
  };
}

/** Decodes what a string key holds: a Cache entry, an envelope, or raw bytes. */
export function describeValue(buf: Buffer): DecodedValue {
  const entry = readEntry(buf);
  if (entry) {
    const out: DecodedValue = { entry: entry.header };
    if (entry.header.kind === 'tombstone' || entry.header.undefinedValue || entry.payload.length === 0) return out;
    return { ...out, ...decodePayload(entry.payload) };
  }
  if (buf[0] === ENVELOPE_MAGIC) return decodePayload(buf);
  const text = buf.toString('utf8');
  // Text a person can read: valid UTF-8 without control characters other than tab and newlines.
  const printable =
    !text.includes('\uFFFD') &&
    ![...text].some((ch) => {
      const code = ch.charCodeAt(0);
      return code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d;
    });
  if (printable) {
    try {
      return { value: JSON.parse(text), raw: text }; // headerless JSON (another tool's write)
    } catch {
      return { raw: text };
    }
  }
  return { raw: `hex ${buf.subarray(0, 64).toString('hex')}${buf.length > 64 ? '...' : ''}` };
}

function decodePayload(payload: Buffer): DecodedValue {
  let envelope: EnvelopeInfo | undefined;
  try {
    const header = readHeader(payload);
    if (header.version > 0) {
      envelope = {
        version: header.version,
        format: nameOf(FormatId, header.format),
        compression: nameOf(CompressionId, header.compression),
      };
    }
  } catch {
    envelope = undefined;
  }
  try {
    return { ...(envelope ? { envelope } : {}), value: decode(payload) };
  } catch (error) {
    return { ...(envelope ? { envelope } : {}), error: error instanceof Error ? error.message : String(error) };
  }
}
