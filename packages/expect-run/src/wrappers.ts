import { makeChecker, type Checker } from './checker.js';
import { deepEqual } from './equal.js';
import { checkValue } from './infer.js';
import { keyPath, type Mismatch } from './mismatch.js';
import { describeFunction, show, showString } from './show.js';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Set) && !(value instanceof Map);
}

/**
 * Subset of an object: every key of `subset` is in the actual object with an equal value.
 * @example expect(inObj({ port: 80 }), { port: 80, host: 'web-1' })
 */
export function inObj(subset: Record<string, unknown>): Checker {
  return makeChecker(`inObj(${show(subset)})`, (actual, path) => {
    if (!isPlainObject(actual)) return [{ path, detail: `expected an object containing ${show(subset)}, was: ${show(actual)}` }];
    const out: Mismatch[] = [];
    for (const [key, value] of Object.entries(subset)) {
      const at = keyPath(path, key);
      if (!(key in actual) || actual[key] === undefined) out.push({ path: at, detail: `only in expected: ${show(value)}` });
      else out.push(...checkValue(value, actual[key], at));
    }
    return out;
  });
}

/**
 * Membership in an array: an item equal to `item` is in the actual array.
 * @example expect(inArray('nginx'), ['nginx', 'mariadb'])
 */
export function inArray(item: unknown): Checker {
  return makeChecker(`inArray(${show(item)})`, (actual, path) => {
    if (!Array.isArray(actual)) return [{ path, detail: `expected an array containing ${show(item)}, was: ${show(actual)}` }];
    return actual.some((candidate) => deepEqual(item, candidate)) ? [] : [{ path, detail: `${show(item)} not found in ${show(actual)}` }];
  });
}

/**
 * Membership in a Set (or array), or, given a Set, subset: every item of it is in the actual collection.
 * @example expect(inSet(new Set([80, 443])), new Set([22, 80, 443]))
 */
export function inSet(itemOrSet: unknown): Checker {
  return makeChecker(`inSet(${show(itemOrSet)})`, (actual, path) => {
    if (!(actual instanceof Set) && !Array.isArray(actual)) return [{ path, detail: `expected a Set containing ${show(itemOrSet)}, was: ${show(actual)}` }];
    const pool = [...actual];
    const has = (item: unknown): boolean => pool.some((candidate) => deepEqual(item, candidate));
    if (itemOrSet instanceof Set) {
      const missing = [...itemOrSet].filter((item) => !has(item));
      return missing.length === 0 ? [] : [{ path, detail: `${show(missing)} not found in ${show(actual)}` }];
    }
    return has(itemOrSet) ? [] : [{ path, detail: `${show(itemOrSet)} not found in ${show(actual)}` }];
  });
}

/**
 * One wrapper for all membership checks, chosen by the actual value: substring of a string, item of
 * an array, item (or subset) of a Set, subset of an object.
 * @example expect(inside({ port: 80 }), config); expect(inside('ok'), body)
 */
export function inside(part: unknown): Checker {
  return makeChecker(`inside(${show(part)})`, (actual, path) => {
    if (typeof actual === 'string') {
      if (typeof part !== 'string') return [{ path, detail: `${show(part)} cannot be inside a string` }];
      return actual.includes(part) ? [] : [{ path, detail: `${showString(part)} not found in ${showString(actual, 60)}` }];
    }
    if (Array.isArray(actual)) return checkValue(inArray(part), actual, path);
    if (actual instanceof Set) return checkValue(inSet(part), actual, path);
    if (actual instanceof Map) {
      if (!isPlainObject(part)) return [{ path, detail: `${show(part)} cannot be inside a Map` }];
      return checkValue(inObj(part), Object.fromEntries(actual), path);
    }
    if (isPlainObject(actual) && isPlainObject(part)) return checkValue(inObj(part), actual, path);
    return [{ path, detail: `${show(part)} cannot be inside ${show(actual)}` }];
  });
}

/**
 * All of several checks at once (expectations' `more`): every failing one is reported.
 * @example expect(more(Number, (port) => port > 1024), 8080)
 */
export function more(...checks: unknown[]): Checker {
  return makeChecker(`more(${checks.map((check) => show(check, 30)).join(', ')})`, (actual, path) =>
    checks.flatMap((check) => checkValue(check, actual, path)),
  );
}

/** What `moreOf` reads from the actual value: a key path (`'db.port'`) or a function. */
// `any`: the function is the expectation author's, typed as they like (`unknown` would refuse `(row: Row) => row.id`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Accessor = string | ((actual: any) => unknown);

function access(accessor: Accessor, actual: unknown): unknown {
  if (typeof accessor === 'function') return accessor(actual);
  let value: unknown = actual;
  for (const key of accessor.split('.')) value = value === null || value === undefined ? undefined : (value as Record<string, unknown>)[key];
  return value;
}

function accessorPath(path: string, accessor: Accessor): string {
  if (typeof accessor === 'function') return `${path}[${describeFunction(accessor)}]`;
  return accessor.split('.').reduce((at, key) => keyPath(at, key), path);
}

/**
 * Checks on parts of the actual value (expectations' `more->`): pairs of [expected, accessor].
 * @example expect(moreOf([200, 'status'], [/ok/, (r) => r.body]), await http(web, 80, '/health'))
 */
export function moreOf(...pairs: Array<[expected: unknown, accessor: Accessor]>): Checker {
  const text = pairs
    .map(([expected, accessor]) => `[${show(expected, 30)}, ${typeof accessor === 'function' ? describeFunction(accessor) : JSON.stringify(accessor)}]`)
    .join(', ');
  return makeChecker(`moreOf(${text})`, (actual, path) =>
    pairs.flatMap(([expected, accessor]) => {
      const at = accessorPath(path, accessor);
      let part: unknown;
      try {
        part = access(accessor, actual);
      } catch (error) {
        return [{ path: at, detail: `threw ${error instanceof Error ? `${error.name}: ${error.message}` : show(error)}` }];
      }
      return checkValue(expected, part, at);
    }),
  );
}

/** The symbol marking a `fromEach` actual value. */
export const EACH = Symbol.for('forklift.expect-run.each');

/** An actual value made of many: each item is checked against the expected (expectations' `from-each`). */
export interface FromEach {
  readonly [EACH]: unknown[];
}

/** Whether an actual value was made by `fromEach`. */
export function isFromEach(value: unknown): value is FromEach {
  return typeof value === 'object' && value !== null && Array.isArray((value as Partial<FromEach>)[EACH]);
}

/**
 * Check every item of a collection (optionally mapped first) against one expected.
 * @example expect(/running/, fromEach(nodes('web'), (node) => node.state))
 */
export function fromEach<T>(items: Iterable<T>, map?: (item: T, index: number) => unknown): FromEach {
  const list = [...items].map((item, index) => (map ? map(item, index) : item));
  return { [EACH]: list };
}

/** The differences of every item of a `fromEach` value, each under its index path `[i]`. */
export function checkEach(expected: unknown, each: FromEach, path = ''): Mismatch[] {
  return each[EACH].flatMap((item, index) => checkValue(expected, item, `${path}[${index}]`));
}
