import { isChecker } from './checker.js';
import { checkThrown, checkValue, isAsyncFunction, isErrorClass, type ThrowOutcome } from './infer.js';
import type { Mismatch } from './mismatch.js';
import { checkEach, EACH, isFromEach } from './wrappers.js';

/** What checking one expectation gave: the differences, or an error raised while getting the actual value. */
export type Verdict =
  { kind: 'checked'; mismatches: Mismatch[]; actual: unknown } | { kind: 'error'; error: unknown; message: string } | { kind: 'timeout'; message: string };

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** Settle a promise within `timeoutMs`; undefined result means it timed out. */
function settleWithin<T>(promise: PromiseLike<T>, timeoutMs: number): Promise<{ ok: true; value: T } | { ok: false; error: unknown } | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    Promise.resolve(promise).then(
      (value) => {
        clearTimeout(timer);
        resolve({ ok: true, value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ ok: false, error });
      },
    );
  });
}

function checkSettled(expected: unknown, actual: unknown): Verdict {
  try {
    const mismatches = isFromEach(actual) ? checkEach(expected, actual) : checkValue(expected, actual);
    return { kind: 'checked', mismatches, actual: isFromEach(actual) ? actual[EACH] : actual };
  } catch (error) {
    return { kind: 'error', error, message: 'the check threw: ' };
  }
}

/**
 * Check `actual` against `expected`: synchronously when nothing is async, else a promise. A promise
 * actual is awaited, an `async` function actual is called and awaited, both within `timeoutMs`;
 * an Error class with a function checks what the function throws (or its promise rejects with).
 * @example evaluate(3306, 3307, 1000) // { kind: 'checked', mismatches: [{ path: '', detail: 'expected: 3306 was: 3307' }] }
 */
export function evaluate(expected: unknown, actual: unknown, timeoutMs: number): Verdict | Promise<Verdict> {
  if (typeof expected === 'function' && isErrorClass(expected) && typeof actual === 'function' && !isChecker(expected)) {
    let returned: unknown;
    try {
      returned = (actual as () => unknown)();
    } catch (error) {
      return { kind: 'checked', mismatches: checkThrown(expected, { threw: true, error }), actual };
    }
    if (!isThenable(returned)) return { kind: 'checked', mismatches: checkThrown(expected, { threw: false, value: returned }), actual };
    return settleWithin(returned, timeoutMs).then((settled): Verdict => {
      if (!settled) return { kind: 'timeout', message: `timed out after ${timeoutMs} ms waiting for the function to throw ${expected.name}` };
      const outcome: ThrowOutcome = settled.ok ? { threw: false, value: settled.value } : { threw: true, error: settled.error };
      return { kind: 'checked', mismatches: checkThrown(expected, outcome), actual };
    });
  }
  let pending: unknown = actual;
  if (isAsyncFunction(actual)) {
    try {
      pending = actual();
    } catch (error) {
      return { kind: 'error', error, message: 'the actual function threw: ' };
    }
  }
  if (!isThenable(pending)) return checkSettled(expected, pending);
  return settleWithin(pending, timeoutMs).then((settled): Verdict => {
    if (!settled) return { kind: 'timeout', message: `timed out after ${timeoutMs} ms waiting for the actual value` };
    if (!settled.ok) return { kind: 'error', error: settled.error, message: 'the actual value rejected: ' };
    return checkSettled(expected, settled.value);
  });
}
