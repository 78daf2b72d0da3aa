import { structuredPatch } from 'diff/lib/patch/create.js';
import { keyPath, type Mismatch } from './mismatch.js';
import { show, showString } from './show.js';

type Category =
  'null' | 'undefined' | 'number' | 'string' | 'boolean' | 'bigint' | 'symbol' | 'function' | 'array' | 'set' | 'map' | 'date' | 'regexp' | 'error' | 'object';

function categoryOf(value: unknown): Category {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Set) return 'set';
  if (value instanceof Map) return 'map';
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regexp';
  if (value instanceof Error) return 'error';
  return typeof value as Category;
}

function typeName(value: unknown): string {
  const category = categoryOf(value);
  if (category !== 'object') return category;
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  return proto?.constructor?.name || 'object';
}

/** `expected: 3306 was: 3307`, with the types when both look the same. */
export function valueMismatch(path: string, expected: unknown, actual: unknown): Mismatch {
  const left = show(expected);
  const right = show(actual);
  if (left === right) return { path, detail: `expected: ${left} (${typeName(expected)}) was: ${right} (${typeName(actual)})` };
  return { path, detail: `expected: ${left} was: ${right}` };
}

/** Lines of context around each changed part of a multi-line string diff. */
export const DIFF_CONTEXT_LINES = 2;

/**
 * Two different multi-line strings: the message names the first differing line, `lines` holds a
 * unified line diff (jsdiff) of every differing hunk, `-` expected and `+` actual.
 * @example linesMismatch('', 'a\nb\nc\n', 'a\nB\nc\n').detail // 'strings differ at line 2 (1 hunk): expected "b" was "B"'
 */
export function linesMismatch(path: string, expected: string, actual: string): Mismatch {
  const patch = structuredPatch('expected', 'actual', expected, actual, undefined, undefined, { context: DIFF_CONTEXT_LINES });
  const hunks = patch.hunks;
  const first = hunks[0]!;
  const offset = first.lines.findIndex((line) => line.startsWith('-') || line.startsWith('+'));
  const context = first.lines.slice(0, Math.max(0, offset)).filter((line) => line.startsWith(' ')).length;
  const removed = first.lines.slice(offset).filter((line) => line.startsWith('-'));
  const added = first.lines.slice(offset).filter((line) => line.startsWith('+'));
  const lineNumber = first.oldStart + context;
  const side = (lines: string[]): string => (lines.length ? showString(lines[0]!.slice(1)) : 'nothing');
  const count = `${hunks.length} hunk${hunks.length === 1 ? '' : 's'}`;
  const lines = [
    `--- expected`,
    `+++ actual`,
    ...hunks.flatMap((hunk) => [`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`, ...hunk.lines]),
  ].join('\n');
  return { path, detail: `strings differ at line ${lineNumber} (${count}): expected ${side(removed)} was ${side(added)}`, lines };
}

/** Where two different strings diverge: the common prefix and the two tails (multi-line strings: a line diff). */
export function stringMismatch(path: string, expected: string, actual: string): Mismatch {
  // more than one line (a single line with its newline is still one line): a line diff
  if (/\n(?!$)/.test(expected) || /\n(?!$)/.test(actual)) return linesMismatch(path, expected, actual);
  let index = 0;
  while (index < expected.length && index < actual.length && expected[index] === actual[index]) index += 1;
  const tails = `expected ${showString(expected.slice(index))} was ${showString(actual.slice(index))}`;
  if (index === 0) return { path, detail: `strings differ from the start: ${tails}` };
  return { path, detail: `strings differ after ${showString(expected.slice(0, index), 20, true)}: ${tails}` };
}

/** Deep structural equality (prototypes ignored, NaN equals NaN, Dates by time, RegExps by text). */
export function deepEqual(expected: unknown, actual: unknown): boolean {
  return diffValues(expected, actual, '', true).length === 0;
}

function takeMatching(pool: unknown[], item: unknown): boolean {
  const index = pool.findIndex((candidate) => deepEqual(item, candidate));
  if (index === -1) return false;
  pool.splice(index, 1);
  return true;
}

