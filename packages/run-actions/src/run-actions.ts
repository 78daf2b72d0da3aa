import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { InputError, UsageError, type ActionStatus, type NodeRecord, type PlanRecord, type RecordFields } from '@forklift/contract/lite';
import PQueue from 'p-queue';
import { splitBatches, type BatchSize } from './batches.js';
import { preflight, withFacts } from './facts.js';
import { effectiveConcurrency } from './limits.js';
import { localTransport } from './local-transport.js';
import { NodeError } from './node-errors.js';
import { openPhaseChannel, type PhaseChannel } from './phase-channel.js';
import { runPhase, skipPhase, type PhaseRecordSink } from './run-phase.js';
import { sshTransport } from './ssh-transport.js';
import type { SshConnectOptions } from './ssh-connect.js';
import type { Transport } from './transport.js';

/** Opens the transport of one node (default: localTransport for `localhost`, else sshTransport). */
export type TransportFactory = (node: NodeRecord, signal: AbortSignal) => Promise<Transport>;

/** A record run-actions writes, for the caller to serialize. */
export type RunRecord = { [K in 'result' | 'phase' | 'error']: { kind: K; fields: RecordFields<K> } }['result' | 'phase' | 'error'];

/** Live progress of a run (for a progress line). */
export interface RunProgress {
  stage: string;
  done: number;
  total: number;
  failed: number;
}

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

/** Per-node tally, for the recap. */
export interface NodeTally {
  id: string;
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: boolean;
  /** The node stopped with an error (unreachable, host key, sudo, script, not started). */
  error?: string;
}

/** What runActions returns. */
export interface RunReport {
  ok: boolean;
  changed: boolean;
  /** The abort reason when the run was interrupted. */
  interrupted?: string;
  /** A node error asked for this exit code (69: a missing key). */
  exitCode?: number;
  tallies: NodeTally[];
  counts: Record<string, number>;
}

/** The default transport: a local shell for `localhost`, else one ssh2 connection. */
export function defaultTransport(ssh: SshConnectOptions = {}): TransportFactory {
  return (node, signal) => (node.address === 'localhost' ? Promise.resolve(localTransport()) : sshTransport(node, { ...ssh, signal }));
}

function checkPlans(plans: readonly PlanRecord[], nodeIds: Set<string>): void {
  const seen = new Set<string>();
  for (const plan of plans) {
    if (!nodeIds.has(plan.node)) throw new InputError(`plan for node "${plan.node}" phase "${plan.phase}": no such node record in the input`, { code: 'plan-without-node' });
    const key = `${plan.node}\u0000${plan.phase}`;
    if (seen.has(key)) throw new InputError(`two plans for node "${plan.node}" phase "${plan.phase}"`, { code: 'duplicate-plan' });
    seen.add(key);
    const sha = createHash('sha256').update(plan.script, 'utf8').digest('hex');
    if (sha !== plan.sha256) throw new InputError(`plan for node "${plan.node}" phase "${plan.phase}": sha256 does not match its script (edited after rendering?)`, { code: 'plan-sha256' });
  }
}

function phaseOrder(plans: readonly PlanRecord[], only?: readonly string[]): string[] {
  const order: string[] = [];
  for (const plan of plans) if (!order.includes(plan.phase)) order.push(plan.phase);
  return only && only.length ? order.filter((phase) => only.includes(phase)) : order;
}

/**
 * Apply plans to nodes: connect to every node once (OS facts gathered on the way), then run the
 * phases in order with a barrier, all nodes in parallel (or in rolling batches); records go to
 * `onRecord` as they happen. A failure on a node is data, never an exception.
 * @example const report = await runActions({ nodes, plans, onRecord: (r) => console.log(r) })
 */
