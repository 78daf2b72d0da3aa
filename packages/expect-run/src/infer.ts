import { CHECK, isChecker } from './checker.js';
import { diffValues } from './equal.js';
import type { Mismatch } from './mismatch.js';
import { describeFunction, show, showString } from './show.js';

const PRIMITIVE_CONSTRUCTORS = new Map<Function, string>([
  [String, 'string'],
  [Number, 'number'],
  [Boolean, 'boolean'],
  [BigInt, 'bigint'],
  [Symbol, 'symbol'],
]);

/**
 * Whether a function is a class or constructor (class syntax, a built-in like Date, an ES5 function
 * with prototype methods) rather than a predicate.
 * @example isConstructor(Date) // true; isConstructor((x) => x > 1) // false
 */
export function isConstructor(fn: Function): boolean {
  if (PRIMITIVE_CONSTRUCTORS.has(fn)) return true;
  const prototype = (fn as { prototype?: unknown }).prototype;
  if (typeof prototype !== 'object' || prototype === null) return false;
  const source = Function.prototype.toString.call(fn);
  if (source.startsWith('class')) return true;
  if (source.includes('[native code]')) return /^[A-Z]/.test(fn.name);
  return Object.getOwnPropertyNames(prototype).length > 1;
}

/** Whether a function is Error or a subclass of it. @example isErrorClass(TypeError) // true */
export function isErrorClass(fn: unknown): fn is new (...args: never[]) => Error {
  if (typeof fn !== 'function') return false;
  return fn === Error || (fn as { prototype?: unknown }).prototype instanceof Error;
}

/** Whether a function was declared `async` (an async thunk is called and awaited as the actual value). */
export function isAsyncFunction(fn: unknown): fn is () => Promise<unknown> {
  return typeof fn === 'function' && fn.constructor?.name === 'AsyncFunction';
}

function checkInstance(expected: Function, actual: unknown, path: string): Mismatch[] {
  const primitive = PRIMITIVE_CONSTRUCTORS.get(expected);
  if (primitive !== undefined) {
    if (typeof actual === primitive || actual instanceof expected) return [];
  } else if (actual instanceof expected) return [];
  return [{ path, detail: `expected an instance of ${expected.name || describeFunction(expected)}, was: ${show(actual)}` }];
}

function checkPredicate(predicate: Function, actual: unknown, path: string): Mismatch[] {
  const result = predicate(actual) as unknown;
  if (result) return [];
  return [{ path, detail: `predicate ${describeFunction(predicate)} returned ${show(result)} for ${show(actual)}` }];
}

function checkRegExp(expected: RegExp, actual: unknown, path: string): Mismatch[] {
  if (typeof actual !== 'string') return [{ path, detail: `${String(expected)} cannot match ${show(actual)}, not a string` }];
  expected.lastIndex = 0;
  if (expected.test(actual)) return [];
  return [{ path, detail: `${String(expected)} not found in ${showString(actual, 60)}` }];
}

/** The outcome of calling a function that should throw: what it threw, or that it returned. */
export type ThrowOutcome = { threw: true; error: unknown } | { threw: false; value: unknown };

/** Judge what a function threw against the expected Error class. */
export function checkThrown(expected: Function, outcome: ThrowOutcome, path = ''): Mismatch[] {
  const name = expected.name || 'Error';
  if (!outcome.threw) return [{ path, detail: `did not throw ${name}` }];
  if (outcome.error instanceof expected) return [];
  const error = outcome.error;
  const what = error instanceof Error ? `${error.name}: ${error.message}` : show(error);
  return [{ path, detail: `threw ${what}, not ${name}` }];
}

/**
 * The differences between what `expected` asks and a settled `actual` value; the kind of check is
 * inferred from `expected` (check object, RegExp, Error class + function, class, predicate, value).
 * Error class + function is handled by the caller (it may be async) unless the function is sync.
 * @example checkValue(/ok/, 'down') // [{ path: '', detail: '/ok/ not found in "down"' }]
 */
export function checkValue(expected: unknown, actual: unknown, path = ''): Mismatch[] {
  if (isChecker(expected)) return expected[CHECK](actual, path);
  if (expected instanceof RegExp) return checkRegExp(expected, actual, path);
  if (typeof expected === 'function') {
    if (isErrorClass(expected) && typeof actual === 'function') {
      let outcome: ThrowOutcome;
      try {
        outcome = { threw: false, value: (actual as () => unknown)() };
      } catch (error) {
        outcome = { threw: true, error };
      }
      return checkThrown(expected, outcome, path);
    }
    if (isConstructor(expected)) return checkInstance(expected, actual, path);
    return checkPredicate(expected, actual, path);
  }
  return diffValues(expected, actual, path);
}