function itemsMismatch(path: string, expected: unknown[], actual: unknown[], ordered: boolean): Mismatch[] {
  const pool = [...actual];
  const onlyExpected = expected.filter((item) => !takeMatching(pool, item));
  const onlyActual = pool;
  if (onlyExpected.length === 0 && onlyActual.length === 0) {
    return ordered ? [{ path, detail: 'same items, different order' }] : [];
  }
  const parts: string[] = [];
  if (onlyExpected.length) parts.push(`only in expected: ${show(onlyExpected)}`);
  if (onlyActual.length) parts.push(`only in actual: ${show(onlyActual)}`);
  return [{ path, detail: parts.join(', ') }];
}

function arraysEqualInOrder(expected: unknown[], actual: unknown[]): boolean {
  if (expected.length !== actual.length) return false;
  return expected.every((item, index) => deepEqual(item, actual[index]));
}

/**
 * The focused differences between an expected and an actual value: key paths for objects, items
 * only on one side for arrays and sets, common prefix for strings. Empty when equal.
 * @example diffValues({ db: { port: 3306 } }, { db: { port: 3307 } }) // [{ path: '.db.port', detail: 'expected: 3306 was: 3307' }]
 */
export function diffValues(expected: unknown, actual: unknown, path = '', firstOnly = false): Mismatch[] {
  if (Object.is(expected, actual)) return [];
  const category = categoryOf(expected);
  if (category !== categoryOf(actual)) return [valueMismatch(path, expected, actual)];
  switch (category) {
    case 'string':
      return [stringMismatch(path, expected as string, actual as string)];
    case 'date':
      return (expected as Date).getTime() === (actual as Date).getTime() ||
        (Number.isNaN((expected as Date).getTime()) && Number.isNaN((actual as Date).getTime()))
        ? []
        : [valueMismatch(path, expected, actual)];
    case 'regexp':
      return String(expected) === String(actual) ? [] : [valueMismatch(path, expected, actual)];
    case 'error': {
      const left = expected as Error;
      const right = actual as Error;
      return left.name === right.name && left.message === right.message ? [] : [valueMismatch(path, expected, actual)];
    }
    case 'array':
      if (arraysEqualInOrder(expected as unknown[], actual as unknown[])) return [];
      return itemsMismatch(path, expected as unknown[], actual as unknown[], true);
    case 'set':
      return itemsMismatch(path, [...(expected as Set<unknown>)], [...(actual as Set<unknown>)], false);
    case 'map':
      return diffEntries(
        path,
        new Map(expected as Map<unknown, unknown>),
        new Map(actual as Map<unknown, unknown>),
        (key) => `${path}[${show(key)}]`,
        firstOnly,
      );
    case 'object': {
      const left = expected as Record<string, unknown>;
      const right = actual as Record<string, unknown>;
      const toMap = (object: Record<string, unknown>): Map<unknown, unknown> =>
        new Map(
          Object.keys(object)
            .filter((key) => object[key] !== undefined)
            .map((key) => [key, object[key]]),
        );
      return diffEntries(path, toMap(left), toMap(right), (key) => keyPath(path, String(key)), firstOnly);
    }
    default:
      // numbers (NaN handled by Object.is), booleans, bigints, symbols, functions
      return [valueMismatch(path, expected, actual)];
  }
}

function diffEntries(
  path: string,
  expected: Map<unknown, unknown>,
  actual: Map<unknown, unknown>,
  pathOf: (key: unknown) => string,
  firstOnly: boolean,
): Mismatch[] {
  const out: Mismatch[] = [];
  for (const [key, value] of expected) {
    if (!actual.has(key)) out.push({ path: pathOf(key), detail: `only in expected: ${show(value)}` });
    else out.push(...diffValues(value, actual.get(key), pathOf(key), firstOnly));
    if (firstOnly && out.length) return out;
  }
  for (const [key, value] of actual) {
    if (!expected.has(key)) out.push({ path: pathOf(key), detail: `only in actual: ${show(value)}` });
    if (firstOnly && out.length) return out;
  }
  void path;
  return out;
}
