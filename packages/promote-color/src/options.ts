// Parsing promote-color's flag values: stages, durations, rates, counts (UsageError, exit 64, on bad ones).
import { UsageError } from '@forklift/contract/lite';

/** The default stages: percent of the live traffic the target color takes at each stage. */
export const DEFAULT_STAGES: readonly number[] = [10, 50, 100];
/** The default hold of each stage (10 s). */
export const DEFAULT_HOLD_MS = 10_000;
/** The default error-rate gate (0.1 %). */
export const DEFAULT_MAX_ERROR_RATE = 0.001;
/** The default minimum requests a window must see (0: a quiet window passes on health alone). */
export const DEFAULT_MIN_REQUESTS = 0;

/**
 * `10,50,100` -> [10, 50, 100]: increasing whole percentages in 1..100, ending at 100.
 * @example parseStages('25,100') // [25, 100]
 */
export function parseStages(text: string): number[] {
  const parts = text.split(',').map((part) => part.trim().replace(/%$/, ''));
  const stages = parts.map((part) => (/^\d+$/.test(part) ? Number(part) : NaN));
  if (stages.some((stage) => !Number.isInteger(stage) || stage < 1 || stage > 100)) {
    throw new UsageError(`--stages must be percentages from 1 to 100 separated by commas, like 10,50,100 (got "${text}")`);
  }
  for (let i = 1; i < stages.length; i++) {
    if (stages[i]! <= stages[i - 1]!) throw new UsageError(`--stages must increase (got "${text}")`);
  }
  if (stages.at(-1) !== 100) throw new UsageError(`--stages must end at 100, where the new color takes all traffic (got "${text}")`);
  return stages;
}

/**
 * `10s`, `500ms`, `2m`, `1.5s` or plain seconds -> milliseconds.
 * @example parseDuration('10s', '--hold') // 10000
 */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag} must be a duration like 10s, 500ms or 2m (got "${text}")`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const ms = unit === 'ms' ? value : unit === 's' ? value * 1000 : value * 60_000;
  if (ms > 24 * 3600_000) throw new UsageError(`${flag} is longer than a day (got "${text}")`);
  return Math.round(ms);
}

/**
 * `0.1%` or a fraction `0.001` -> 0.001.
 * @example parseRate('0.5%') // 0.005
 */
export function parseRate(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(%)?$/.exec(text.trim());
  const rate = match ? (match[2] ? Number(match[1]) / 100 : Number(match[1])) : NaN;
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new UsageError(`${flag} must be a percentage like 0.1% or a fraction from 0 to 1 (got "${text}")`);
  return rate;
}

/** A whole number >= 0. */
export function parseCount(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${flag} must be a whole number (got "${text}")`);
  return Number(text.trim());
}

/** 12345 -> "12.3 s", 850 -> "850 ms". */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(ms >= 10_000 ? 0 : 1))} s` : `${Math.round(ms)} ms`;
}
