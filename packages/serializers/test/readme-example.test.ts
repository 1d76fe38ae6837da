/** The README's example, run as written, so the documentation cannot drift from the code. */

import { compress, decode, json, msgpack } from '@stratacache/serializers';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('reads one value through every configuration', () => {
    const rich = json({ rich: true });
    const bytes = rich.encode({ at: new Date(0), ids: new Set([1, 2]), total: 10n });
    const expected = { at: new Date(0), ids: new Set([1, 2]), total: 10n };
    expect(rich.decode(bytes)).toEqual(expected);

    const other = compress(msgpack(), { algorithm: 'gzip' });
    expect(other.decode(bytes)).toEqual(expected);

    expect(decode(Buffer.from('{"written":"by redis-cli"}'))).toEqual({ written: 'by redis-cli' });
  });
});
