import { compress, json, msgpack, v8 } from '@stratacache/serializers';
import { describeSerializerContract } from '@stratacache/serializers/testing';

const richValues = [
  new Date('2026-11-22T10:00:00.000Z'),
  123456789012345678901234567890n,
  new Map<unknown, unknown>([
    ['a', 1],
    [2, new Set(['x'])],
  ]),
  new Set([1, 'two', null]),
  Buffer.from('bytes'),
  new Uint8Array([0, 1, 255]),
  [undefined, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
  { maybe: undefined, when: new Date(0) },
  { $sc: 'looks like a tag', v: 1 },
];

describeSerializerContract('json', (o) => json(o), {
  unencodable: [
    10n,
    undefined,
    (() => {
      const a: Record<string, unknown> = {};
      a.self = a;
      return a;
    })(),
  ],
});
describeSerializerContract('json rich', (o) => json({ ...o, rich: true }), { extraValues: richValues });
describeSerializerContract('msgpack', (o) => msgpack(o), {
  extraValues: [new Date(5), 2n ** 70n, -3n, Buffer.from('bin'), undefined],
});
describeSerializerContract('msgpack records', (o) => msgpack({ ...o, records: true }), {
  extraValues: [Array.from({ length: 300 }, (_, i) => ({ id: i, name: `n${i}`, at: new Date(i) }))],
});
describeSerializerContract('v8', (o) => v8(o), { extraValues: richValues.slice(0, 6) });
describeSerializerContract('gzip(json)', (o) => compress(json(), { ...o, threshold: 0 }));
describeSerializerContract('deflate(msgpack)', (o) =>
  compress(msgpack(), { ...o, algorithm: 'deflate', threshold: 0 }),
);
describeSerializerContract(
  'brotli(json rich)',
  (o) => compress(json({ rich: true }), { ...o, algorithm: 'brotli', threshold: 0 }),
  {
    extraValues: richValues,
  },
);
