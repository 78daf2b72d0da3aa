// promoteColor: shift an app's live traffic from its live color to another in stages behind health
// gates, rolling back automatically when a gate fails.
import { InputError, type ColorWeight, type NodeRecord, type PromotionStatus, type PromotionWindow } from '@forklift/contract/lite';
import { Fleet, requireLbNodes, shareOf, type Connect } from './fleet.js';
import { DEFAULT_HOLD_MS, DEFAULT_MAX_ERROR_RATE, DEFAULT_MIN_REQUESTS, DEFAULT_STAGES, formatMs } from './options.js';
import { withHistory, type PromoteState } from './state.js';
import { colorServers, isOut, isUp, type StatTable } from './stats.js';
import { countersOf, EMPTY_WINDOW, percent, windowBetween, type Counters } from './window.js';

/** The fields of a promotion record (docs/records.md). */
export interface PromotionFields {
  app: string;
  from: string;
  to: string;
  /** Percent of the live traffic per color after this record's event. */
  weights: ColorWeight[];
  /** 1-based stage of --stages; 0 before the first stage. */
  stage: number;
  status: PromotionStatus;
  /** The target color's requests and errors in the stage's window, over every LB. */
  window: PromotionWindow;
  reason?: string;
}

/** Options of promoteColor. */
export interface PromoteColorOptions {
  /** The app: HAProxy's live backend `APP`, color backends `APP_<color>`. */
  app: string;
  /** The color that takes the traffic. */
  to: string;
  /** Node records: the LB node(s), and optionally the nodes of both colors. */
  nodes: readonly NodeRecord[];
  /** Group of the LB nodes (default `lb`). */
  lbGroup?: string;
  /** Percent of the traffic `to` takes at each stage (default 10, 50, 100). */
  stages?: readonly number[];
  /** How long each stage holds before its gate decides (default 10 s). */
  holdMs?: number;
  /** The highest error rate (0-1) of `to` a window may show (default 0.001). */
  maxErrorRate?: number;
  /** The fewest requests `to` must see in a window (default 0). */
  minRequests?: number;
  /** Print the stages and gates, change nothing. */
  dryRun?: boolean;
  /** The health path asked before the first stage (default /healthz). */
  healthPath?: string;
  /** How often the gate looks at HAProxy's stats during a hold (default 500 ms). */
  pollMs?: number;
  /** Aborting (SIGINT/SIGTERM) ends the run in a consistent state (see the README). */
  signal?: AbortSignal;
  /** Each promotion record as it is made. */
  onRecord?: (record: PromotionFields) => void | Promise<void>;
  /** Human progress lines. */
  log?: (line: string) => void;
  /** Transport factory (default: SSH with the node record's pinned host key). */
  connect?: Connect;
  env?: Record<string, string | undefined>;
}

/** Timing of one stage, for benchmarks. */
export interface StageTiming {
  stage: number;
  percent: number;
  /** Setting the weights on every LB (runtime API + persisted state), ms. */
  applyMs: number;
  /** From weights set to the gate's decision, ms (the hold plus the last look at the stats). */
  heldMs: number;
  /** From the start of the stage to its record (apply, hold, gate, state saved), ms. */
  totalMs: number;
  window: PromotionWindow;
}

/** What a promotion did. */
export interface PromoteReport {
  ok: boolean;
  /** How many LB nodes the run reached. */
  lbs: number;
  /** `SIGINT`/`SIGTERM` when the run was interrupted (weights held at the last applied stage). */
  interrupted?: string;
  records: PromotionFields[];
  stages: StageTiming[];
  /** From the failed gate to every LB's weights all on the live color, ms (automatic rollback only). */
  rollbackMs?: number;
}

const iso = (): string => new Date().toISOString();

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Shares for `to` at `percent`, the rest on `from`, other colors 0. */
export function stageShares(colors: readonly string[], from: string, to: string, percentTo: number): ColorWeight[] {
  return colors.map((color) => ({ color, weight: color === to ? percentTo : color === from ? 100 - percentTo : 0 }));
}

/** Why the `to` color is not fit for traffic on these LBs, or undefined when every server is UP. */
export function checkProblem(fleet: Fleet, tables: readonly StatTable[], color: string, strict: boolean): string | undefined {
  for (const [index, table] of tables.entries()) {
    const lb = fleet.views[index]!.session.id;
    const { checked } = colorServers(table, fleet.app, color);
    if (checked.length === 0) return `${lb}: HAProxy has no ${color} server in backend ${fleet.app}_${color}`;
    for (const server of checked) {
      const bad = strict ? !isUp(server) : isOut(server);
      if (bad)
        return `${color} server ${server.server} is ${server.status} in HAProxy's checks on ${lb}${server.checkStatus ? ` (${server.checkStatus}${server.checkCode ? ` ${server.checkCode}` : ''})` : ''}`;
    }
  }
  return undefined;
}

