/**
 * JSON payloads: plain (safe parse) and rich (tagged types).
 *
 * Safety: parsing goes through secure-json-parse, which drops (or refuses)
 * `__proto__` keys and `constructor` keys holding a `prototype`, so nothing
 * decoded can later reach a prototype through `Object.assign` or a merge.
 *
 * Rich mode tags values JSON cannot hold as `{"$sc": <tag>, "v": <data>}`.
 * A plain object that has its own `$sc` key is itself escaped (tag `O`), so
 * user data can never be mistaken for a tag.
 */
import sjson from 'secure-json-parse';
import type { ResolvedDecodeOptions } from '../types.js';
import { corrupt, encodeFailure, tooLarge, unsafe } from './failures.js';

/** The key that marks a tagged value in rich JSON. */
export const RICH_TAG = '$sc';
/** Longest BigInt (in decimal digits) rich JSON decodes; longer is E_SERIALIZATION_TOO_LARGE. */
export const MAX_BIGINT_DIGITS = 10_000;

/** Encodes `value` as plain JSON text bytes. */
export function encodeJson(value: unknown): Buffer {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw encodeFailure('json', error, 'Use json({ rich: true }) for BigInt, or remove the cycle.');
  }
  if (text === undefined) {
    throw encodeFailure(
      'json',
      `${typeof value} has no JSON form`,
      'Use json({ rich: true }) to store undefined, or store null.',
    );
  }
  return Buffer.from(text, 'utf8');
}

/** Encodes `value` as rich JSON: Date, BigInt, Map, Set, Buffer, Uint8Array, undefined, NaN, ±Infinity and -0 round-trip. */
export function encodeRichJson(value: unknown): Buffer {
  try {
    return Buffer.from(JSON.stringify(value, richReplacer) as string, 'utf8');
  } catch (error) {
    throw encodeFailure('json-rich', error, 'Remove the cycle, or use v8() for cyclic data.');
  }
}

function richReplacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // `this[key]` is the value before toJSON ran: a Date is still a Date here.
  const raw = this[key];
  switch (typeof raw) {
    case 'number':
      if (Number.isFinite(raw)) return Object.is(raw, -0) ? { [RICH_TAG]: 'N', v: '-0' } : raw;
      return { [RICH_TAG]: 'N', v: String(raw) };
    case 'bigint':
      return { [RICH_TAG]: 'B', v: raw.toString() };
    case 'undefined':
      return { [RICH_TAG]: 'u' };
    case 'object': {
      if (raw === null) return null;
      if (raw instanceof Date) {
        return { [RICH_TAG]: 'D', v: Number.isNaN(raw.getTime()) ? null : raw.toISOString() };
      }
      if (raw instanceof Uint8Array) {
        const b64 = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
        return { [RICH_TAG]: Buffer.isBuffer(raw) ? 'Buf' : 'U8', v: b64 };
      }
      if (raw instanceof Map) return { [RICH_TAG]: 'M', v: [...raw] };
      if (raw instanceof Set) return { [RICH_TAG]: 'S', v: [...raw] };
      if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, RICH_TAG)) {
        return { [RICH_TAG]: 'O', v: Object.entries(value) };
      }
      return value;
    }
    default:
      return value;
  }
}

function toText(buf: Uint8Array, offset: number): string {
  const view = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return view.toString('utf8', offset);
}

/** Parses JSON text with prototype-poisoning protection. */
export function decodeJson(buf: Uint8Array, offset: number, options: ResolvedDecodeOptions): unknown {
  return parseSafely(toText(buf, offset), options);
}

/** Parses rich JSON and revives its tags. */
export function decodeRichJson(buf: Uint8Array, offset: number, options: ResolvedDecodeOptions): unknown {
  const text = toText(buf, offset);
  const parsed = parseSafely(text, options);
  // Fast path: most values hold no tag, and a substring test is far cheaper than a walk.
  if (!text.includes(`"${RICH_TAG}"`)) return parsed;
  return revive(parsed, 0, options);
}

/**
 * True when `text` cannot hold what secure-json-parse removes: a `__proto__`
 * key, or a `constructor` key holding an object with a `prototype` key. Both
 * need the letters `proto` in the text, literally or through a `\u` escape
 * (JSON has no other way to write letters). `JSON.stringify` writes `\u` only
 * for control characters and lone surrogates, so what our encoders wrote nearly
 * always passes, and the decode is then a bare `JSON.parse` plus two native
 * substring searches (secure-json-parse's two regular expressions try a match
 * at every quote of the text).
 */
