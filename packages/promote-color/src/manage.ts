// --status and --rollback: read the state on the LB nodes; return all traffic to the previous live color.
import { InputError, type NodeRecord } from '@forklift/contract/lite';
import { Fleet, shareOf, type Connect } from './fleet.js';
import { stageShares, type PromoteReport, type PromotionFields } from './promote.js';
import { colorServers, isUp } from './stats.js';
import { withHistory } from './state.js';
import { EMPTY_WINDOW, percent } from './window.js';

/** Options of promotionStatus and rollbackColor. */
export interface ManageOptions {
  app: string;
  nodes: readonly NodeRecord[];
  lbGroup?: string;
  /** rollbackColor: the color being rolled back or the one to return to (checked against the state). */
  to?: string;
  onRecord?: (record: PromotionFields) => void | Promise<void>;
  log?: (line: string) => void;
  connect?: Connect;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

/**
 * The app's promotion state as each LB keeps it (live color, weights HAProxy uses now, the last promotion
 * and recent history): one promotion record, human lines on the log. Not ok when the LBs disagree.
 * @example const { records } = await promotionStatus({ app: 'wine-cellar', nodes })
 */
export async function promotionStatus(options: ManageOptions): Promise<PromoteReport> {
  const log = options.log ?? (() => undefined);
  const report: PromoteReport = { ok: true, lbs: 0, records: [], stages: [] };
  const fleet = await Fleet.open(options);
  report.lbs = fleet.views.length;
  try {
    const shares = fleet.shares();
    const summaries = fleet.views.map((view, index) => {
      const { state } = view;
      const promotion = state.promotion;
      const fields: PromotionFields = promotion
        ? {
            app: options.app,
            from: promotion.from,
            to: promotion.to,
            weights: shares[index]!,
            stage: promotion.stage,
            status: promotion.status,
            window: promotion.window,
            ...(promotion.reason ? { reason: promotion.reason } : {}),
          }
        : {
            app: options.app,
            from: state.live,
            to: state.live,
            weights: shares[index]!,
            stage: 0,
            status: 'done',
            window: EMPTY_WINDOW,
            reason: 'no promotion has run on this LB yet',
          };
      return { view, fields };
    });
    for (const { view, fields } of summaries) {
      const { state } = view;
      log(
        `${view.session.id}: ${options.app}: live ${state.live}${state.staged ? `, staged ${state.staged}` : ''}; weights now ${fields.weights.map((w) => `${w.color} ${w.weight}%`).join(', ')}${view.stored ? '' : ' (no promote-color state on this LB yet)'}`,
      );
      if (state.promotion) {
        const p = state.promotion;
        log(
          `  last promotion ${p.from} -> ${p.to}: stage ${p.stage}/${p.stages.length} ${p.status} at ${p.updatedAt} (started ${p.startedAt}); window ${p.window.requests} requests, ${p.window.errors} errors (${percent(p.window.errorRate)})${p.reason ? `; ${p.reason}` : ''}`,
        );
      }
      const drift = state.weights.filter((w) => Math.abs(shareOf(fields.weights, w.color) - w.weight) > 0.5);
      if (view.stored && drift.length > 0)
        log(`  warning: HAProxy's weights differ from the state file (${state.weights.map((w) => `${w.color} ${w.weight}%`).join(', ')})`);
      for (const entry of state.history.slice(-5)) {
        log(
          `  ${entry.at} stage ${entry.stage} ${entry.status} ${entry.weights.map((w) => `${w.color} ${w.weight}%`).join(' ')}${entry.reason ? ` (${entry.reason})` : ''}`,
        );
      }
    }
    const key = (fields: PromotionFields): string => JSON.stringify([fields.from, fields.to, fields.stage, fields.status, fields.weights]);
    const first = summaries[0]!;
    const odd = summaries.find((summary) => key(summary.fields) !== key(first.fields));
    if (odd) {
      log(`promote-color: the LB nodes disagree: ${first.view.session.id} and ${odd.view.session.id} report different promotion states`);
      report.ok = false;
    }
    report.records.push(first.fields);
    await options.onRecord?.(first.fields);
    return report;
  } finally {
    await fleet.close();
  }
}

/**
 * Return all live traffic to the previous live color at once (the `from` of the last promotion), on every LB.
 * Refuses (not ok, nothing changed) when no server of that color is UP.
 * @example await rollbackColor({ app: 'wine-cellar', nodes })
 */
export async function rollbackColor(options: ManageOptions): Promise<PromoteReport> {
  const log = options.log ?? (() => undefined);
  const report: PromoteReport = { ok: false, lbs: 0, records: [], stages: [] };
  const fleet = await Fleet.open(options);
  report.lbs = fleet.views.length;
  try {
    if (options.to !== undefined) fleet.assertColor(options.to);
    await fleet.lock();
    const { state } = fleet.views[0]!;
    const promotion = state.promotion;
    if (!promotion) {
      throw new InputError(
        `${fleet.views[0]!.session.id}: no promotion of ${options.app} to roll back (no promote-color state): the previous live color is unknown`,
        { code: 'nothing-to-roll-back' },
      );
    }
    const back = promotion.from;
    if (options.to !== undefined && options.to !== back && options.to !== promotion.to) {
      throw new InputError(
        `--rollback returns ${options.app} to ${back} (the last promotion went ${promotion.from} -> ${promotion.to}); --to ${options.to} names neither`,
        { code: 'unknown-color' },
      );
    }
    const shares = fleet.shares();
    if (shares.every((lb) => shareOf(lb, back) >= 100) && state.live === back) {
      log(`promote-color: ${options.app}: all live traffic is already on ${back}: nothing to roll back`);
      report.ok = true;
      return report;
    }
    const problem = checkUp(fleet, back);
    if (problem) {
      log(`promote-color: ${options.app}: not rolling back to ${back}: ${problem}`);
      return report;
    }
    const started = performance.now();
    const reason = 'rolled back on request (--rollback)';
    const weights = stageShares(fleet.colors, back, promotion.to, 0);
    const fields: PromotionFields = {
      app: options.app,
      from: promotion.from,
      to: promotion.to,
      weights,
      stage: promotion.stage,
      status: 'rolled-back',
      window: EMPTY_WINDOW,
      reason,
    };
    const at = new Date().toISOString();
    await fleet.applyShares(weights, promotion.to, (current) =>
      withHistory(
        { ...current, live: back, staged: promotion.to, promotion: { ...promotion, status: 'rolled-back', window: EMPTY_WINDOW, reason, updatedAt: at } },
        { at, from: promotion.from, to: promotion.to, stage: promotion.stage, status: 'rolled-back', weights, window: EMPTY_WINDOW, reason },
      ),
    );
    report.rollbackMs = Math.round(performance.now() - started);
    log(`promote-color: ${options.app}: all live traffic on ${back} in ${report.rollbackMs} ms`);
    report.records.push(fields);
    await options.onRecord?.(fields);
    report.ok = true;
    return report;
  } finally {
    await fleet.close();
  }
}

/** Why no server of `color` can take traffic, or undefined when at least one per LB is UP. */
function checkUp(fleet: Fleet, color: string): string | undefined {
  for (const view of fleet.views) {
    const { checked } = colorServers(view.table, fleet.app, color);
    if (!checked.some(isUp)) {
      const seen = checked.map((s) => `${s.server} ${s.status}`).join(', ') || 'no server';
      return `no ${color} server is UP in HAProxy's checks on ${view.session.id} (${seen})`;
    }
  }
  return undefined;
}
