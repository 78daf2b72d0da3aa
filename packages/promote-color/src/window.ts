// A stage's window: what the target color's servers in the live backend saw between two `show stat`
// snapshots, summed over every LB node.
import type { PromotionWindow } from '@forklift/contract/lite';
import { colorServers, type StatTable } from './stats.js';

/** Requests and errors of one color's servers in the live backend, per LB node, at one moment. */
export interface Counters {
  requests: number;
  errors: number;
}

/** The counters of a color's servers in the live backend of one LB's stats. */
export function countersOf(table: StatTable, app: string, color: string): Counters {
  const { live } = colorServers(table, app, color);
  return live.reduce((sum, s) => ({ requests: sum.requests + s.sessions, errors: sum.errors + s.errors }), { requests: 0, errors: 0 });
}

/**
 * The window between two snapshots of the same LBs. A counter that went down means HAProxy's counters were
 * reset (a reload or restart, `clear counters`): the later value then counts from the reset.
 */
export function windowBetween(start: readonly Counters[], end: readonly Counters[]): PromotionWindow {
  let requests = 0;
  let errors = 0;
  end.forEach((now, index) => {
    const before = start[index] ?? { requests: 0, errors: 0 };
    requests += now.requests >= before.requests ? now.requests - before.requests : now.requests;
    errors += now.errors >= before.errors ? now.errors - before.errors : now.errors;
  });
  return { requests, errors, errorRate: requests > 0 ? Math.min(1, errors / requests) : 0 };
}

/** An empty window (nothing measured). */
export const EMPTY_WINDOW: PromotionWindow = { requests: 0, errors: 0, errorRate: 0 };

/** A rate as a percentage for messages: 0.001 -> "0.1%". */
export function percent(rate: number): string {
  const value = rate * 100;
  return `${Number(value.toPrecision(3))}%`;
}
