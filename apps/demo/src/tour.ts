/**
 * `pnpm demo:tour`: a scripted walk through the running demo (`pnpm demo` in
 * another terminal). Each step says what it does and why, shows what the
 * instances answered, and checks what it expected; the exit status is 1 if any
 * expectation failed.
 */
import { readState, stateFilePath } from './launcher/state-file.js';
import { createContext } from './tour/context.js';
import { runTour } from './tour/run.js';

const state = readState(stateFilePath());
if (!state) {
  console.error(
    'No running demo found. Start it in another terminal with `pnpm demo`, then run `pnpm demo:tour` again.',
  );
  process.exit(1);
}

const t = createContext(state, (line) => console.log(line));
console.log(`stratashop tour: instance a ${t.a}, instance b ${t.b}`);
console.log(
  `Requests come from ${t.clientAddress} (a loopback address of this run), so limits of earlier runs do not apply.`,
);
try {
  await runTour(t);
} catch (error) {
  console.error(`\nThe tour stopped: ${(error as Error).message}. Is the demo still running?`);
  process.exit(1);
}
const failed = t.checks.filter((c) => !c.ok);
console.log('');
console.log(
  failed.length === 0
    ? `All ${t.checks.length} expectations held.`
    : `${failed.length} of ${t.checks.length} expectations failed:\n${failed.map((c) => `  ${c.step}: ${c.what}`).join('\n')}`,
);
process.exit(failed.length === 0 ? 0 : 1);
