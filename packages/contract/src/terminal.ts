// Human output on stderr: colours only where a person reads them, and how much to say.
import picocolors from 'picocolors';
import type { Colors } from 'picocolors/types.js';

export type { Colors };

/** How much a tool says on stderr: `-q` only warnings and errors, `-v` everything it knows. */
export type Verbosity = 'quiet' | 'normal' | 'verbose';

/**
 * Whether to colour text written to `stream`: `FORCE_COLOR` (set, not `0`) forces colours on,
 * `NO_COLOR` (set, not empty) turns them off, otherwise only a terminal that is not `TERM=dumb`.
 * @example colorEnabled(process.stderr, process.env) // true on a terminal
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force !== 'false') return true;
  if (force === '0' || force === 'false') return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

/**
 * picocolors' formatters, on or off for `stream` (see colorEnabled).
 * @example const c = colorsFor(process.stderr, process.env); c.red('failed')
 */
export function colorsFor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): Colors {
  return picocolors.createColors(colorEnabled(stream, env));
}

/**
 * A unified diff with `+` lines green, `-` lines red and `@@` hunk heads cyan (unchanged when colours are off).
 * @example colorDiff(result.diff, colorsFor(process.stderr, process.env))
 */
export function colorDiff(diff: string, colors: Colors): string {
  if (!colors.isColorSupported) return diff;
  return diff
    .split('\n')
    .map((line) => {
      if (line.startsWith('+++') || line.startsWith('---')) return colors.bold(line);
      if (line.startsWith('+')) return colors.green(line);
      if (line.startsWith('-')) return colors.red(line);
      if (line.startsWith('@@')) return colors.cyan(line);
      return line;
    })
    .join('\n');
}
