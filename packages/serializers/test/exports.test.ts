/**
 * The public surface of @stratacache/serializers, name by name, for every entry
 * point: a plain sorted list, so that adding, removing or renaming an export
 * is a visible, reviewed change in the diff. `values` are what `import`
 * gives at run time; `types` are the type-only exports (read with the
 * TypeScript compiler).
 */
import { describePublicSurface, type PublicSurface } from '@stratacache/test-utils';

const SURFACE: PublicSurface = {
  '.': {
    file: '../src/index.ts',
    values: [
      'CompressionId',
      'DEFAULT_COMPRESSION_THRESHOLD',
      'DEFAULT_DECODE_OPTIONS',
      'ENVELOPE_MAGIC',
      'ENVELOPE_VERSION',
      'FormatId',
      'HEADER_SIZE',
      'STRATACACHE_ERROR_MARKER',
      'SerializationError',
      'SerializationErrorCode',
      'SerializerConfigError',
      'StratacacheError',
      'compress',
      'decode',
      'json',
      'msgpack',
      'readHeader',
      'v8',
    ],
    types: [
      'CompressOptions',
      'CompressionAlgorithm',
      'DecodeOptions',
      'EnvelopeHeader',
      'JsonOptions',
      'MsgpackExtensions',
      'MsgpackOptions',
      'ProtoAction',
      'ResolvedDecodeOptions',
      'Serializer',
      'StratacacheErrorOptions',
    ],
  },
  './testing': {
    file: '../src/testing/index.ts',
    values: [
      'JSON_SAMPLES',
      'TRUNCATION_SAMPLE',
      'builtInSerializers',
      'describeSerializerContract',
      'mutate',
      'randomBytes',
      'seededRandom',
    ],
    types: ['SerializerContractOptions'],
  },
};

describePublicSurface(SURFACE, import.meta.url);
