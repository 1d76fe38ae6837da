#!/usr/bin/env node
/**
 * Prints the one summary line CI reads, counted from vitest's JSON reports:
 *   tests: N passed, N failed, N skipped
 * Usage: test-summary.mjs <report.json> <exit code> [<report.json> <exit code> ...]
 * (one pair per vitest run: the whole suite, then the suite again on ioredis 5).
 * A missing or unreadable report prints zeros and exits 1, so a run that ran
 * nothing is visible rather than green. Files that failed without a failed
 * test (an import error, a failing beforeAll/afterAll) count as one failure
 * each, and an unsuccessful run is never reported with 0 failed.
 */
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
for (let i = 0; i < Math.max(args.length, 1); i += 2) {
  const file = args[i];
  // The runner's exit code: vitest reports success: true in its JSON even when an
  // unhandled error failed the run, so a non-zero exit with no failed test counts as one.
  const runnerExit = Number(args[i + 1] ?? 0);
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    console.error(`no test report at ${file}: ${error.message}`);
    console.log('tests: 0 passed, 0 failed, 0 skipped');
    process.exit(1);
  }
  passed += report.numPassedTests ?? 0;
  let runFailed = report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  const brokenFiles = (report.testResults ?? []).filter(
    (r) => r.status === 'failed' && !(r.assertionResults ?? []).some((a) => a.status === 'failed'),
  );
  if (brokenFiles.length > 0) {
    console.error(`${file}: ${brokenFiles.length} test file(s) failed outside any test:`);
    for (const r of brokenFiles) console.error(`  ${r.name}: ${(r.message ?? '').split('\n')[0]}`);
    runFailed += brokenFiles.length;
  }
  if ((report.success === false || runnerExit !== 0) && runFailed === 0) {
    console.error(
      `${file}: the test run failed (exit ${runnerExit}) without a failed test: an unhandled error, see above`,
    );
    runFailed = 1;
  }
  failed += runFailed;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