/** The window's verdict: undefined when it passes. `final` also applies --min-requests. */
export function windowProblem(window: PromotionWindow, color: string, maxErrorRate: number, minRequests: number, final: boolean): string | undefined {
  if (window.requests >= minRequests && window.errorRate > maxErrorRate) {
    return `${color} error rate ${percent(window.errorRate)} (${window.errors} of ${window.requests} requests) is above --max-error-rate ${percent(maxErrorRate)}`;
  }
  if (final && window.requests < minRequests) return `${color} saw ${window.requests} requests in the window, fewer than --min-requests ${minRequests}`;
  return undefined;
}

/**
 * Shift the live traffic of `app` to color `to` in stages with health gates; roll back automatically
 * when a gate fails. Writes one promotion record per stage (through onRecord).
 * @example const report = await promoteColor({ app: 'wine-cellar', to: 'green', nodes, holdMs: 5000 })
 */
export async function promoteColor(options: PromoteColorOptions): Promise<PromoteReport> {
  const log = options.log ?? (() => undefined);
  const stages = [...(options.stages ?? DEFAULT_STAGES)];
  const holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
  const maxErrorRate = options.maxErrorRate ?? DEFAULT_MAX_ERROR_RATE;
  const minRequests = options.minRequests ?? DEFAULT_MIN_REQUESTS;
  const pollMs = options.pollMs ?? 500;
  const healthPath = options.healthPath ?? '/healthz';
  const { app, to, signal } = options;
  const report: PromoteReport = { ok: false, lbs: 0, records: [], stages: [] };
  const emit = async (record: PromotionFields): Promise<void> => {
    report.records.push(record);
    await options.onRecord?.(record);
  };

  // the input is checked before connecting to anything: LB nodes, and the colors on stdin when there are any
  requireLbNodes(options.nodes, options.lbGroup);
  const stdinColors = [...new Set(options.nodes.filter((node) => node.state === 'running' && node.color).map((node) => node.color!))].sort();
  if (stdinColors.length > 0 && !stdinColors.includes(to)) {
    throw new InputError(`unknown color "${to}": the node records on stdin have colors ${stdinColors.join(', ')}`, { code: 'unknown-color' });
  }
  const fleet = await Fleet.open({ app, nodes: options.nodes, lbGroup: options.lbGroup, connect: options.connect, env: options.env, signal });
  report.lbs = fleet.views.length;
  try {
    fleet.assertColor(to);
    const lbNames = fleet.views.map((view) => view.session.id).join(', ');
    if (!options.dryRun) await fleet.lock();

    const stored = fleet.views[0]!.state;
    const current = fleet.shares();
    const toShare = Math.min(...current.map((shares) => shareOf(shares, to)));
    const resuming = stored.promotion !== null && stored.promotion.to === to && (stored.promotion.status === 'shifted' || stored.promotion.status === 'held');
    const others = fleet.colors.filter((color) => color !== to);
    const from = resuming
      ? stored.promotion!.from
      : ([...current[0]!].filter((w) => w.color !== to).sort((a, b) => b.weight - a.weight || (a.color === stored.live ? -1 : 1))[0]?.color ?? others[0]);
    if (from === undefined) throw new InputError(`${app} has no color other than ${to} on ${lbNames}: nothing to shift from`, { code: 'unknown-color' });
    const currentWeights = current[0]!;

    if (toShare >= 100 && !resuming) {
      log(`promote-color: ${app}: ${to} already takes all live traffic on ${lbNames}: nothing to do`);
      await emit({
        app,
        from: stored.live === to ? from : stored.live,
        to,
        weights: currentWeights,
        stage: 0,
        status: 'done',
        window: EMPTY_WINDOW,
        reason: `${to} already takes all live traffic`,
      });
      report.ok = true;
      return report;
    }
    const remaining = stages.map((p, i) => ({ percent: p, stage: i + 1 })).filter(({ percent: p }) => p > toShare || (resuming && p === toShare));

    const describe = (p: number): string => `${to} ${p}% / ${from} ${100 - p}%`;
    if (options.dryRun) {
      log(
        `promote-color: dry run: ${app} on ${lbNames}: now ${currentWeights.map((w) => `${w.color} ${w.weight}%`).join(', ')}${resuming ? ` (resuming the promotion to ${to})` : ''}`,
      );
    }

    // gate before the first stage: every server of `to` UP in HAProxy's checks and its health path 200
    let problem = checkProblem(
      fleet,
      fleet.views.map((view) => view.table),
      to,
      true,
    );
    if (!problem) {
      const checked = await Promise.all(
        fleet.views.map(async (view) => {
          const targets = [
            ...new Set(
              colorServers(view.table, app, to)
                .checked.map((s) => s.address)
                .filter(Boolean),
            ),
          ];
          return { lb: view.session.id, statuses: await view.session.health(targets, healthPath) };
        }),
      );
      for (const { lb, statuses } of checked) {
        for (const [target, status] of statuses) {
          if (status !== 200) {
            problem = `${to} server ${target} answered ${healthPath} with ${status === 0 ? 'no HTTP response' : status} (asked from ${lb})`;
            break;
          }
        }
        if (problem) break;
      }
    }
    if (options.dryRun) {
      log(
        `  gate before the first stage: every ${to} server UP in HAProxy's checks and ${healthPath} 200: ${problem ? `FAILS now: ${problem}` : 'passes now'}`,
      );
      for (const { percent: p, stage } of remaining) {
        log(
          `  stage ${stage}/${stages.length}: ${describe(p)}, hold ${formatMs(holdMs)}, gate: ${to} error rate <= ${percent(maxErrorRate)} with >= ${minRequests} requests, every ${to} server UP`,
        );
      }
      log(`  on a failed gate: all traffic back on ${from} at once, exit 1`);
      log('promote-color: dry run: nothing changed');
      report.ok = !problem;
      return report;
    }
    if (problem) {
      log(`promote-color: ${app}: not shifting to ${to}: ${problem}`);
      await emit({ app, from, to, weights: currentWeights, stage: 0, status: 'held', window: EMPTY_WINDOW, reason: `gate before the first stage: ${problem}` });
      return report;
    }
    if (signal?.aborted) {
      report.interrupted = String(signal.reason);
      log(`promote-color: interrupted (${report.interrupted}) before any change`);
      return report;
    }

    const startedAt = resuming ? stored.promotion!.startedAt : iso();
    const promotionAt = (state: PromoteState, stage: number, status: PromotionStatus, window: PromotionWindow, reason?: string): PromoteState => ({
      ...state,
      live: status === 'done' ? to : from,
      staged: status === 'done' ? from : to,
      promotion: { from, to, stages, stage, status, window, ...(reason ? { reason } : {}), startedAt, updatedAt: iso() },
    });
    const record = (stage: number, status: PromotionStatus, window: PromotionWindow, reason?: string): PromotionFields => ({
      app,
      from,
      to,
      weights: fleet.views[0]!.state.weights.map((w) => ({ ...w })),
      stage,
      status,
      window,
      ...(reason ? { reason } : {}),
    });
    const historyOf = (fields: PromotionFields): Parameters<typeof withHistory>[1] => ({
      at: iso(),
      from: fields.from,
      to: fields.to,
      stage: fields.stage,
      status: fields.status,
      weights: fields.weights,
      window: fields.window,
      ...(fields.reason ? { reason: fields.reason } : {}),
    });

    // a passed stage's state (status, window, history) is written with the next change, not on its own
    const queued: { update?: (state: PromoteState) => PromoteState } = {};
    // the state files of the last change, written while the stage holds: awaited before the next change
    let persisted: Promise<void> = Promise.resolve();
    const withPending =
      (update: (state: PromoteState) => PromoteState) =>
      (state: PromoteState): PromoteState =>
        update(queued.update ? queued.update(state) : state);

    const rollback = async (stage: number, window: PromotionWindow, reason: string, failedAt: number): Promise<void> => {
      const shares = stageShares(fleet.colors, from, to, 0);
      const fields = { ...record(stage, 'rolled-back', window, reason), weights: shares };
      await persisted.catch(() => undefined);
      const shifted = await fleet.shiftShares(
        shares,
        to,
        withPending((state) => withHistory(promotionAt(state, stage, 'rolled-back', window, reason), historyOf(fields))),
      );
      queued.update = undefined;
      // every LB's runtime weights are on `from` now; the files follow
      report.rollbackMs = Math.round(performance.now() - failedAt);
      await shifted.persisted;
      log(`promote-color: ${app}: stage ${stage} failed: ${reason}`);
      log(`promote-color: ${app}: rolled back: all live traffic on ${from} in ${report.rollbackMs} ms after the failed gate`);
      await emit(fields);
    };

    for (const { percent: p, stage } of remaining) {
      const shares = stageShares(fleet.colors, from, to, p);
      const applyStart = performance.now();
      try {
        await persisted;
        ({ persisted } = await fleet.shiftShares(
          shares,
          to,
          withPending((state) =>
            withHistory(promotionAt(state, stage, 'shifted', EMPTY_WINDOW), {
              at: iso(),
              from,
              to,
              stage,
              status: 'shifted',
              weights: shares,
              window: EMPTY_WINDOW,
            }),
          ),
        ));
        queued.update = undefined;
      } catch (error) {
        // an LB refused: put every LB back on `from` before reporting
        const reason = `setting the weights of stage ${stage} failed: ${(error as Error).message}`;
        await rollback(stage, EMPTY_WINDOW, reason, performance.now()).catch(() => undefined);
        throw error;
      }
      const applied = performance.now();
      const applyMs = Math.round(applied - applyStart);
      log(`promote-color: ${app}: stage ${stage}/${stages.length}: ${describe(p)} on ${lbNames} (${applyMs} ms); holding ${formatMs(holdMs)}`);
      const startCounters: Counters[] = fleet.views.map((view) => countersOf(view.table, app, to));
      let window: PromotionWindow = EMPTY_WINDOW;
      let failure: string | undefined;
      const deadline = applied + holdMs;
      // the last look starts one look's duration before the deadline, so the gate decides when the hold ends
      let lookMs = 0;
      while (!signal?.aborted) {
        const left = deadline - lookMs - performance.now();
        if (left > 0) await sleep(Math.min(pollMs, left), signal);
        if (signal?.aborted) break;
        const lookStart = performance.now();
        const final = lookStart + lookMs >= deadline;
        let tables: StatTable[];
        try {
          tables = await fleet.poll();
          lookMs = performance.now() - lookStart;
        } catch (error) {
          // an LB whose HAProxy restarts answers again in a moment: only the last look must succeed
          log(`promote-color: ${app}: reading HAProxy's stats failed: ${(error as Error).message}`);
          if (final) failure = `could not read HAProxy's stats at the end of stage ${stage}: ${(error as Error).message}`;
          if (final) break;
          continue;
        }
        window = windowBetween(
          startCounters,
          tables.map((table) => countersOf(table, app, to)),
        );
        failure = checkProblem(fleet, tables, to, false) ?? windowProblem(window, to, maxErrorRate, minRequests, final);
        if (failure || final) break;
      }
      const decided = performance.now();
      try {
        await persisted;
      } catch (error) {
        failure ??= `saving the state of stage ${stage} on the LB failed: ${(error as Error).message}`;
        persisted = Promise.resolve();
      }
      if (signal?.aborted && !failure) {
        report.interrupted = String(signal.reason);
        const reason = `interrupted (${report.interrupted}) during stage ${stage}: weights held at ${describe(p)} on every LB; run promote-color again to go on, or --rollback`;
        const fields = record(stage, 'held', window, reason);
        await fleet.saveState(withPending((state) => withHistory(promotionAt(state, stage, 'held', window, reason), historyOf(fields))));
        queued.update = undefined;
        log(`promote-color: ${app}: ${reason}`);
        await emit(fields);
        return report;
      }
      const timing: StageTiming = { stage, percent: p, applyMs, heldMs: Math.round(decided - applied), totalMs: 0, window };
      report.stages.push(timing);
      if (failure) {
        await rollback(stage, window, failure, decided);
        return report;
      }
      const status: PromotionStatus = p === 100 ? 'done' : 'shifted';
      const fields = record(stage, status, window);
      if (status === 'done') {
        // the promoted color is live; the staging frontend now reaches the old one
        await fleet.applyShares(
          shares,
          from,
          withPending((state) => withHistory(promotionAt(state, stage, 'done', window), historyOf(fields))),
        );
        queued.update = undefined;
      } else {
        const passed = queued.update as ((state: PromoteState) => PromoteState) | undefined;
        const entry = historyOf(fields);
        queued.update = (state) => withHistory(promotionAt(passed ? passed(state) : state, stage, status, window), entry);
      }
      timing.totalMs = Math.round(performance.now() - applyStart);
      log(
        `promote-color: ${app}: stage ${stage}/${stages.length} ${status}: ${to} saw ${window.requests} requests, ${window.errors} errors (${percent(window.errorRate)})`,
      );
      await emit(fields);
    }
    report.ok = true;
    return report;
  } finally {
    await fleet.close();
  }
}
