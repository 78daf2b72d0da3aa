// The LB nodes of one run together: select them from the node records, connect, preflight, lock, and
// set weights on every one of them (runtime API first, then the state files) in parallel.
import { hostname } from 'node:os';
import { InputError, type ColorWeight, type NodeRecord } from '@forklift/contract/lite';
import { lbTransport, type LbTransport } from './ssh.js';
import {
  fragmentPath,
  SERVER_STATE_FILE,
  isColorName,
  liveBackend,
  renderFragment,
  renderStagingMap,
  serverWeight,
  stagingMapPath,
  statePath,
  STAGING_MAP_KEY,
} from './layout.js';
import { LbSession, noSuchApp, type HeldLock } from './lb.js';
import { formatState, initialState, type PromoteState } from './state.js';
import { appLayout, colorServers, type AppLayout, type StatTable } from './stats.js';

/** Opens a transport to a node (default: lbTransport: ssh2, pinned host key, TCP_NODELAY, stream-local channels). */
export type Connect = (node: NodeRecord, signal?: AbortSignal) => Promise<LbTransport>;

/** What selects and reaches the LB nodes. */
export interface FleetOptions {
  app: string;
  nodes: readonly NodeRecord[];
  /** Group of the LB nodes (default `lb`; without --lb, nodes with role `lb` when no node is in group `lb`). */
  lbGroup?: string;
  connect?: Connect;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

/** One LB with what it told us. */
export interface LbView {
  session: LbSession;
  layout: AppLayout;
  table: StatTable;
  state: PromoteState;
  /** Whether the state came from the node (false: made up from HAProxy's weights). */
  stored: boolean;
}

/** The LB nodes among the records: group `lbGroup` (default lb), else (no --lb) those with role lb. */
export function selectLbNodes(nodes: readonly NodeRecord[], lbGroup: string | undefined): NodeRecord[] {
  const running = nodes.filter((node) => node.state === 'running');
  const group = lbGroup ?? 'lb';
  const inGroup = running.filter((node) => node.group === group);
  if (inGroup.length > 0 || lbGroup !== undefined) return inGroup;
  return running.filter((node) => node.roles?.includes('lb'));
}

/** The LB nodes, or InputError (65) when there is none. */
export function requireLbNodes(nodes: readonly NodeRecord[], lbGroup: string | undefined): NodeRecord[] {
  const lbNodes = selectLbNodes(nodes, lbGroup);
  if (lbNodes.length === 0) {
    const where = lbGroup !== undefined ? `of group "${lbGroup}"` : 'of group "lb" and none with role lb';
    throw new InputError(`no LB node on stdin: no running node ${where} (pipe the load balancer's node records in, or name its group with --lb GROUP)`, {
      code: 'no-lb',
    });
  }
  return lbNodes;
}

/** Percent of the live backend's weight per color on one LB (one decimal). */
export function sharesOf(layout: AppLayout, table: StatTable): ColorWeight[] {
  const sums = new Map<string, number>();
  let total = 0;
  for (const color of layout.colors.keys()) {
    const sum = colorServers(table, layout.app, color).live.reduce((acc, s) => acc + s.weight, 0);
    sums.set(color, sum);
    total += sum;
  }
  return [...sums].map(([color, sum]) => ({ color, weight: total > 0 ? Math.round((sum * 1000) / total) / 10 : 0 }));
}

/** The share of one color in a weights list (0 when absent). */
export function shareOf(weights: readonly ColorWeight[], color: string): number {
  return weights.find((w) => w.color === color)?.weight ?? 0;
}

/** The LB nodes of a run. */
export class Fleet {
  readonly app: string;
  readonly views: LbView[];
  private locks: HeldLock[] = [];

  private constructor(app: string, views: LbView[]) {
    this.app = app;
    this.views = views;
  }

  /** Select the LB nodes, connect to all, preflight all; errors close what was opened. */
  static async open(options: FleetOptions): Promise<Fleet> {
    const lbNodes = requireLbNodes(options.nodes, options.lbGroup);
    const connect: Connect = options.connect ?? ((node, signal) => lbTransport(node, { env: options.env, signal }));
    const sessions: LbSession[] = [];
    try {
      const opened = await Promise.allSettled(lbNodes.map(async (node) => new LbSession(node, await connect(node, options.signal))));
      for (const result of opened) if (result.status === 'fulfilled') sessions.push(result.value);
      const failed = opened.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
      const views = await Promise.all(
        sessions.map(async (session): Promise<LbView> => {
          const { state, table } = await session.preflight(options.app);
          const layout = appLayout(options.app, table);
          if (!layout) throw noSuchApp(session, options.app, table.backends);
          const shares = sharesOf(layout, table);
          const live = [...shares].sort((a, b) => b.weight - a.weight)[0]?.color ?? [...layout.colors.keys()][0] ?? 'blue';
          const stored = state !== undefined;
          const base = state ?? initialState(options.app, live, null, shares, new Date().toISOString());
          return { session, layout, table, state: base, stored };
        }),
      );
      const colors = (view: LbView): string => [...view.layout.colors.keys()].join(',');
      const first = views[0]!;
      const odd = views.find((view) => colors(view) !== colors(first));
      if (odd) {
        throw new InputError(
          `the LB nodes disagree on the colors of ${options.app}: ${first.session.id} has ${colors(first) || 'none'}, ${odd.session.id} has ${colors(odd) || 'none'} (converge them all with the same haproxy crate options)`,
          {
            code: 'lb-mismatch',
          },
        );
      }
      return new Fleet(options.app, views);
    } catch (error) {
      await Promise.all(sessions.map((session) => session.close().catch(() => undefined)));
      throw error;
    }
  }

