/**
 * The bytes of one cache entry in Redis: a fixed 28-byte header, the entry's
 * tags, then the serializer's envelope (which carries its own format header,
 * so any reader decodes any writer's value).
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 1 | magic `0xC5` |
 * | 1 | 1 | kind: 1 value, 2 tombstone (a delete a late writer must not undo), 3 cached error |
 * | 2 | 1 | flags: bit 0 the value is `undefined` (no payload); bit 1 expired by `expire()` (loads that began before the expiry may not write back) |
 * | 3 | 1 | number of tags (at most 255) |
 * | 4 | 8 | as of: when the data was known current (a set's time, a load's start, a delete's time), ms on the Redis clock (float64 LE) |
 * | 12 | 8 | logical expiry, ms on the Redis clock (float64 LE; +Infinity for none); the Redis TTL adds the grace period |
 * | 20 | 8 | version (float64 LE; 0 when unversioned) |
 * | 28 | ... | each tag: uint16 LE byte length, UTF-8 bytes |
 * | ... | ... | payload: the serializer's envelope (a tombstone has none) |
 *
 * A fixed binary header (rather than JSON metadata) keeps a Redis hit to one
 * GET and three `readDoubleLE`, and lets Lua scripts read and patch the
 * expiry and version in place with `struct`.
 */
/** First byte of every entry. */
export const ENTRY_MAGIC = 0xc5;
/** Size of the fixed header. */
export const ENTRY_HEADER = 28;

/** Entry kinds. */
export const EntryKind = Object.freeze({ value: 1, tombstone: 2, error: 3 } as const);

/** An entry as read back from its bytes, payload still encoded. */
export interface RawEntry {
  kind: number;
  isUndefined: boolean;
  /** As of (header bytes 4-12): see the table above. */
  writtenAt: number;
  expiresAt: number;
  /** Flagged by `expire()`. */
  expiredByCall: boolean;
  version: number;
  tags: string[];
  /** The serializer envelope (a view into the Redis buffer). */
  payload: Buffer;
}

const NO_TAGS: string[] = [];

/** Builds the bytes of an entry. */
export function encodeEntry(
  kind: number,
  payload: Buffer | undefined,
  writtenAt: number,
  expiresAt: number,
  version: number,
  tags: readonly string[],
): Buffer {
  if (tags.length > 255) throw new RangeError('An entry holds at most 255 tags');
  const tagBytes = tags.map((tag) => Buffer.from(tag, 'utf8'));
  let size = ENTRY_HEADER + (payload?.length ?? 0);
  for (const t of tagBytes) size += 2 + t.length;
  const buf = Buffer.allocUnsafe(size);
  buf[0] = ENTRY_MAGIC;
  buf[1] = kind;
  buf[2] = payload === undefined ? 1 : 0;
  buf[3] = tags.length;
  buf.writeDoubleLE(writtenAt, 4);
  buf.writeDoubleLE(expiresAt, 12);
  buf.writeDoubleLE(version, 20);
  let at = ENTRY_HEADER;
  for (const t of tagBytes) {
    buf.writeUInt16LE(t.length, at);
    t.copy(buf, at + 2);
    at += 2 + t.length;
  }
  payload?.copy(buf, at);
  return buf;
}

/** A tombstone written by `delete` as of `at`: reads as a miss, and refuses loads that began before it. */
export function encodeTombstone(at: number, lifetimeMs: number): Buffer {
  return encodeEntry(EntryKind.tombstone, EMPTY, at, at + lifetimeMs, 0, NO_TAGS);
}

const EMPTY = Buffer.alloc(0);

/** Parses an entry; `null` for bytes that are not an entry (another writer's key, a corrupt value). */
export function decodeEntry(buf: Buffer): RawEntry | null {
  if (buf.length < ENTRY_HEADER || buf[0] !== ENTRY_MAGIC) return null;
  const count = buf[3] as number;
  let tags = NO_TAGS;
  let at = ENTRY_HEADER;
  if (count > 0) {
    tags = [];
    for (let i = 0; i < count; i++) {
      if (at + 2 > buf.length) return null;
      const len = buf.readUInt16LE(at);
      if (at + 2 + len > buf.length) return null;
      tags.push(buf.toString('utf8', at + 2, at + 2 + len));
      at += 2 + len;
    }
  }
  return {
    kind: buf[1] as number,
    isUndefined: ((buf[2] as number) & 1) === 1,
    expiredByCall: ((buf[2] as number) & 2) === 2,
    writtenAt: buf.readDoubleLE(4),
    expiresAt: buf.readDoubleLE(12),
    version: buf.readDoubleLE(20),
    tags,
    payload: buf.subarray(at),
  };
}
