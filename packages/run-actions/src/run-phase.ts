import { emptyCounts, type NodeRecord, type PlanRecord, type RecordFields, type StatusCounts } from '@forklift/contract/lite';
import { MarkerParser, type ActionOutcome } from './markers.js';
import { NodeError } from './node-errors.js';
import { openPhaseChannel, type PhaseChannel } from './phase-channel.js';
import { isSudoRefusal, newNonce, sudoMessage, wrapperInput } from './remote-command.js';
import { DEFAULT_BLOB_DIR, deliverBlobs, readSensitiveUploads } from './uploads.js';
import type { Transport } from './transport.js';

/** Records a phase run produces, handed over as they happen. */
export type PhaseRecordSink = {
  result(fields: RecordFields<'result'>): void;
  phase(fields: RecordFields<'phase'>): void;
  error(fields: RecordFields<'error'>): void;
};

/** How one phase on one node went. */
export interface PhaseOutcome {
  ok: boolean;
  counts: StatusCounts;
  /** Why the script stopped early, when it did ('timeout', 'SIGINT', 'SIGTERM' ...). */
  stoppedBy?: string;
}

/** Options of runPhase. */
export interface RunPhaseOptions {
  /** Abort to end the running script (its process group is killed on the node). */
  signal?: AbortSignal;
  /** End the script after this many ms (its running action fails with "timed out"). */
  timeoutMs?: number;
  /** Nonce of the marker protocol (default: a fresh random one). */
  nonce?: string;
  /** The node's cache of non-sensitive uploads (default /var/lib/forklift/blobs). */
  blobDir?: string;
  /** A channel opened earlier (the one that gathered the node's facts); default: a fresh one. */
  channel?: PhaseChannel;
}

function resultFields(node: NodeRecord, phase: string, outcome: ActionOutcome): RecordFields<'result'> {
  return {
    node: node.id,
    phase,
    action: outcome.action,
    id: outcome.id,
    label: outcome.label,
    status: outcome.status,
    exitCode: outcome.exitCode,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    ...(outcome.diff !== undefined ? { diff: outcome.diff } : {}),
    durationMs: outcome.durationMs,
    ...(outcome.truncated ? { truncated: outcome.truncated } : {}),
  };
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop() ?? '';
}

/**
 * Run one plan (one phase of one node) over the node's transport: its uploads first (blob cache, see
 * deliverBlobs), then one exec channel running the remote wrapper with the nonce, the script and the sensitive
 * uploads on its stdin (sudo -n for non-root users); result records are handed to `sink` as the markers
 * arrive, then the phase record.
 * @example const outcome = await runPhase(node, plan, transport, sink, { timeoutMs: 60_000 })
 */
