// promote-color's state on each LB node (/var/lib/forklift/promote/APP.json): the live and staged
// colors, the weights, the promotion under way or last run, and a bounded history with timestamps.
import { InputError, type ColorWeight, type PromotionStatus, type PromotionWindow } from '@forklift/contract/lite';

/** One event of the history: a stage shifted, held, passed, rolled back. */
export interface HistoryEntry {
  at: string;
  from: string;
  to: string;
  stage: number;
  status: PromotionStatus;
  weights: ColorWeight[];
  window: PromotionWindow;
  reason?: string;
}

/** The promotion under way, or the last one. */
export interface PromotionState {
  from: string;
  to: string;
  stages: number[];
  stage: number;
  status: PromotionStatus;
  window: PromotionWindow;
  reason?: string;
  startedAt: string;
  updatedAt: string;
}

/** The whole state file. */
export interface PromoteState {
  version: 1;
  app: string;
  /** The color that serves production: the `from` color until a promotion is done. */
  live: string;
  /** The color the staging frontend reaches (the one that is not live). */
  staged: string | null;
  /** Percent of the live traffic per color. */
  weights: ColorWeight[];
  promotion: PromotionState | null;
  history: HistoryEntry[];
  updatedAt: string;
}

/** History entries kept in the state file. */
export const HISTORY_LIMIT = 200;

function fail(where: string, message: string): never {
  throw new InputError(`${where} is not a valid promote-color state: ${message}`, { code: 'bad-state' });
}

/** Parse and check the state file's JSON (InputError, exit 65, naming the file when it is damaged). */
export function parseStoredState(text: string, where: string): PromoteState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    fail(where, (error as Error).message);
  }
  const state = value as Partial<PromoteState>;
  if (typeof state !== 'object' || state === null) fail(where, 'not an object');
  if (state.version !== 1) fail(where, `version must be 1 (got ${JSON.stringify(state.version)})`);
  if (typeof state.app !== 'string' || typeof state.live !== 'string') fail(where, 'app and live must be strings');
  if (!Array.isArray(state.weights) || state.weights.some((w) => typeof w?.color !== 'string' || typeof w?.weight !== 'number'))
    fail(where, 'weights must be [{color, weight}]');
  if (!Array.isArray(state.history)) fail(where, 'history must be an array');
  return { staged: null, promotion: null, ...state } as PromoteState;
}

/** A new state from what HAProxy shows (an LB that never ran promote-color). */
export function initialState(app: string, live: string, staged: string | null, weights: ColorWeight[], now: string): PromoteState {
  return { version: 1, app, live, staged, weights, promotion: null, history: [], updatedAt: now };
}

/** Append a history entry, keeping the last HISTORY_LIMIT. */
export function withHistory(state: PromoteState, entry: HistoryEntry): PromoteState {
  const history = [...state.history, entry].slice(-HISTORY_LIMIT);
  return { ...state, history, updatedAt: entry.at };
}

/** The state as written on the node. */
export function formatState(state: PromoteState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}
