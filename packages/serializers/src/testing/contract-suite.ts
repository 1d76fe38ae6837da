/**
 * The serializer contract, as a vitest suite any implementation can run:
 *
 * ```ts
 * import { describeSerializerContract } from '@stratacache/serializers/testing';
 * describeSerializerContract('my-serializer', (options) => mySerializer(options));
 * ```
 */
import { describe, expect, it } from 'vitest';
import { compress } from '../compression.js';
import { ENVELOPE_MAGIC, ENVELOPE_VERSION, FormatId, HEADER_SIZE } from '../envelope.js';
import { SerializationErrorCode, StratacacheError } from '../errors.js';
import { json } from '../json.js';
import { msgpack } from '../msgpack.js';
import type { DecodeOptions, Serializer } from '../types.js';
import { v8 } from '../v8.js';
import { mutate, randomBytes, seededRandom } from './prng.js';
import { JSON_SAMPLES, TRUNCATION_SAMPLE } from './samples.js';

/** Options of {@link describeSerializerContract}. */
export interface SerializerContractOptions {
  /**
   * Values the serializer must round-trip (compared with `toEqual`), on top of
   * the JSON samples every serializer must handle.
   * @default []
   */
  extraValues?: readonly unknown[];
  /** Values `encode` must refuse with `E_SERIALIZATION_ENCODE`. @default [] */
  unencodable?: readonly unknown[];
  /** Random and mutated buffers fed to `decode`. @default 400 */
  fuzzRuns?: number;
  /** Seed of the fuzz PRNG; a failure message names it. @default 0x5eed */
  seed?: number;
}

const DECODE_FAILURES = new Set<string>(Object.values(SerializationErrorCode));

/** Decodes `buf` and reports how it went; any throw other than SerializationError fails the test. */
function decodeOutcome(serializer: Serializer, buf: Uint8Array, label: string): 'value' | string {
  try {
    serializer.decode(buf);
    return 'value';
  } catch (error) {
    // isInstance, not instanceof: a serializer from another install of this package must pass too.
    if (!StratacacheError.isInstance(error) || !DECODE_FAILURES.has(error.code)) {
      throw new Error(
        `${label}: decode threw a non-SerializationError: ${String(error)} (input ${Buffer.from(buf).toString('hex').slice(0, 200)})`,
      );
    }
    return error.code;
  }
}

/**
 * One serializer of every built-in format and compression, named: to prove
 * any reader decodes any writer, and to fuzz every decoder.
 */
export function builtInSerializers(): Array<[string, Serializer]> {
  return [
    ['json', json()],
    ['json-rich', json({ rich: true })],
    ['msgpack', msgpack()],
    ['msgpack(records)', msgpack({ records: true })],
    ['v8', v8()],
    ['gzip(json)', compress(json(), { threshold: 0 })],
    ['deflate(msgpack)', compress(msgpack(), { algorithm: 'deflate', threshold: 0 })],
    ['brotli(json-rich)', compress(json({ rich: true }), { algorithm: 'brotli', threshold: 0 })],
  ];
}

/**
 * Registers the contract tests for a serializer. `make` builds it with the
 * decode options the suite needs (a small `maxSize`, for one).
 */
