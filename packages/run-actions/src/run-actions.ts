import { setMaxListeners } from 'node:events';
import type { NodeRecord, PlanRecord } from '@forklift/contract/lite';
import PQueue from 'p-queue';
import type { BatchSize } from './batches.js';
import { connectNodes, noConnections } from './connect-nodes.js';
import { effectiveConcurrency } from './limits.js';
import { localTransport } from './local-transport.js';
import { checkPlans, phaseOrder, plansByNode } from './plan-checks.js';
import { runBatches } from './run-batches.js';
import { RunLog, type RunProgress, type RunRecord, type RunReport } from './run-log.js';
import { sshTransport } from './ssh-transport.js';
import type { SshConnectOptions } from './ssh-connect.js';
import type { TransportFactory } from './transport.js';

export type { NodeTally, RunProgress, RunRecord, RunReport } from './run-log.js';
export type { TransportFactory } from './transport.js';
export { assertPlanMode } from './plan-checks.js';

/** Options of runActions. */
export interface RunActionsOptions {
  /** The nodes to run on (destroyed ones are ignored). */
  nodes: readonly NodeRecord[];
  /** Saved plan records (render-crate's output): applied exactly as rendered. */
  plans?: readonly PlanRecord[];
  /** Render plans once the nodes' OS facts are known (run-actions SPEC); used when `plans` is absent. */
  render?(nodes: NodeRecord[]): Promise<readonly PlanRecord[]> | readonly PlanRecord[];
  /** Only these phases (in plan order). */
  phases?: readonly string[];
  /** Opens a node's transport; tests pass a real sshd or a recording fake. */
  transport?: TransportFactory;
  /** Options of the default SSH transport. */
  ssh?: SshConnectOptions;
  /** Most nodes at once (further capped by the open-file limit). */
  concurrency?: number;
  /** Rolling batches: the next batch starts when the previous one finished all its phases. */
  batch?: BatchSize;
  /** Stop starting new batches once more than this share (0-100) of the nodes failed. */
  maxFailPercent?: number;
  /** End one phase's script on one node after this many ms. */
  timeoutMs?: number;
  /** The nodes' cache of non-sensitive uploads (default /var/lib/forklift/blobs; tests point it elsewhere). */
  blobDir?: string;
  /** Abort (reason 'SIGINT'/'SIGTERM') to start nothing new and end the running scripts. */
  signal?: AbortSignal;
  /** Called for every node whose record learned something (OS facts), before any record is written. */
  onNode?(node: NodeRecord): void;
  /** Called for each record in order; awaited before the next. */
  onRecord(record: RunRecord): void | Promise<void>;
  onProgress?(progress: RunProgress): void;
}

/** The default transport: a local shell for `localhost`, else one ssh2 connection. */
export function defaultTransport(ssh: SshConnectOptions = {}): TransportFactory {
  return (node, signal) => (node.address === 'localhost' ? Promise.resolve(localTransport()) : sshTransport(node, { ...ssh, signal }));
}

/**
 * Apply plans to nodes: connect to every node once (OS facts gathered on the way), then run the
 * phases in order with a barrier, all nodes in parallel (or in rolling batches); records go to
 * `onRecord` as they happen. A failure on a node is data, never an exception.
 * @example const report = await runActions({ nodes, plans, onRecord: (r) => console.log(r) })
 */
export async function runActions(options: RunActionsOptions): Promise<RunReport> {
  const signal = options.signal ?? new AbortController().signal;
  const running = options.nodes.filter((node) => node.state === 'running');
  if (options.plans) checkPlans(options.plans, new Set(running.map((node) => node.id)));
  const planned = options.plans ? running.filter((node) => options.plans!.some((plan) => plan.node === node.id)) : running;
  const concurrency = effectiveConcurrency(options.concurrency, planned.length);
  // every running node listens on the run's signal (connect backoff, its phase script)
  setMaxListeners(Math.max(10, 3 * planned.length + 10), signal);
  const log = new RunLog(planned, options.onRecord);
  const queue = new PQueue({ concurrency });
  const connections = noConnections();
  try {
    // 1. one connection per node, facts gathered on it before anything is written; when every node starts its
    // first phase at once (no --batch, concurrency for all), on the channel that will run that phase
    let connectedCount = 0;
    await connectNodes(planned, connections, {
      open: options.transport ?? defaultTransport(options.ssh),
      signal,
      queue,
      merged: !options.batch && concurrency >= planned.length,
      timeoutMs: options.timeoutMs,
      onNode: options.onNode,
      onDone: (failed) => options.onProgress?.({ stage: 'connect', done: (connectedCount += 1), total: planned.length, failed }),
    });
    for (const [node, error] of connections.errors) log.nodeError(node, error);

    // 2. plans: saved ones, or rendered now that the facts are known
    const connected = planned.filter((node) => connections.current.has(node.id)).map((node) => connections.current.get(node.id)!);
    let plans: readonly PlanRecord[] = options.plans ?? [];
    if (!options.plans && options.render && connected.length && !signal.aborted) plans = await options.render(connected);
    const phases = phaseOrder(plans, options.phases);
    const plansOf = plansByNode(plans);
    // channels opened for the facts of nodes that have nothing to run in the first phase: let them go
    for (const [id, channel] of connections.channels) {
      if (phases.length === 0 || !plansOf.get(id)?.has(phases[0]!)) {
        channel.skip();
        connections.channels.delete(id);
      }
    }

    // 3. phases with a barrier, batch after batch
    await runBatches(connected, phases, plansOf, connections, {
      signal,
      queue,
      log,
      batch: options.batch,
      maxFailPercent: options.maxFailPercent,
      planned: planned.length,
      failedNodes: new Set(connections.errors.map(([node]) => node.id)),
      timeoutMs: options.timeoutMs,
      blobDir: options.blobDir,
      onDone: (stage, done, total, failed) => options.onProgress?.({ stage, done, total, failed }),
    });
  } finally {
    for (const channel of connections.channels.values()) channel.abort();
    await Promise.all([...connections.transports.values()].map((transport) => transport.close().catch(() => undefined)));
    await log.flushed();
  }
  return log.report(signal);
}
