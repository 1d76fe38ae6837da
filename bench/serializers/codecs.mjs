/**
 * Cost of the serializers against the raw libraries they wrap, as ratios in
 * one run: JSON.stringify/parse, msgpackr pack/unpack. The overhead is the
 * envelope (one copy), prototype-poisoning protection and the msgpack guard.
 *
 * Run (after `pnpm build`): pnpm --filter @stratacache/bench serializers
 */
import { compress, json, msgpack } from '@stratacache/serializers';
import { Packr, Unpackr } from 'msgpackr';
import { Bench } from 'tinybench';

const small = { id: 42, name: 'Ada Lovelace', email: 'ada@example.test', roles: ['admin', 'dev'], active: true };
const rows = Array.from({ length: 200 }, (_, i) => ({
  id: i,
  name: `user-${i}`,
  email: `u${i}@example.test`,
  score: i * 1.5,
  active: i % 2 === 0,
}));
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });
const s = {
  json: json(),
  rich: json({ rich: true }),
  msgpack: msgpack(),
  records: msgpack({ records: true }),
  gzip: compress(json()),
};

const results = [];
for (const [label, value] of [
  ['small object', small],
  ['200 rows', rows],
]) {
  const text = JSON.stringify(value);
  const packed = packr.pack(value);
  const enc = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.encode(value)]));
  const bench = new Bench({ time: 400, warmupTime: 100 });
  bench
    .add('raw JSON.stringify', () => Buffer.from(JSON.stringify(value)))
    .add('json().encode', () => s.json.encode(value))
    .add('json(rich).encode', () => s.rich.encode(value))
    .add('raw JSON.parse', () => JSON.parse(text))
    .add('json().decode', () => s.json.decode(enc.json))
    .add('json(rich).decode', () => s.rich.decode(enc.rich))
    .add('raw msgpackr.pack', () => packr.pack(value))
    .add('msgpack().encode', () => s.msgpack.encode(value))
    .add('raw msgpackr.unpack', () => unpackr.unpack(packed))
    .add('msgpack().decode', () => s.msgpack.decode(enc.msgpack))
    .add('msgpack(records).decode', () => s.records.decode(enc.records))
    .add('gzip(json).encode', () => s.gzip.encode(value))
    .add('gzip(json).decode', () => s.gzip.decode(enc.gzip));
  await bench.run();
  const mean = (name) => bench.tasks.find((t) => t.name === name).result.latency.mean * 1000;
  const row = (name, base) => ({
    value: label,
    op: name,
    µs: mean(name).toFixed(2),
    'x raw': base ? (mean(name) / mean(base)).toFixed(2) : '',
  });
  results.push(
    row('json().encode', 'raw JSON.stringify'),
    row('json(rich).encode', 'raw JSON.stringify'),
    row('json().decode', 'raw JSON.parse'),
    row('json(rich).decode', 'raw JSON.parse'),
    row('msgpack().encode', 'raw msgpackr.pack'),
    row('msgpack().decode', 'raw msgpackr.unpack'),
    row('msgpack(records).decode', 'raw msgpackr.unpack'),
    row('gzip(json).encode', 'raw JSON.stringify'),
    row('gzip(json).decode', 'raw JSON.parse'),
  );
  results.push({
    value: label,
    op: 'bytes json / msgpack / records / gzip',
    µs: '',
    'x raw': `${enc.json.length} / ${enc.msgpack.length} / ${enc.records.length} / ${enc.gzip.length}`,
  });
}
console.log(`node ${process.version}, ${new Date().toISOString()}`);
console.table(results);
