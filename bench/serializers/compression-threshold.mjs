/**
 * Where does compression start to pay? For JSON values of growing size this
 * prints the cost of JSON.stringify alone, the extra cost of gzip / deflate /
 * brotli(q4) on top, and the bytes saved. The default `threshold` of
 * compress() is chosen from this table (see packages/serializers/README.md).
 *
 * Run: pnpm --filter @stratacache/bench serializers
 */
import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib';
import { Bench } from 'tinybench';

/** A realistic cached value: an array of user-ish records, about `bytes` of JSON. */
function valueOfSize(bytes) {
  const rows = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const row = {
      id: i,
      name: `user-${i}`,
      email: `user${i}@example.test`,
      plan: i % 3 ? 'free' : 'pro',
      active: i % 2 === 0,
      score: (i * 37) % 101,
    };
    rows.push(row);
    size += JSON.stringify(row).length + 1;
  }
  return rows;
}

const sizes = [256, 1024, 2048, 4096, 8192, 16384, 65536];
const table = [];
for (const size of sizes) {
  const value = valueOfSize(size);
  const text = JSON.stringify(value);
  const buf = Buffer.from(text);
  const bench = new Bench({ time: 300, warmupTime: 100 });
  bench
    .add('stringify', () => JSON.stringify(value))
    .add('gzip', () => gzipSync(buf, { level: 6 }))
    .add('deflate', () => deflateSync(buf, { level: 6 }))
    .add('brotli4', () => brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }));
  await bench.run();
  const mean = (name) => bench.tasks.find((t) => t.name === name).result.latency.mean * 1000; // µs
  const stringify = mean('stringify');
  table.push({
    'json bytes': buf.length,
    'stringify µs': stringify.toFixed(1),
    'gzip µs': mean('gzip').toFixed(1),
    'gzip/stringify': (mean('gzip') / stringify).toFixed(1),
    'brotli4/stringify': (mean('brotli4') / stringify).toFixed(1),
    'gzip bytes': gzipSync(buf).length,
    'saved %': (100 - (gzipSync(buf).length / buf.length) * 100).toFixed(0),
  });
}
console.log(`node ${process.version}, ${new Date().toISOString()}`);
console.table(table);
