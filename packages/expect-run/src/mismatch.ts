/** One focused difference: where (a key path like `.db.port`, empty at the top) and what. */
export interface Mismatch {
  path: string;
  detail: string;
  /** For multi-line strings: a unified line diff of every differing hunk (the record's `diff` shows it). */
  lines?: string;
}

/** How many differences a one-line message shows before `and N more`. */
export const MAX_IN_MESSAGE = 3;

/** One difference as text: `.db.port expected: 3306 was: 3307`. */
export function formatMismatch(mismatch: Mismatch): string {
  return mismatch.path ? `${mismatch.path} ${mismatch.detail}` : mismatch.detail;
}

/**
 * The one-line failure message of a list of differences, the first few joined by `; `.
 * @example formatMessage([{ path: '.port', detail: 'expected: 80 was: 81' }]) // '.port expected: 80 was: 81'
 */
export function formatMessage(mismatches: readonly Mismatch[]): string {
  const shown = mismatches.slice(0, MAX_IN_MESSAGE).map(formatMismatch);
  const more = mismatches.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; and ${more} more difference${more === 1 ? '' : 's'}` : '');
}

/** Every difference, one a line (a multi-line string's as its line diff), for the `diff` field of a test record. */
export function formatDiff(mismatches: readonly Mismatch[]): string {
  return mismatches.map((mismatch) => (mismatch.lines ? `${formatMismatch(mismatch)}\n${mismatch.lines}` : formatMismatch(mismatch))).join('\n');
}

/** Path of a key below `path`: `.port`, `["a b"]`. */
export function keyPath(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
