import { formatDiff, formatMessage, type Mismatch } from './mismatch.js';
import { show, toJsonSafe } from './show.js';
import { locationIn, trimStack } from './stack.js';
import type { FailureInfo } from './state.js';

/** A failed expectation: thrown inside named tests, recorded for top-level expectations. */
export class ExpectationError extends Error {
  /** The record fields of this failure. */
  readonly failure: FailureInfo;
  /** `errored` when getting the actual value failed (it rejected or threw), else `failed`. */
  readonly status: 'failed' | 'errored';
  constructor(failure: FailureInfo, status: 'failed' | 'errored' = 'failed') {
    super(failure.message);
    this.name = 'ExpectationError';
    this.failure = failure;
    this.status = status;
    if (failure.stack) this.stack = failure.stack;
  }
}

/** The failure of an expectation whose check found differences, located at the call site. */
export function mismatchFailure(
  mismatches: Mismatch[],
  expected: unknown,
  actual: unknown,
  siteStack: string | undefined,
  file: string | undefined,
  cwd: string,
): FailureInfo {
  const message = formatMessage(mismatches);
  return {
    message,
    expected: toJsonSafe(expected),
    actual: toJsonSafe(actual),
    diff: formatDiff(mismatches),
    location: locationIn(siteStack, file, cwd),
    stack: trimStack(message, siteStack, cwd),
  };
}

/** One line naming an error: `TypeError: x is not a function`. */
export function errorLine(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.replace(/\s*\n\s*/g, ' ');
  return `thrown: ${show(error)}`;
}

/** The failure of an error thrown by test code, located at its first frame in the test file. */
export function errorFailure(error: unknown, file: string | undefined, cwd: string, prefix = ''): FailureInfo {
  if (error instanceof ExpectationError) return error.failure;
  const message = prefix + errorLine(error);
  const stack = error instanceof Error ? error.stack : undefined;
  return { message, location: locationIn(stack, file, cwd), stack: trimStack(message, stack, cwd) };
}

/** A failure with only a message, located at the call site (timeouts, rejected actual values). */
export function siteFailure(message: string, siteStack: string | undefined, file: string | undefined, cwd: string): FailureInfo {
  return { message, location: locationIn(siteStack, file, cwd), stack: trimStack(message, siteStack, cwd) };
}
