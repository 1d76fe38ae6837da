/** Compression of payloads with node:zlib: gzip, deflate (zlib-wrapped) and brotli. */
import zlib from 'node:zlib';
import { CompressionId } from '../envelope.js';
import { corrupt, tooLarge, truncated } from './failures.js';

/** Names accepted by the `algorithm` option. */
export type CompressionAlgorithm = 'gzip' | 'deflate' | 'brotli';

/** Header id of each algorithm. */
export const COMPRESSION_IDS: Readonly<Record<CompressionAlgorithm, CompressionId>> = Object.freeze({
  gzip: CompressionId.Gzip,
  deflate: CompressionId.Deflate,
  brotli: CompressionId.Brotli,
});

/** Compresses `payload`; `level` is zlib's 0-9 or brotli's quality 0-11. */
export function compressPayload(algorithm: CompressionAlgorithm, payload: Uint8Array, level: number): Buffer {
  switch (algorithm) {
    case 'gzip':
      return zlib.gzipSync(payload, { level });
    case 'deflate':
      return zlib.deflateSync(payload, { level });
    case 'brotli':
      return zlib.brotliCompressSync(payload, {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: level,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: payload.length,
        },
      });
  }
}

/**
 * Inflates `payload`, refusing to produce more than `maxSize` bytes: zlib
 * stops at `maxOutputLength`, so a decompression bomb costs at most maxSize.
 */
export function decompressPayload(id: number, payload: Uint8Array, maxSize: number): Buffer {
  try {
    switch (id) {
      case CompressionId.Gzip:
        return zlib.gunzipSync(payload, { maxOutputLength: maxSize });
      case CompressionId.Deflate:
        return zlib.inflateSync(payload, { maxOutputLength: maxSize });
      case CompressionId.Brotli:
        return zlib.brotliDecompressSync(payload, { maxOutputLength: maxSize });
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('Decompressed value', undefined, maxSize);
    if (code === 'Z_BUF_ERROR' || /unexpected end/i.test((error as Error).message)) {
      throw truncated('compressed', error);
    }
    throw corrupt('compressed', (error as Error).message, error);
  }
  throw corrupt('compressed', `unknown compression id ${id}`);
}
