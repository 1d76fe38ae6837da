/**
 * The Cache entry layout of `@stratacache/patterns` (its `src/entry.ts`),
 * decoded here from the documented bytes because the console may not import
 * patterns (it sits beside it in the layer graph). test/entry-header.test.ts
 * reads entries written by a real Cache, so a change of the layout fails there.
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 1 | magic `0xC5` |
 * | 1 | 1 | kind: 1 value, 2 tombstone, 3 cached error |
 * | 2 | 1 | flags: bit 0 the value is `undefined`; bit 1 expired by `expire()` |
 * | 3 | 1 | number of tags |
 * | 4 | 8 | as of, ms on the Redis clock (float64 LE) |
 * | 12 | 8 | logical expiry, ms (float64 LE; +Infinity for none); the Redis TTL adds grace |
 * | 20 | 8 | version (float64 LE; 0 when unversioned) |
 * | 28 | ... | each tag: uint16 LE byte length, UTF-8 bytes |
 * | ... | ... | payload: the serializer's envelope (a tombstone has none) |
 *
 * The console also writes one kind of entry: the tombstone of a delete
 * ({@link encodeTombstone}), byte for byte what patterns' own `delete` writes.
 */

/** First byte of every Cache entry. */
export const ENTRY_MAGIC = 0xc5;
/** Bytes of the fixed header. */
export const ENTRY_HEADER_SIZE = 28;

/** The kind byte of a tombstone: a delete that a load which began earlier must not undo. */
export const ENTRY_KIND_TOMBSTONE = 2;

/** Names of the entry kinds. */
export const ENTRY_KINDS: Readonly<Record<number, string>> = Object.freeze({
  1: 'value',
  2: 'tombstone',
  3: 'cached error',
});

/** A Cache entry's header, and where its payload starts. */
export interface EntryHeader {
  kind: number;
  kindName: string;
  /** The value was `undefined` (no payload). */
  isUndefined: boolean;
  /** Flagged by `cache.expire()`: loads that began before the expiry may not write back. */
  expiredByCall: boolean;
  /** When the data was known current, ms on the Redis clock. */
  asOf: number;
  /** Logical expiry, ms on the Redis clock (Infinity for none). */
  expiresAt: number;
  version: number;
  tags: string[];
  /** Offset of the serializer envelope. */
  payloadOffset: number;
}

/** Decodes a Cache entry's header, or `null` when the bytes are not one (another writer's key, or cut short). */
export function decodeEntryHeader(buf: Buffer): EntryHeader | null {
  if (buf.length < ENTRY_HEADER_SIZE || buf[0] !== ENTRY_MAGIC) return null;
  const kind = buf[1] as number;
  const flags = buf[2] as number;
  const count = buf[3] as number;
  const tags: string[] = [];
  let at = ENTRY_HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    if (at + 2 > buf.length) return null;
    const length = buf.readUInt16LE(at);
    if (at + 2 + length > buf.length) return null;
    tags.push(buf.toString('utf8', at + 2, at + 2 + length));
    at += 2 + length;
  }
  return {
    kind,
    kindName: ENTRY_KINDS[kind] ?? `unknown (${kind})`,
    isUndefined: (flags & 1) === 1,
    expiredByCall: (flags & 2) === 2,
    asOf: buf.readDoubleLE(4),
    expiresAt: buf.readDoubleLE(12),
    version: buf.readDoubleLE(20),
    tags,
    payloadOffset: at,
  };
}

/**
 * The bytes of a tombstone as of `asOf` (ms on the Redis clock) that lives
 * `lifetimeMs`: kind 2, flags 0, no tags, logical expiry `asOf + lifetimeMs`,
 * version 0, no payload. Stored in place of a Cache entry (with PX =
 * `lifetimeMs`) it reads as a miss, and a load that read the key before it
 * was written finds a different header at its write-back and is refused.
 */
export function encodeTombstone(asOf: number, lifetimeMs: number): Buffer {
  const buf = Buffer.alloc(ENTRY_HEADER_SIZE);
  buf[0] = ENTRY_MAGIC;
  buf[1] = ENTRY_KIND_TOMBSTONE;
  buf[2] = 0; // flags: an empty payload is not an `undefined` value, and a delete is not an expire()
  buf[3] = 0; // no tags
  buf.writeDoubleLE(asOf, 4);
  buf.writeDoubleLE(asOf + lifetimeMs, 12);
  buf.writeDoubleLE(0, 20);
  return buf;
}