export function describeSerializerContract(
  name: string,
  make: (options?: DecodeOptions) => Serializer,
  options: SerializerContractOptions = {},
): void {
  const { extraValues = [], unencodable = [], fuzzRuns = 400, seed = 0x5eed } = options;

  describe(`serializer contract: ${name}`, () => {
    const serializer = make();

    it('round-trips JSON-compatible values', () => {
      for (const value of JSON_SAMPLES) expect(serializer.decode(serializer.encode(value))).toEqual(value);
    });

    if (extraValues.length > 0) {
      it('round-trips its extra values', () => {
        for (const value of extraValues) expect(serializer.decode(serializer.encode(value))).toEqual(value);
      });
    }

    it('writes the envelope header with its format id', () => {
      const buf = serializer.encode({ a: 1 });
      expect(buf[0]).toBe(ENVELOPE_MAGIC);
      expect(buf[1]).toBe(ENVELOPE_VERSION);
      expect(buf[2]).toBe(serializer.format);
    });

    it('reads values written by every built-in serializer (v8 only when it allows v8)', () => {
      const value = { id: 1, name: 'x', list: [1, 2, 3], nested: { ok: true } };
      for (const [writerName, writer] of builtInSerializers()) {
        const bytes = writer.encode(value);
        if (writer.format === FormatId.V8 && !serializer.decodeOptions?.allowV8) {
          expect(() => serializer.decode(bytes), `written by ${writerName}`).toThrowError(
            expect.objectContaining({ code: SerializationErrorCode.Unsafe }),
          );
          continue;
        }
        expect(serializer.decode(bytes), `written by ${writerName}`).toEqual(value);
      }
    });

    it('reads headerless plain JSON written by other tools', () => {
      expect(serializer.decode(Buffer.from('{"a":[1,"b",null]}'))).toEqual({ a: [1, 'b', null] });
      expect(serializer.decode(Buffer.from('"just a string"'))).toBe('just a string');
    });

    it('never lets __proto__ or constructor.prototype reach a prototype', () => {
      const hostile = [
        '{"__proto__":{"polluted":"yes"}}',
        '{"a":{"__proto__":{"polluted":"yes"}}}',
        '{"constructor":{"prototype":{"polluted":"yes"}}}',
        '[{"__proto__":{"polluted":"yes"}}]',
      ];
      for (const text of hostile) {
        let decoded: unknown;
        try {
          decoded = serializer.decode(Buffer.from(text));
        } catch (error) {
          expect(StratacacheError.isInstance(error)).toBe(true);
          continue;
        }
        // Merging the result is how pollution usually strikes.
        const merged = Object.assign({}, decoded as object);
        expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(JSON.stringify(decoded)).not.toContain('polluted');
      }
    });

    it('rejects every truncation with a SerializationError', () => {
      const full = serializer.encode(TRUNCATION_SAMPLE);
      for (let length = 1; length < full.length; length++) {
        const outcome = decodeOutcome(serializer, full.subarray(0, length), `prefix ${length}/${full.length}`);
        expect(outcome, `prefix of ${length} bytes`).not.toBe('value');
      }
    });

    it('survives random and mutated buffers: a value or a SerializationError, never a crash', () => {
      const random = seededRandom(seed);
      const originals = [serializer.encode(TRUNCATION_SAMPLE), serializer.encode(JSON_SAMPLES)];
      for (let run = 0; run < fuzzRuns; run++) {
        const kind = run % 3;
        const input =
          kind === 0
            ? randomBytes(random, Math.floor(random() * 64))
            : kind === 1
              ? Buffer.concat([
                  (originals[0] as Buffer).subarray(0, HEADER_SIZE),
                  randomBytes(random, Math.floor(random() * 64)),
                ])
              : mutate(random, originals[run % 2] as Buffer);
        decodeOutcome(serializer, input, `seed ${seed} run ${run}`);
      }
    });

    it('refuses input over maxSize before decoding it', () => {
      const small = make({ maxSize: 64 });
      const big = serializer.encode('y'.repeat(1000));
      expect(() => small.decode(big)).toThrowError(expect.objectContaining({ code: SerializationErrorCode.TooLarge }));
      expect(() => small.encode('y'.repeat(1000))).toThrowError(
        expect.objectContaining({ code: SerializationErrorCode.TooLarge }),
      );
    });

    it('names an unknown format or a newer envelope version instead of guessing', () => {
      const buf = Buffer.from(serializer.encode({ a: 1 }));
      const future = Buffer.from(buf);
      future[1] = ENVELOPE_VERSION + 1;
      expect(() => serializer.decode(future)).toThrowError(
        expect.objectContaining({ code: SerializationErrorCode.UnsupportedVersion }),
      );
      const unknown = Buffer.from(buf);
      unknown[2] = 0xee;
      expect(() => serializer.decode(unknown)).toThrowError(
        expect.objectContaining({ code: SerializationErrorCode.UnknownFormat }),
      );
    });

    it('refuses input that is not bytes', () => {
      expect(() => serializer.decode('{"a":1}' as unknown as Buffer)).toThrowError(
        expect.objectContaining({ code: SerializationErrorCode.Corrupt }),
      );
    });

    if (unencodable.length > 0) {
      it('refuses values it cannot represent with E_SERIALIZATION_ENCODE', () => {
        for (const value of unencodable) {
          expect(() => serializer.encode(value)).toThrowError(
            expect.objectContaining({ code: SerializationErrorCode.Encode }),
          );
        }
      });
    }
  });
}
