// Checks of option values every binary words the same way (`--timeout -1` is the same mistake,
// with the same line and exit code 64, in run-actions, browser-drive and expect-run).
import { UsageError } from './errors.js';
import { phaseNameProblem } from './names.js';

/**
 * A positive number of seconds from a `--flag S` value, in milliseconds (undefined when not given).
 * @example secondsFlag('timeout', '2.5') // 2500
 * @example secondsFlag('timeout', '-1') // throws UsageError('--timeout must be positive (seconds), got "-1"')
 */
export function secondsFlag(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const seconds = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text.trim()) ? Number(text) : NaN;
  if (Number.isNaN(seconds)) throw new UsageError(`--${flag} must be a number of seconds, got ${JSON.stringify(text)}`);
  if (!(seconds > 0)) throw new UsageError(`--${flag} must be positive (seconds), got ${JSON.stringify(text)}`);
  return Math.round(seconds * 1000);
}

/**
 * A positive whole number from a `--flag N` value (undefined when not given).
 * @example positiveIntegerFlag('concurrency', '4') // 4
 * @example positiveIntegerFlag('concurrency', '0') // throws UsageError('--concurrency must be positive (a whole number), got "0"')
 */
export function positiveIntegerFlag(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^[+-]?\d+$/.test(text.trim())) throw new UsageError(`--${flag} must be a whole number, got ${JSON.stringify(text)}`);
  const number = Number(text);
  if (!(number > 0)) throw new UsageError(`--${flag} must be positive (a whole number), got ${JSON.stringify(text)}`);
  return number;
}

/**
 * The `--phase` values (repeatable), each checked by phaseNameProblem; UsageError (64) otherwise.
 * @example parsePhaseFlags(['configure', 'deploy']) // ['configure', 'deploy']
 */
export function parsePhaseFlags(values: unknown): string[] {
  const phases = values === undefined ? [] : (Array.isArray(values) ? values : [values]).map(String);
  for (const phase of phases) {
    const problem = phaseNameProblem(phase);
    if (problem) throw new UsageError(`--phase ${JSON.stringify(phase)}: ${problem}`);
  }
  return phases;
}
