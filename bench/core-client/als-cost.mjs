/**
 * What one `AsyncLocalStorage.run()` costs a Node process afterwards: the
 * first one entered installs promise hooks, and every later promise of the
 * process (the library's and the application's) pays for them. This is why no
 * stratacache verb enters one (time budgets travel explicitly; see
 * packages/core-client/src/budget.ts) and why `redis.withBudget()` says so.
 *
 * Two fresh child processes run the same loop of awaited promises; the second
 * enters one AsyncLocalStorage first. Prints ops/s of each and the ratio
 * (median of ROUNDS, default 5).
 *   node core-client/als-cost.mjs
 */
import { execFileSync } from 'node:child_process';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const N = 2_000_000;

const child = (enter) => `
  const { AsyncLocalStorage } = require('node:async_hooks');
  if (${enter}) new AsyncLocalStorage().run(1, () => {});
  (async () => {
    for (let i = 0; i < 200000; i++) await Promise.resolve(i); // warm up
    const t = performance.now();
    for (let i = 0; i < ${N}; i++) await Promise.resolve(i);
    process.stdout.write(String(${N} / ((performance.now() - t) / 1000)));
  })();
`;

const run = (enter) => Number(execFileSync(process.execPath, ['-e', child(enter)], { encoding: 'utf8' }));
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const without = [];
const withAls = [];
for (let r = 0; r < ROUNDS; r++) {
  without.push(run(false));
  withAls.push(run(true));
}
const a = median(without);
const b = median(withAls);
console.log(`Node ${process.version}, ${ROUNDS} rounds, ${N} awaited promises per process`);
console.log(`no AsyncLocalStorage entered:   ${(a / 1e6).toFixed(2)}M promises/s`);
console.log(`after one AsyncLocalStorage.run: ${(b / 1e6).toFixed(2)}M promises/s (${(b / a).toFixed(2)}x)`);
