/**
 * A pre-decode check for msgpack bytes, run before msgpackr sees them.
 *
 * msgpackr decodes its extensions from a process-wide table: Error, RegExp,
 * structured-clone references, and any class some other module registered
 * with `addExtension`. Bytes from Redis must not be able to construct those,
 * so in `'safe'` mode this walk accepts only the extensions listed in
 * {@link SAFE_EXTENSIONS} and refuses the rest before anything is built.
 *
 * The same linear walk, with an explicit stack instead of recursion, proves
 * that every length fits in the buffer (so a header claiming four billion
 * elements fails as truncated at once) and bounds nesting depth.
 */
import type { ResolvedDecodeOptions } from '../types.js';
import { corrupt, truncated, unsafe } from './failures.js';

const FORMAT = 'msgpack';
/** msgpackr's record-definition extension type ('r'). */
const RECORD_DEFINITION = 0x72;
/** Extensions whose one data byte is followed by a nested value they read (Set). */
const FOLLOWED_BY_VALUE = new Set([0x73]);
/**
 * Extension types accepted in safe mode: undefined (0x00), BigInt (0x42),
 * Set (0x73), typed arrays (0x74), timestamp (0xff, as -1 unsigned).
 */
export const SAFE_EXTENSIONS: ReadonlySet<number> = new Set([0x00, 0x42, 0x73, 0x74, 0xff]);

/** Throws unless `buf[offset..]` is exactly one msgpack value built only from safe parts. */
export function assertSafeMsgpack(buf: Uint8Array, offset: number, options: ResolvedDecodeOptions): void {
  const end = buf.length;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // Record structures defined so far in this message: id -> number of fields.
  const structures = new Map<number, number>();
  // Values still to read at each open nesting level.
  const pending: number[] = [1];
  let pos = offset;

  const need = (bytes: number): void => {
    if (bytes > end - pos) throw truncated(FORMAT);
  };
  const u8 = (): number => {
    need(1);
    return buf[pos++] as number;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos);
    pos += 4;
    return v;
  };
  const skip = (bytes: number): void => {
    need(bytes);
    pos += bytes;
  };
  const open = (values: number): void => {
    if (values === 0) return;
    // Every value takes at least one byte: a count beyond the bytes left is a lie.
    if (values > end - pos) throw truncated(FORMAT);
    if (pending.length >= options.maxDepth) {
      throw corrupt(FORMAT, `nested deeper than maxDepth ${options.maxDepth}`);
    }
    pending.push(values);
  };
  const extension = (type: number, length: number): void => {
    if (type === RECORD_DEFINITION) {
      if (length !== 1) {
        throw unsafe('a two-byte msgpack record id', 'Write with at most 64 record structures per value.');
      }
      const id = u8() & 0x3f;
      const fields = arrayLength();
      structures.set(id, fields);
      open(fields); // the record's values, read after its keys
      open(fields); // the keys themselves
      return;
    }
    if (!SAFE_EXTENSIONS.has(type)) {
      throw unsafe(
        `msgpack extension type 0x${type.toString(16)}`,
        "Only Date, BigInt, Set, undefined and typed arrays are decoded by default; pass msgpackExtensions: 'trusted' for data you wrote yourself.",
      );
    }
    skip(length);
    if (FOLLOWED_BY_VALUE.has(type)) open(1);
  };
  const arrayLength = (): number => {
    const b = u8();
    if (b >= 0x90 && b <= 0x9f) return b & 0x0f;
    if (b === 0xdc) return u16();
    if (b === 0xdd) return u32();
    throw corrupt(FORMAT, 'record definition without a key list');
  };

  while (pending.length > 0) {
    const top = pending.length - 1;
    if (pending[top] === 0) {
      pending.pop();
      continue;
    }
    (pending[top] as number)--;
    const b = u8();
    if (b < 0x80) {
      // 0x40-0x7f is a record reference once a structure with that id exists.
      if (b >= 0x40) open(structures.get(b & 0x3f) ?? 0);
    } else if (b < 0x90) open((b & 0x0f) * 2);
    else if (b < 0xa0) open(b & 0x0f);
    else if (b < 0xc0) skip(b & 0x1f);
    else if (b < 0xe0) {
      switch (b) {
        case 0xc0:
        case 0xc2:
        case 0xc3:
          break;
        case 0xc1:
          throw corrupt(FORMAT, 'reserved byte 0xc1');
        case 0xc4:
        case 0xd9:
          skip(u8());
          break;
        case 0xc5:
        case 0xda:
          skip(u16());
          break;
        case 0xc6:
        case 0xdb:
          skip(u32());
          break;
        case 0xc7: {
          const length = u8();
          extension(u8(), length);
          break;
        }
        case 0xc8: {
          const length = u16();
          extension(u8(), length);
          break;
        }
        case 0xc9: {
          const length = u32();
          extension(u8(), length);
          break;
        }
        case 0xca:
        case 0xce:
        case 0xd2:
          skip(4);
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          skip(8);
          break;
        case 0xcc:
        case 0xd0:
          skip(1);
          break;
        case 0xcd:
        case 0xd1:
          skip(2);
          break;
        case 0xd4:
          extension(u8(), 1);
          break;
        case 0xd5:
          extension(u8(), 2);
          break;
        case 0xd6:
          extension(u8(), 4);
          break;
        case 0xd7:
          extension(u8(), 8);
          break;
        case 0xd8:
          extension(u8(), 16);
          break;
        case 0xdc:
          open(u16());
          break;
        case 0xdd:
          open(u32());
          break;
        case 0xde:
          open(u16() * 2);
          break;
        case 0xdf:
          open(u32() * 2);
          break;
      }
    }
    // 0xe0-0xff: negative fixint, nothing follows.
  }
  if (pos !== end) throw corrupt(FORMAT, `${end - pos} bytes after the end of the value`);
}
