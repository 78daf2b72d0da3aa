import { UsageError } from '@forklift/contract';
import type { BatchSize } from './batches.js';

/** run-actions' parsed command-line options. */
export interface RunFlags {
  phases: string[];
  plan: boolean;
  concurrency?: number;
  batch?: BatchSize;
  maxFailPercent?: number;
  timeoutMs?: number;
}

function positiveInteger(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^[1-9][0-9]*$/.test(text)) throw new UsageError(`--${flag} needs a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
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
  const out: RunFlags = { phases: (flags.phase as string[] | undefined) ?? [], plan: Boolean(flags.plan) };
  for (const phase of out.phases) if (!/^[A-Za-z0-9_-]+$/.test(phase)) throw new UsageError(`--phase needs a phase name (letters, digits, _ -), got ${JSON.stringify(phase)}`);
  out.concurrency = positiveInteger('concurrency', flags.concurrency);
  if (flags.batch !== undefined) {
    const text = String(flags.batch);
    if (text.endsWith('%')) {
      const share = percent('batch', text);
      if (share <= 0) throw new UsageError('--batch needs a share above 0%');
      out.batch = { percent: share };
    } else out.batch = { count: positiveInteger('batch', text)! };
  }
  if (flags['max-fail'] !== undefined) out.maxFailPercent = percent('max-fail', String(flags['max-fail']));
  if (flags.timeout !== undefined) {
    const text = String(flags.timeout);
    if (!/^[0-9]+(\.[0-9]+)?$/.test(text) || Number(text) <= 0) throw new UsageError(`--timeout needs seconds (a number above 0), got ${JSON.stringify(text)}`);
    out.timeoutMs = Math.round(Number(text) * 1000);
  }
  return out;
}
