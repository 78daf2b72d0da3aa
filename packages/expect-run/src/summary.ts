import { plural } from './show.js';
import type { TestResult } from './run-file.js';

/** Totals of one run over all its files. */
export interface RunSummary {
  files: number;
  tests: number;
  assertions: number;
  passed: number;
  failed: number;
  errors: number;
  durationMs: number;
}

/** Empty totals. */
export function emptySummary(): RunSummary {
  return { files: 0, tests: 0, assertions: 0, passed: 0, failed: 0, errors: 0, durationMs: 0 };
}

/** Count one result into the totals. */
export function countResult(summary: RunSummary, result: TestResult): void {
  summary.tests += 1;
  summary.assertions += result.assertions;
  if (result.status === 'passed') summary.passed += 1;
  else if (result.status === 'failed') summary.failed += 1;
  else summary.errors += 1;
}

/**
 * The closing line of a run on stderr.
 * @example summaryLine({ tests: 12, assertions: 40, durationMs: 850, failed: 1, errors: 0, ... }) // 'Ran 12 tests containing 40 assertions in 850 ms: 1 failure, 0 errors'
 */
export function summaryLine(summary: RunSummary): string {
  return `Ran ${plural(summary.tests, 'test')} containing ${plural(summary.assertions, 'assertion')} in ${Math.round(summary.durationMs)} ms: ${plural(summary.failed, 'failure')}, ${plural(summary.errors, 'error')}`;
}
