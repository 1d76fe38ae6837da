/**
 * `pnpm demo:load`: a load run against the running demo. The same requests
 * (the catalog pages of every category, spread over both instances) are sent
 * for a fixed time with the cache on, then with it off (`x-cache-bypass: 1`:
 * sql-cache runs every query on PostgreSQL), from a fixed number of
 * concurrent keep-alive connections. Prints a table of throughput and p50 /
 * p99 latency of both runs, and the hit ratio the instances reported
 * (`x-cache` of every answer).
 *
 * Options (flags or environment): `--seconds N` / LOAD_SECONDS (per run,
 * default 10), `--connections N` / LOAD_CONNECTIONS (default 16).
 *
 * A plain HTTP loop rather than autocannon: the numbers here are a comparison
 * of two runs on one machine, which needs no more than keep-alive connections
 * and a latency list, and it keeps the demo free of another dependency.
 */
import { Agent } from 'node:http';
import { CATEGORIES } from './launcher/schema.js';
import { readState, stateFilePath } from './launcher/state-file.js';
import { call } from './tour/http.js';

function option(flag: string, variable: string, fallback: number): number {
  const at = process.argv.indexOf(flag);
  const raw = at >= 0 ? process.argv[at + 1] : process.env[variable];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`${flag} (or ${variable}) must be a positive number; got ${raw}`);
    process.exit(1);
  }
  return value;
}

/** What one run measured. */
interface RunResult {
  label: string;
  requests: number;
  errors: number;
  /** The first error, to say what went wrong. */
  firstError?: string;
  seconds: number;
  latencies: Float64Array;
  verdicts: Map<string, number>;
}

const state = readState(stateFilePath());
if (!state) {
  console.error(
    'No running demo found. Start it in another terminal with `pnpm demo`, then run `pnpm demo:load` again.',
  );
  process.exit(1);
}
const seconds = option('--seconds', 'LOAD_SECONDS', 10);
const connections = Math.round(option('--connections', 'LOAD_CONNECTIONS', 16));
const bases = state.instances.map((i) => i.url);
const paths = CATEGORIES.map((c) => `/products?category=${c}`);
const tty = process.stdout.isTTY;

async function run(
  label: string,
  headers: Record<string, string>,
  durationS: number,
  quiet = false,
): Promise<RunResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let errors = 0;
  let firstError: string | undefined;
  const verdicts = new Map<string, number>();
  const t0 = performance.now();
  const end = t0 + durationS * 1000;
  let next = 0;
  const progress = setInterval(() => {
    if (quiet) return;
    const elapsed = (performance.now() - t0) / 1000;
    const done = Math.min(1, elapsed / durationS);
    const bar = '#'.repeat(Math.round(done * 30)).padEnd(30, '.');
    const line = `  ${label.padEnd(10)} [${bar}] ${elapsed.toFixed(0).padStart(3)}/${durationS} s  ${count} requests  ${Math.round(count / Math.max(elapsed, 0.001))} req/s`;
    if (tty) process.stdout.write(`\r${line}`);
    else if (Math.round(elapsed) % 5 === 0) console.log(line);
  }, 1000);
  async function worker(): Promise<void> {
    while (performance.now() < end) {
      const i = next++;
      const url = `${bases[i % bases.length]}${paths[i % paths.length]}`;
      const started = performance.now();
      try {
        const answer = await call('GET', url, { agent, headers });
        if (answer.status !== 200) {
          errors++;
          firstError ??= `${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`;
        }
        const v = answer.headers['x-cache'] ?? 'none';
        verdicts.set(v, (verdicts.get(v) ?? 0) + 1);
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = performance.now() - started;
    }
  }
  await Promise.all(Array.from({ length: connections }, worker));
  clearInterval(progress);
  agent.destroy();
  if (!quiet && tty) process.stdout.write('\n');
  return {
    label,
    requests: count,
    errors,
    ...(firstError ? { firstError } : {}),
    seconds: (performance.now() - t0) / 1000,
    latencies: latencies.slice(0, count).sort(),
    verdicts,
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function table(results: RunResult[]): string {
  const rows = results.map((r) => {
    const hits = r.verdicts.get('hit') ?? 0;
    const misses = r.verdicts.get('miss') ?? 0;
    const ratio = hits + misses > 0 ? `${((100 * hits) / (hits + misses)).toFixed(1)} %` : 'n/a';
    return [
      r.label,
      String(r.requests),
      (r.requests / r.seconds).toFixed(0),
      `${percentile(r.latencies, 50).toFixed(2)} ms`,
      `${percentile(r.latencies, 99).toFixed(2)} ms`,
      String(r.errors),
      ratio,
    ];
  });
  const head = ['run', 'requests', 'req/s', 'p50', 'p99', 'errors', 'hit ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('   ')}`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

console.log(
  `stratashop load: ${connections} connections, ${seconds} s per run, GET /products?category=<each of ${paths.length}> on ${bases.length} instances`,
);
// Both instances' memory tiers and Redis warm, so the "cache on" run measures hits, not the first misses.
await Promise.all(bases.flatMap((b) => paths.map((p) => call('GET', `${b}${p}`))));
await run('warm-up', {}, 1, true);
const on = await run('cache on', {}, seconds);
const off = await run('cache off', { 'x-cache-bypass': '1' }, seconds);
console.log('');
console.log(table([on, off]));
for (const r of [on, off])
  if (r.firstError) console.log(`  ${r.label}: ${r.errors} error(s), the first: ${r.firstError}`);
const speedup = on.requests / on.seconds / (off.requests / off.seconds);
console.log('');
console.log(
  `  With the cache: ${speedup.toFixed(1)}x the throughput, p50 ${(percentile(off.latencies, 50) / percentile(on.latencies, 50)).toFixed(1)}x lower.`,
);
console.log(
  '  "cache off" sends x-cache-bypass: 1, so sql-cache runs every query (products JOIN reviews, GROUP BY) on',
);
console.log('  PostgreSQL; "cache on" answers from each instance\'s memory tier, or Redis after an invalidation.');
console.log(
  `  The hit ratio counts the x-cache header of every answer (${[...on.verdicts].map(([k, v]) => `${k} ${v}`).join(', ')}).`,
);
console.log(
  '  Load generator, instances, Redis and the database share this machine: compare the runs, not the absolutes.',
);