function cannotPoison(text: string): boolean {
  return text.indexOf('proto') === -1 && text.indexOf('\\u') === -1;
}

function parseSafely(text: string, options: ResolvedDecodeOptions): unknown {
  // A BOM is stripped as secure-json-parse does (plain JSON from other tools may start with one).
  if (cannotPoison(text) && text.charCodeAt(0) !== 0xfeff) return JSON.parse(text);
  try {
    return sjson.parse(text, null, {
      protoAction: options.protoAction,
      constructorAction: options.protoAction,
    });
  } catch (error) {
    if (error instanceof SyntaxError && /forbidden prototype/i.test(error.message)) {
      throw unsafe(
        'JSON holds a __proto__ or constructor.prototype key',
        "Set protoAction: 'remove' to drop such keys instead.",
      );
    }
    throw error;
  }
}

function revive(value: unknown, depth: number, options: ResolvedDecodeOptions): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > options.maxDepth) throw corrupt('json-rich', `nested deeper than maxDepth ${options.maxDepth}`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i], depth + 1, options);
    return value;
  }
  const record = value as Record<string, unknown>;
  if (Object.hasOwn(record, RICH_TAG)) return reviveTag(record, depth, options);
  for (const key of Object.keys(record)) record[key] = revive(record[key], depth + 1, options);
  return record;
}

function reviveTag(tagged: Record<string, unknown>, depth: number, options: ResolvedDecodeOptions): unknown {
  const tag = tagged[RICH_TAG];
  const data = tagged.v;
  switch (tag) {
    case 'u':
      return undefined;
    case 'N':
      if (data === 'NaN') return Number.NaN;
      if (data === 'Infinity') return Number.POSITIVE_INFINITY;
      if (data === '-Infinity') return Number.NEGATIVE_INFINITY;
      if (data === '-0') return -0;
      break;
    case 'B':
      // BigInt() of a decimal string costs more than linear time: a huge one would block the loop.
      if (typeof data === 'string' && data.length > MAX_BIGINT_DIGITS) {
        throw tooLarge(`A BigInt of ${data.length} digits`, undefined, MAX_BIGINT_DIGITS);
      }
      if (typeof data === 'string' && /^-?\d+$/.test(data)) return BigInt(data);
      break;
    case 'D':
      if (data === null) return new Date(Number.NaN);
      if (typeof data === 'string') {
        const date = new Date(data);
        if (!Number.isNaN(date.getTime())) return date;
      }
      break;
    case 'Buf':
    case 'U8':
      if (typeof data === 'string') {
        const bytes = Buffer.from(data, 'base64');
        // A copy for Uint8Array: a view would expose the rest of Node's shared Buffer pool.
        return tag === 'Buf' ? bytes : new Uint8Array(bytes);
      }
      break;
    case 'S':
      if (Array.isArray(data)) return new Set(revive(data, depth + 1, options) as unknown[]);
      break;
    case 'M':
      if (Array.isArray(data) && data.every(isPair)) {
        return new Map(revive(data, depth + 1, options) as [unknown, unknown][]);
      }
      break;
    case 'O':
      if (Array.isArray(data) && data.every((e) => isPair(e) && typeof e[0] === 'string')) {
        return fromEntries(data as [string, unknown][], depth, options);
      }
      break;
  }
  throw corrupt('json-rich', `bad tag ${JSON.stringify(tag)}`);
}

function isPair(entry: unknown): entry is [unknown, unknown] {
  return Array.isArray(entry) && entry.length === 2;
}

function fromEntries(entries: [string, unknown][], depth: number, options: ResolvedDecodeOptions): object {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of entries) {
    const value = revive(raw, depth + 1, options);
    // The same rule secure-json-parse applies to plain JSON, for keys hidden in escaped entries.
    const poisoned =
      key === '__proto__' ||
      (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype'));
    if (poisoned) {
      if (options.protoAction === 'error') {
        throw unsafe(`JSON holds a ${key} key`, "Set protoAction: 'remove' to drop such keys instead.");
      }
      continue;
    }
    // defineProperty, not assignment: never runs a setter inherited from Object.prototype.
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
