/**
 * Instructions per operation, counted by valgrind (callgrind), which the load
 * of a shared machine does not move: each variant runs twice, with N=0 and with
 * N operations, and the difference divided by N is its cost per operation.
 * Ratios are to the first variant. Used for micro-optimizations; wall-clock
 * ratios stay the benches' headline numbers.
 *
 *   node lib/instructions.mjs <script> <VAR=value of the first cell> <VAR=value ...> [-- ENV=value ...]
 *   node lib/instructions.mjs serializers/json-decode.mjs 'CELL=JSON.parse(buf.toString())' 'CELL=json().decode' -- SIZE=200B N=100000
 *
 * The script must read N (operations) and its cell variable from the environment.
 */
import { spawn } from 'node:child_process';

const [script, ...rest] = process.argv.slice(2);
const split = rest.indexOf('--');
const variants = split === -1 ? rest : rest.slice(0, split);
const common = Object.fromEntries(
  (split === -1 ? [] : rest.slice(split + 1)).map((kv) => kv.split(/=(.*)/s).slice(0, 2)),
);
const n = Number(common.N ?? 100_000);

function count(env) {
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('exit', (code) => {
      const m = err.match(/refs:\s+([\d,]+)/);
      if (code !== 0 || !m) reject(new Error(`valgrind failed (${code}): ${err.slice(-500)}`));
      else resolve(Number(m[1].replaceAll(',', '')));
    });
  });
}

const rows = [];
for (const variant of variants) {
  const [k, v] = variant.split(/=(.*)/s);
  const env = { ...common, [k]: v };
  const [zero, full] = await Promise.all([count({ ...env, N: '0' }), count({ ...env, N: String(n) })]);
  rows.push({ variant: v, 'instructions/op': Math.round((full - zero) / n) });
}
const base = rows[0]['instructions/op'];
console.log(
  `${script}, ${Object.entries(common)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}, callgrind instruction counts`,
);
console.table(rows.map((r) => ({ ...r, 'x first': (r['instructions/op'] / base).toFixed(3) })));
