/**
 * What a string value holds, decoded as far as it safely goes: a Cache entry
 * header, then the serializers' envelope (JSON, rich JSON, msgpack,
 * compressed), then plain text or a hex dump. Nothing here executes or
 * trusts the bytes: v8 values are refused (v8.deserialize trusts its input),
 * sizes are bounded, and the result is text to be escaped by the page.
 */
import { inspect } from 'node:util';
import { CompressionId, decode, ENVELOPE_MAGIC, FormatId, readHeader } from '@stratacache/serializers';
import { decodeEntryHeader, type EntryHeader } from './entry-header.js';
import { hexDump, isPlainText, showBytes } from './html.js';

/** The names of the envelope's format and compression ids. */
const FORMATS: Record<number, string> = {
  [FormatId.Json]: 'json',
  [FormatId.JsonRich]: 'json (rich)',
  [FormatId.Msgpack]: 'msgpack',
  [FormatId.MsgpackRecords]: 'msgpack (records)',
  [FormatId.V8]: 'v8',
};
const COMPRESSIONS: Record<number, string> = {
  [CompressionId.None]: 'none',
  [CompressionId.Gzip]: 'gzip',
  [CompressionId.Deflate]: 'deflate',
  [CompressionId.Brotli]: 'brotli',
};

/** Largest value decoded (and largest a compressed value may inflate to). */
export const MAX_DECODE_BYTES = 4 * 1024 * 1024;

/** What the viewer shows of one string value. */
export interface DecodedValue {
  /** Bytes read (the whole value unless `truncated`). */
  size: number;
  truncated: boolean;
  entry: EntryHeader | undefined;
  envelope: { version: number; format: string; compression: string } | undefined;
  /** The decoded value, as `util.inspect` text. */
  decoded: string | undefined;
  /** Why decoding stopped. */
  decodeError: string | undefined;
  /** The bytes as binary-safe text (when they are text and not an envelope). */
  text: string | undefined;
  /** A hex dump (binary that is not an envelope, or a payload that failed to decode). */
  hex: string | undefined;
}

function describe(value: unknown): string {
  return inspect(value, {
    depth: 8,
    maxArrayLength: 200,
    maxStringLength: 20_000,
    breakLength: 100,
    sorted: false,
    colors: false,
    customInspect: false,
  });
}

/** Decodes an enveloped (or headerless JSON) payload; never throws. */
function decodePayload(payload: Buffer, out: DecodedValue): void {
  try {
    const header = readHeader(payload);
    if (header.offset > 0) {
      out.envelope = {
        version: header.version,
        format: FORMATS[header.format] ?? `unknown (${header.format})`,
        compression: COMPRESSIONS[header.compression] ?? `unknown (${header.compression})`,
      };
    }
    if (header.format === FormatId.V8) {
      out.decodeError =
        'v8 values are not decoded here: v8.deserialize trusts its input, and Redis data is not trusted.';
      out.hex = hexDump(payload, 1024);
      return;
    }
    if (out.truncated) {
      out.decodeError = `The value is larger than ${MAX_DECODE_BYTES} bytes; only its start was read.`;
      out.hex = hexDump(payload, 1024);
      return;
    }
    out.decoded = describe(decode(payload, { maxSize: MAX_DECODE_BYTES, allowV8: false }));
  } catch (error) {
    const code = (error as { code?: string }).code;
    out.decodeError = `${code ? `${code}: ` : ''}${(error as Error).message}`;
    if (isPlainText(payload)) out.text = showBytes(payload);
    else out.hex = hexDump(payload, 4096);
  }
}

/** Decodes a string value's bytes (`truncated` when only a prefix was read). */
export function decodeValue(bytes: Buffer, truncated = false): DecodedValue {
  const out: DecodedValue = {
    size: bytes.length,
    truncated,
    entry: undefined,
    envelope: undefined,
    decoded: undefined,
    decodeError: undefined,
    text: undefined,
    hex: undefined,
  };
  const entry = decodeEntryHeader(bytes);
  if (entry) {
    out.entry = entry;
    const payload = bytes.subarray(entry.payloadOffset);
    if (entry.isUndefined || payload.length === 0) return out;
    decodePayload(payload, out);
    return out;
  }
  if (bytes.length > 0 && bytes[0] === ENVELOPE_MAGIC) {
    decodePayload(bytes, out);
    return out;
  }
  if (isPlainText(bytes)) {
    out.text = showBytes(bytes);
    // Headerless JSON (written by another tool) reads as JSON, as every stratacache reader would.
    const first = bytes.toString('utf8', 0, 1);
    if (!truncated && (first === '{' || first === '[')) {
      try {
        out.decoded = describe(decode(bytes, { maxSize: MAX_DECODE_BYTES }));
      } catch {
        // Not JSON after all: the text is shown as it is.
      }
    }
    return out;
  }
  out.hex = hexDump(bytes, 4096);
  return out;
}
