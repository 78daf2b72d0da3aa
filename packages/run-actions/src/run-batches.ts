import type { NodeRecord, PlanRecord } from '@forklift/contract/lite';
import type PQueue from 'p-queue';
import { splitBatches, type BatchSize } from './batches.js';
import type { Connections } from './connect-nodes.js';
import { NodeError } from './node-errors.js';
import type { RunLog } from './run-log.js';
import { runPhase, skipPhase } from './run-phase.js';

/** Options of runBatches. */
export interface RunBatchesOptions {
  signal: AbortSignal;
  queue: PQueue;
  log: RunLog;
  /** Rolling batches: the next batch starts when the previous one finished all its phases. */
  batch?: BatchSize;
  /** Stop starting new batches once more than this share (0-100) of `planned` nodes failed. */
  maxFailPercent?: number;
  /** How many nodes the run was planned for (the base of the max-fail share). */
  planned: number;
  /** Nodes that failed already (connecting): they skip their phases; runBatches adds the ones whose phase fails. */
  failedNodes: Set<string>;
  timeoutMs?: number;
  blobDir?: string;
  /** After each node's phase, with how many of the phase's nodes are done and failed. */
  onDone(phase: string, done: number, total: number, failed: number): void;
}

/** Whether the batches stop here: once, the failure share went over --max-fail; its reason. */
function overMaxFail(options: RunBatchesOptions): string | undefined {
  const { failedNodes, planned, maxFailPercent } = options;
  const failShare = planned ? (failedNodes.size / planned) * 100 : 0;
  if (maxFailPercent === undefined || failShare <= maxFailPercent) return undefined;
  return `${failedNodes.size} of ${planned} nodes failed (more than --max-fail ${maxFailPercent}%)`;
}

/** One phase on the batch's nodes that have a plan for it, all at once (the queue's concurrency): the barrier is its end. */
async function runPhaseOnNodes(
  phase: string,
  batch: readonly NodeRecord[],
  plansOf: ReadonlyMap<string, ReadonlyMap<string, PlanRecord>>,
  connections: Connections,
  options: RunBatchesOptions,
): Promise<void> {
  const { signal, failedNodes } = options;
  const members = batch.filter((node) => plansOf.get(node.id)?.has(phase));
  let done = 0;
  await options.queue.addAll(
    members.map((node) => async () => {
      const plan = plansOf.get(node.id)!.get(phase)!;
      const sink = options.log.sink(node);
      try {
        if (signal.aborted) return;
        if (failedNodes.has(node.id)) {
          skipPhase(node, plan, sink);
          return;
        }
        const channel = connections.channels.get(node.id);
        connections.channels.delete(node.id);
        const outcome = await runPhase(node, plan, connections.transports.get(node.id)!, sink, {
          signal,
          timeoutMs: options.timeoutMs,
          blobDir: options.blobDir,
          channel,
        });
        if (!outcome.ok) failedNodes.add(node.id);
      } finally {
        done += 1;
        options.onDone(phase, done, members.length, members.filter((member) => failedNodes.has(member.id)).length);
      }
    }),
  );
}

/**
 * The phases in order with a barrier, batch after batch (one batch of every node without `batch`); a
 * batch's connections close when it is done. Once the failures pass --max-fail, the later batches'
 * nodes are not started (an error record each).
 */
export async function runBatches(
  connected: readonly NodeRecord[],
  phases: readonly string[],
  plansOf: ReadonlyMap<string, ReadonlyMap<string, PlanRecord>>,
  connections: Connections,
  options: RunBatchesOptions,
): Promise<void> {
  let stopReason: string | undefined;
  for (const batch of splitBatches(connected, options.batch)) {
    if (options.signal.aborted) break;
    stopReason ??= overMaxFail(options);
    if (stopReason) {
      for (const node of batch) options.log.nodeError(node, new NodeError('not-started', `node ${node.id}: not started: ${stopReason}`));
      continue;
    }
    for (const phase of phases) {
      if (options.signal.aborted) break;
      await runPhaseOnNodes(phase, batch, plansOf, connections, options);
    }
    await Promise.all(
      batch.map((node) =>
        connections.transports
          .get(node.id)
          ?.close()
          .catch(() => undefined),
      ),
    );
  }
}