export async function runPhase(
  node: NodeRecord,
  plan: PlanRecord,
  transport: Transport,
  sink: PhaseRecordSink,
  options: RunPhaseOptions = {},
): Promise<PhaseOutcome> {
  const started = performance.now();
  const nonce = options.nonce ?? newNonce();
  const counts = emptyCounts();
  const onOutcome = (outcome: ActionOutcome): void => {
    counts[outcome.status] += 1;
    sink.result(resultFields(node, plan.phase, outcome));
  };
  const parser = new MarkerParser(nonce, plan.actions, onOutcome);
  const controller = new AbortController();
  const stop = (reason: string): void => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const onOuterAbort = (): void => stop(String(options.signal?.reason ?? 'aborted'));
  if (options.signal?.aborted) onOuterAbort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const timer = options.timeoutMs ? setTimeout(() => stop('timeout'), options.timeoutMs) : undefined;
  let result: { exitCode: number | null; signal?: string };
  const script = Buffer.from(plan.script, 'utf8');
  const uploads = plan.uploads ?? [];
  const blobDir = options.blobDir ?? DEFAULT_BLOB_DIR;
  let secrets: Array<{ name: string; bytes: Buffer }> = [];
  try {
    // out-of-band files first: the cache of non-sensitive ones, then the sensitive ones ride on the script's stdin
    await deliverBlobs(node, transport, uploads, blobDir, controller.signal);
    secrets = await readSensitiveUploads(node, uploads);
  } catch (error) {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
    options.channel?.skip();
    const code = error instanceof NodeError ? error.code : 'upload-failed';
    sink.error({ code, message: error instanceof Error ? error.message : String(error), node: node.id });
    const skipped = skipPhase(node, plan, sink, 'failed');
    return { ok: false, counts: skipped, stoppedBy: controller.signal.aborted ? String(controller.signal.reason) : undefined };
  }
  // the run's signal and this phase's timeout end the channel (an earlier one too)
  const channel = options.channel ?? openPhaseChannel(node, transport);
  if (controller.signal.aborted) channel.abort();
  else controller.signal.addEventListener('abort', () => channel.abort(), { once: true });
  let rawStderr = '';
  try {
    channel.start(wrapperInput(nonce, script, { blobDir: uploads.some((upload) => !upload.sensitive) ? blobDir : undefined, uploads: secrets }), {
      onStdout: (chunk) => parser.pushStdout(chunk),
      onStderr: (chunk) => parser.pushStderr(chunk),
    });
    const ended = await channel.done;
    rawStderr = channel.rawStderr;
    result = ended;
    if (ended.error) parser.stray.stderr += `forklift: ${ended.error.message}\n`;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
  const stoppedBy = controller.signal.aborted ? String(controller.signal.reason) : undefined;
  const why =
    stoppedBy === 'timeout' ? `timed out after ${Math.round((options.timeoutMs ?? 0) / 1000)} s` : stoppedBy ? `interrupted (${stoppedBy})` : undefined;
  parser.finish(result.exitCode, why);

  const scriptFailed = result.exitCode !== 0;
  if (scriptFailed && counts.failed === 0) {
    // the script itself failed outside any action block: say why, once, as an error record
    const stray = lastLine(parser.stray.stderr) || lastLine(parser.stray.stdout);
    if (node.user !== 'root' && isSudoRefusal(rawStderr)) {
      sink.error({ code: 'sudo-password', message: sudoMessage(node.id, node.user, rawStderr), node: node.id });
    } else {
      const how = why ?? (result.exitCode === null ? `ended by ${result.signal ?? 'a closed channel'}` : `exited with ${result.exitCode}`);
      sink.error({
        code: stoppedBy === 'timeout' ? 'timeout' : 'script-failed',
        message: `node ${node.id}: phase ${plan.phase}: the script ${how}${stray ? `: ${stray}` : ''}`,
        node: node.id,
      });
    }
  }
  const ok = !scriptFailed && counts.failed === 0;
  const status = !ok ? 'failed' : counts.changed > 0 ? 'changed' : counts.ok > 0 || plan.actions.length === 0 ? 'ok' : 'skipped';
  sink.phase({ node: node.id, phase: plan.phase, status, counts, durationMs: Math.round(performance.now() - started) });
  return { ok, counts, stoppedBy };
}

/** Report a phase a node never ran (it failed earlier, or the run stopped): skipped results and a skipped (or failed) phase record. */
export function skipPhase(node: NodeRecord, plan: PlanRecord, sink: PhaseRecordSink, status: 'skipped' | 'failed' = 'skipped'): StatusCounts {
  const counts = emptyCounts();
  for (const action of plan.actions) {
    counts.skipped += 1;
    sink.result({
      node: node.id,
      phase: plan.phase,
      action: action.action,
      id: action.id,
      label: action.label,
      status: 'skipped',
      exitCode: 0,
      stdout: '',
      stderr: '',
      durationMs: 0,
    });
  }
  sink.phase({ node: node.id, phase: plan.phase, status, counts, durationMs: 0 });
  return counts;
}
