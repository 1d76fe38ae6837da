/**
 * json().decode against a bare JSON.parse of the same bytes, the target of
 * the JSON fast path: at most 1.1x `JSON.parse(buf.toString())` while
 * prototype poisoning stays impossible. Also shows the slow path (a value
 * that names `constructor`, so the full secure-json-parse scan runs).
 *
 * CPU time of this process (process.cpuUsage), not wall time: on a shared
 * machine other processes' load moves wall time far more than CPU time.
 * The cells alternate in short slices; each number is the median of ROUNDS.
 *
 * Run (after `pnpm build`): node serializers/json-decode.mjs
 * For instruction counts (load-independent), one cell at a time:
 *   CELL='json().decode' SIZE=200B valgrind --tool=callgrind node serializers/json-decode.mjs
 */
import { json } from '@stratacache/serializers';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const SLICE = Number(process.env.SLICE ?? 20_000);
const serializer = json();

function record(bytes, extra = {}) {
  const value = {
    id: 42,
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    active: true,
    roles: ['admin', 'dev'],
    ...extra,
    items: [],
  };
  while (JSON.stringify(value).length < bytes)
    value.items.push({ i: value.items.length, sku: `SKU-${value.items.length * 7919}`, qty: 3, price: 9.99 });
  return value;
}
const sizes = {
  '200B': record(200),
  '1KB': record(1024),
  '16KB': record(16 * 1024),
  '1KB naming constructor (slow path)': record(1024, { constructor: 'Babbage' }),
};

const cells = (buf) => ({
  'JSON.parse(buf.toString())': () => JSON.parse(buf.toString('utf8', 4)),
  'json().decode': () => serializer.decode(buf),
});

if (process.env.CELL) {
  // One cell, for callgrind: its instruction count minus an N=0 run is the cost of N decodes.
  const buf = serializer.encode(sizes[process.env.SIZE ?? '200B']);
  const f = cells(buf)[process.env.CELL];
  const n = Number(process.env.N ?? 100_000);
  for (let i = 0; i < n; i++) f();
} else {
  const rows = [];
  for (const [label, value] of Object.entries(sizes)) {
    const buf = serializer.encode(value);
    const c = cells(buf);
    const per = label === '16KB' ? SLICE / 20 : SLICE;
    const samples = Object.fromEntries(Object.keys(c).map((k) => [k, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, f] of Object.entries(c)) {
        for (let i = 0; i < per / 10; i++) f();
        const t0 = process.cpuUsage();
        for (let i = 0; i < per; i++) f();
        const t = process.cpuUsage(t0);
        samples[name].push(((t.user + t.system) * 1000) / per);
      }
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ratios = samples['json().decode'].map((x, i) => x / samples['JSON.parse(buf.toString())'][i]);
    const ratio = median(ratios);
    rows.push({
      value: `${label} (${buf.length - 4} bytes)`,
      'JSON.parse ns': Math.round(median(samples['JSON.parse(buf.toString())'])),
      'json().decode ns': Math.round(median(samples['json().decode'])),
      'x JSON.parse': ratio.toFixed(3),
      target: label.includes('slow') ? '(reported)' : '<= 1.10x',
      result: label.includes('slow') ? '' : ratio <= 1.1 ? 'pass' : 'FAIL',
    });
  }
  console.log(
    `node ${process.version}, CPU time per decode, median of ${ROUNDS} alternating rounds, ${new Date().toISOString()}`,
  );
  console.table(rows);
}
