// Field paths of validation issues (zod's `issue.path`), as the one-line error messages name them.

/** A field path as messages write it: keys joined by dots, indexes in brackets. @example formatFieldPath(['steps', 2, 'with']) // 'steps[2].with' */
export function formatFieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out;
}

/** The value at a field path inside a parsed value, or undefined where the path leaves it. @example valueAtPath({ a: [1] }, ['a', 0]) // 1 */
export function valueAtPath(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current = value;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}
