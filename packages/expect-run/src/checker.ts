import type { Mismatch } from './mismatch.js';

/** The symbol marking a check object (shared across copies of this package). */
export const CHECK = Symbol.for('forklift.expect-run.check');

/** A check made by a wrapper (`inObj`, `more` ...): given the actual value, the differences found. */
export interface Checker {
  readonly [CHECK]: (actual: unknown, path: string) => Mismatch[];
  /** How the check prints in messages and records. */
  readonly description: string;
}

/** Whether a value is a check made by a wrapper. */
export function isChecker(value: unknown): value is Checker {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Checker>)[CHECK] === 'function';
}

/** Make a check object from a function returning differences. @example makeChecker('inArray(3)', (actual, path) => []) */
export function makeChecker(description: string, check: (actual: unknown, path: string) => Mismatch[]): Checker {
  const checker = { [CHECK]: check, description };
  Object.defineProperty(checker, 'toJSON', { value: () => description });
  return checker;
}
