import { parsePhaseFlags, positiveIntegerFlag, secondsFlag, UsageError } from '@forklift/contract/lite';
import type { BatchSize } from './batches.js';

/**
 * The phase timeout when `--timeout` is not given: 30 minutes per phase script per node. Without one, a single
 * hung node (a command waiting on a dead NFS mount, a package hook asking a question) held the phase barrier
 * for every node forever. Long installs stay well inside it; give `--timeout S` for more (or less).
 */
export const DEFAULT_TIMEOUT_SECONDS = 1800;

/** run-actions' parsed command-line options. */
export interface RunFlags {
  phases: string[];
  plan: boolean;
  concurrency?: number;
  batch?: BatchSize;
  maxFailPercent?: number;
  timeoutMs?: number;
}

function percent(flag: string, text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)%$/.exec(text);
  const value = match ? Number(match[1]) : NaN;
  if (!(value >= 0 && value <= 100)) throw new UsageError(`--${flag} needs a share like 25%, got ${JSON.stringify(text)}`);
  return value;
}

/**
 * Validate run-actions' flags (`--concurrency N`, `--batch N|N%`, `--max-fail N%`, `--timeout S`, `--phase P`..., `--plan`).
 * @example parseRunFlags({ batch: '25%', phase: ['configure'] })
 */
export function parseRunFlags(flags: Record<string, unknown>): RunFlags {
  const out: RunFlags = { phases: parsePhaseFlags(flags.phase), plan: Boolean(flags.plan) };
  out.concurrency = positiveIntegerFlag('concurrency', flags.concurrency);
  if (flags.batch !== undefined) {
    const text = String(flags.batch);
    if (text.endsWith('%')) {
      const share = percent('batch', text);
      if (share <= 0) throw new UsageError('--batch needs a share above 0%');
      out.batch = { percent: share };
    } else out.batch = { count: positiveIntegerFlag('batch', text)! };
  }
  if (flags['max-fail'] !== undefined) out.maxFailPercent = percent('max-fail', String(flags['max-fail']));
  out.timeoutMs = secondsFlag('timeout', flags.timeout) ?? DEFAULT_TIMEOUT_SECONDS * 1000;
  return out;
}
