#!/usr/bin/env node
/**
 * Prints the one summary line CI reads, counted from vitest's JSON report:
 *   tests: N passed, N failed, N skipped
 * A missing or unreadable report prints zeros and exits 1, so a run that ran
 * nothing is visible rather than green.
 */
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.error(`no test report at ${file}: ${error.message}`);
  console.log('tests: 0 passed, 0 failed, 0 skipped');
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failed = report.numFailedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
// Files that failed to load count no tests but are failures all the same.
const brokenSuites = (report.testResults ?? []).filter(
  (r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0,
).length;
if (brokenSuites > 0) console.error(`${brokenSuites} test file(s) failed before running any test`);
console.log(`tests: ${passed} passed, ${failed + brokenSuites} failed, ${skipped} skipped`);
process.exit(failed + brokenSuites > 0 || passed === 0 ? 1 : 0);