  /** The colors the LBs serve the app in. */
  get colors(): string[] {
    return [...this.views[0]!.layout.colors.keys()];
  }

  /** Throw InputError (65) unless `color` is one the LBs serve. */
  assertColor(color: string): void {
    if (!isColorName(color) || !this.colors.includes(color)) {
      throw new InputError(`unknown color "${color}": ${this.views[0]!.session.id} serves ${this.app} in ${this.colors.join(', ') || 'no color'}`, {
        code: 'unknown-color',
      });
    }
  }

  /** Take the app's lock on every LB; when one refuses, release the others and rethrow. */
  async lock(): Promise<void> {
    const owner = `promote-color pid ${process.pid} on ${hostname()} since ${new Date().toISOString()}`;
    const results = await Promise.allSettled(this.views.map((view) => view.session.lock(this.app, owner)));
    this.locks = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const refused = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (refused) {
      await this.unlock();
      throw refused.reason;
    }
  }

  async unlock(): Promise<void> {
    const locks = this.locks;
    this.locks = [];
    await Promise.all(locks.map((lock) => lock.release().catch(() => undefined)));
  }

  async close(): Promise<void> {
    await this.unlock();
    await Promise.all(this.views.map((view) => view.session.close().catch(() => undefined)));
  }

  /** Current shares per LB. */
  shares(): ColorWeight[][] {
    return this.views.map((view) => sharesOf(view.layout, view.table));
  }

  /**
   * Give each color its share (percent) of the live traffic on every LB at once through the runtime API
   * (traffic moves now) and return; the weights fragment, staging map, state file and server state are
   * then written on every LB (each atomically): `persisted` settles when they are. `update` makes each
   * LB's new state from its current one. Await `persisted` before the next change.
   */
  async shiftShares(
    shares: readonly ColorWeight[],
    staged: string | null,
    update: (state: PromoteState) => PromoteState,
  ): Promise<{ persisted: Promise<void> }> {
    const app = this.app;
    const writes = await Promise.all(
      this.views.map(async (view) => {
        const commands: string[] = [];
        const perServer: Record<string, number> = {};
        for (const [color, servers] of view.layout.colors) {
          const weight = serverWeight(shares.find((s) => s.color === color)?.weight ?? 0, servers.length);
          perServer[color] = weight;
          for (const server of servers) commands.push(`set weight ${liveBackend(app)}/${server} ${weight}`);
        }
        if (staged !== null) commands.push(`set map ${stagingMapPath(app)} ${STAGING_MAP_KEY} ${app}_${staged}`);
        const next = update({ ...view.state, weights: shares.map((s) => ({ ...s })), staged: staged ?? view.state.staged });
        const files: Record<string, string> = { [fragmentPath(app)]: renderFragment(app, perServer) };
        if (next.staged) files[stagingMapPath(app)] = renderStagingMap(app, next.staged);
        files[statePath(app)] = formatState(next);
        const { table, serverState } = await view.session.setRuntime(commands.join('; '));
        view.table = table;
        view.state = next;
        view.stored = true;
        return () => view.session.persist({ ...files, [SERVER_STATE_FILE]: serverState });
      }),
    );
    const persisted = Promise.all(writes.map((write) => write())).then(() => undefined);
    persisted.catch(() => undefined); // awaited by the caller; never an unhandled rejection meanwhile
    return { persisted };
  }

  /** shiftShares and wait until every LB has written its state. */
  async applyShares(shares: readonly ColorWeight[], staged: string | null, update: (state: PromoteState) => PromoteState): Promise<void> {
    await (
      await this.shiftShares(shares, staged, update)
    ).persisted;
  }

  /** Write the state files only (no runtime change), e.g. a held or finished promotion. */
  async saveState(update: (state: PromoteState) => PromoteState): Promise<void> {
    await Promise.all(
      this.views.map(async (view) => {
        const next = update(view.state);
        view.table = await view.session.apply('', { [statePath(this.app)]: formatState(next) });
        view.state = next;
      }),
    );
  }

  /** `show stat` of every LB (also kept as each view's table). */
  async poll(): Promise<StatTable[]> {
    return Promise.all(
      this.views.map(async (view) => {
        view.table = await view.session.stats();
        return view.table;
      }),
    );
  }
}
