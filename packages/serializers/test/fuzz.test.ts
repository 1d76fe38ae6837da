/**
 * Property-based tests (fast-check): random and mutated buffers reach every
 * decoder and must come back as a value or a SerializationError, never as a
 * crash, a hang or another error; generated values round-trip.
 */

import { json, SerializationError, type Serializer } from '@stratacache/serializers';
import { builtInSerializers } from '@stratacache/serializers/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const serializers = builtInSerializers();

function valueOrSerializationError(serializer: Serializer, buf: Uint8Array): boolean {
  try {
    serializer.decode(buf);
    return true;
  } catch (error) {
    if (error instanceof SerializationError) return true;
    throw error;
  }
}

// __proto__ and constructor keys are dropped on purpose (prototype-poisoning
// protection), so values holding them cannot round-trip; they have tests of their own.
const safeKey = fc.string().filter((k) => k !== '__proto__' && k !== 'constructor');
const safeJsonValue = (maxDepth: number) =>
  fc.jsonValue({ maxDepth }).filter((v) => !/"(__proto__|constructor)"/.test(JSON.stringify(v)));

describe.each(serializers)('fuzz: %s', (_name, serializer) => {
  it('decodes random bytes to a value or a SerializationError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => valueOrSerializationError(serializer, bytes)),
      { numRuns: 500 },
    );
  });

  it('decodes random bytes behind a valid header to a value or a SerializationError', () => {
    const header = serializer.encode(null).subarray(0, 4);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) =>
        valueOrSerializationError(serializer, Buffer.concat([header, bytes])),
      ),
      { numRuns: 500 },
    );
  });

  it('decodes mutated valid encodings to a value or a SerializationError', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (value, edits) => {
          const buf = Buffer.from(serializer.encode(value));
          for (const [at, byte] of edits) buf[at % buf.length] = byte;
          return valueOrSerializationError(serializer, buf);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips generated JSON values', () => {
    fc.assert(
      fc.property(safeJsonValue(4), (value) => {
        expect(JSON.stringify(serializer.decode(serializer.encode(value)))).toBe(JSON.stringify(value));
      }),
      { numRuns: 200 },
    );
  });
});

describe('fuzz: json rich round-trips generated rich values', () => {
  const rich = json({ rich: true });
  it('keeps Date, Map, Set, BigInt, undefined, NaN and -0', () => {
    fc.assert(
      fc.property(
        fc.anything({
          key: safeKey,
          withDate: true,
          withMap: true,
          withSet: true,
          withBigInt: true,
          withSparseArray: false,
          withBoxedValues: false,
          withNullPrototype: false,
          withObjectString: false,
          withTypedArray: false,
        }),
        (value) => {
          expect(rich.decode(rich.encode(value))).toEqual(value);
        },
      ),
      { numRuns: 300 },
    );
  });
});