export async function runActions(options: RunActionsOptions): Promise<RunReport> {
  const signal = options.signal ?? new AbortController().signal;
  const open = options.transport ?? defaultTransport(options.ssh);
  const running = options.nodes.filter((node) => node.state === 'running');
  const nodeIds = new Set(running.map((node) => node.id));
  if (options.plans) checkPlans(options.plans, nodeIds);
  const planned = options.plans ? running.filter((node) => options.plans!.some((plan) => plan.node === node.id)) : running;
  const concurrency = effectiveConcurrency(options.concurrency, planned.length);
  // every running node listens on the run's signal (connect backoff, its phase script)
  setMaxListeners(Math.max(10, 3 * planned.length + 10), signal);

  const tallies = new Map<string, NodeTally>();
  for (const node of planned) tallies.set(node.id, { id: node.id, ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: false });
  let chain: Promise<void> = Promise.resolve();
  const write = (record: RunRecord): void => {
    chain = chain.then(() => options.onRecord(record));
  };
  let errorExitCode: number | undefined;
  const nodeError = (node: NodeRecord, error: unknown): void => {
    const tally = tallies.get(node.id)!;
    const code = error instanceof NodeError ? error.code : 'internal';
    const message = error instanceof Error ? error.message : String(error);
    tally.error = code;
    if (code === 'unreachable') tally.unreachable = true;
    if (error instanceof NodeError && error.exitCode !== 1) errorExitCode = error.exitCode;
    write({ kind: 'error', fields: { code, message, node: node.id } });
  };

  // 1. one connection per node, facts gathered on it before anything is written. When every node starts its first
  // phase at once (no --batch, concurrency for all), the facts ride on the channel that will run the first phase:
  // the wrapper prints them, then waits for its script (sent once the plans are known).
  const merged = !options.batch && concurrency >= planned.length;
  const transports = new Map<string, Transport>();
  const channels = new Map<string, PhaseChannel>();
  const current = new Map<string, NodeRecord>();
  const connectErrors: Array<[NodeRecord, unknown]> = [];
  const queue = new PQueue({ concurrency });
  let done = 0;
  const progress = (stage: string, total: number, failed = 0): void => options.onProgress?.({ stage, done, total, failed });
  try {
    await queue.addAll(
      planned.map((node) => async () => {
        if (signal.aborted) return;
        let transport: Transport | undefined;
        let channel: PhaseChannel | undefined;
        try {
          transport = await open(node, signal);
          const timeout = options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined;
          const factsSignal = timeout ? AbortSignal.any([signal, timeout]) : signal;
          let updated: NodeRecord;
          if (merged) {
            channel = openPhaseChannel(node, transport, { facts: true, signal });
            const stopFacts = (): void => channel!.abort();
            factsSignal.addEventListener('abort', stopFacts, { once: true });
            try {
              updated = withFacts(node, await channel.facts);
            } finally {
              factsSignal.removeEventListener('abort', stopFacts);
            }
            channels.set(node.id, channel);
          } else {
            updated = await preflight(node, transport, factsSignal);
          }
          transports.set(node.id, transport);
          current.set(node.id, updated);
          if (updated !== node) options.onNode?.(updated);
        } catch (error) {
          channel?.abort();
          await transport?.close().catch(() => undefined);
          if (!signal.aborted) connectErrors.push([node, error]);
        } finally {
          done += 1;
          progress('connect', planned.length, connectErrors.length);
        }
      }),
    );
    for (const [node, error] of connectErrors) nodeError(node, error);

    // 2. plans: saved ones, or rendered now that the facts are known
    const connected = planned.filter((node) => current.has(node.id)).map((node) => current.get(node.id)!);
    let plans: readonly PlanRecord[] = options.plans ?? [];
    if (!options.plans && options.render && connected.length && !signal.aborted) plans = await options.render(connected);
    const phases = phaseOrder(plans, options.phases);
    const plansOf = new Map<string, Map<string, PlanRecord>>();
    for (const plan of plans) {
      if (!plansOf.has(plan.node)) plansOf.set(plan.node, new Map());
      plansOf.get(plan.node)!.set(plan.phase, plan);
    }

    // channels opened for the facts of nodes that have nothing to run in the first phase: let them go
    for (const [id, channel] of channels) {
      if (phases.length === 0 || !plansOf.get(id)?.has(phases[0]!)) {
        channel.skip();
        channels.delete(id);
      }
    }

    // 3. phases with a barrier, batch after batch
    const failedNodes = new Set<string>(connectErrors.map(([node]) => node.id));
    const batches = splitBatches(connected, options.batch);
    let stopReason: string | undefined;
    for (const batch of batches) {
      if (signal.aborted) break;
      const failShare = planned.length ? (failedNodes.size / planned.length) * 100 : 0;
      if (stopReason || (options.maxFailPercent !== undefined && failShare > options.maxFailPercent)) {
        stopReason ??= `${failedNodes.size} of ${planned.length} nodes failed (more than --max-fail ${options.maxFailPercent}%)`;
        for (const node of batch) nodeError(node, new NodeError('not-started', `node ${node.id}: not started: ${stopReason}`));
        continue;
      }
      for (const phase of phases) {
        if (signal.aborted) break;
        const members = batch.filter((node) => plansOf.get(node.id)?.has(phase));
        done = 0;
        await queue.addAll(
          members.map((node) => async () => {
            const plan = plansOf.get(node.id)!.get(phase)!;
            const tally = tallies.get(node.id)!;
            const sink: PhaseRecordSink = {
              result: (fields) => {
                tally[fields.status as ActionStatus] += 1;
                write({ kind: 'result', fields });
              },
              phase: (fields) => write({ kind: 'phase', fields }),
              error: (fields) => {
                tally.error ??= String(fields.code);
                write({ kind: 'error', fields });
              },
            };
            try {
              if (signal.aborted) return;
              if (failedNodes.has(node.id)) {
                skipPhase(node, plan, sink);
                return;
              }
              const channel = channels.get(node.id);
              channels.delete(node.id);
              const outcome = await runPhase(node, plan, transports.get(node.id)!, sink, { signal, timeoutMs: options.timeoutMs, blobDir: options.blobDir, channel });
              if (!outcome.ok) failedNodes.add(node.id);
            } finally {
              done += 1;
              progress(phase, members.length, members.filter((member) => failedNodes.has(member.id)).length);
            }
          }),
        );
      }
      await Promise.all(batch.map((node) => transports.get(node.id)?.close().catch(() => undefined)));
    }
  } finally {
    for (const channel of channels.values()) channel.abort();
    await Promise.all([...transports.values()].map((transport) => transport.close().catch(() => undefined)));
    await chain;
  }

  const list = [...tallies.values()];
  const failed = list.some((tally) => tally.failed > 0 || tally.error !== undefined);
  const counts = {
    nodes: list.length,
    ok: list.reduce((sum, tally) => sum + tally.ok, 0),
    changed: list.reduce((sum, tally) => sum + tally.changed, 0),
    failed: list.reduce((sum, tally) => sum + tally.failed, 0),
    skipped: list.reduce((sum, tally) => sum + tally.skipped, 0),
    unreachable: list.filter((tally) => tally.unreachable).length,
    failedNodes: list.filter((tally) => tally.failed > 0 || tally.error !== undefined).length,
  };
  return {
    ok: !failed && !signal.aborted,
    changed: counts.changed > 0,
    interrupted: signal.aborted ? String(signal.reason) : undefined,
    exitCode: errorExitCode,
    tallies: list,
    counts,
  };
}

/** Throw UsageError when `--plan` meets plan records rendered to apply (a saved plan runs as rendered). */
export function assertPlanMode(plans: readonly PlanRecord[], planFlag: boolean): void {
  if (!planFlag) return;
  const apply = plans.find((plan) => (plan as { mode?: unknown }).mode !== 'plan');
  if (apply) {
    throw new UsageError(`--plan given, but the plan for node "${apply.node}" phase "${apply.phase}" was rendered to apply changes; render it with \`render-crate --plan\` (a saved plan runs exactly as rendered)`);
  }
}

