import type { ActionStatus, NodeRecord, RecordFields } from '@forklift/contract/lite';
import { NodeError } from './node-errors.js';
import type { PhaseRecordSink } from './run-phase.js';

/** A record run-actions writes, for the caller to serialize. */
export type RunRecord = { [K in 'result' | 'phase' | 'error']: { kind: K; fields: RecordFields<K> } }['result' | 'phase' | 'error'];

/** Live progress of a run (for a progress line). */
export interface RunProgress {
  stage: string;
  done: number;
  total: number;
  failed: number;
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

/**
 * The records of one run, handed to `onRecord` one at a time in the order they happen, and each node's
 * tally of them (what the report and the recap count).
 */
export class RunLog {
  readonly #tallies = new Map<string, NodeTally>();
  readonly #onRecord: (record: RunRecord) => void | Promise<void>;
  #chain: Promise<void> = Promise.resolve();
  #errorExitCode: number | undefined;

  constructor(nodes: readonly NodeRecord[], onRecord: (record: RunRecord) => void | Promise<void>) {
    this.#onRecord = onRecord;
    for (const node of nodes) this.#tallies.set(node.id, { id: node.id, ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: false });
  }

  /** Queue a record: `onRecord` gets it once every earlier one was handled. */
  write(record: RunRecord): void {
    this.#chain = this.#chain.then(() => this.#onRecord(record));
  }

  /** A node stopped with an error (unreachable, host key, not started ...): its error record and tally. */
  nodeError(node: NodeRecord, error: unknown): void {
    const tally = this.#tallies.get(node.id)!;
    const code = error instanceof NodeError ? error.code : 'internal';
    const message = error instanceof Error ? error.message : String(error);
    tally.error = code;
    if (code === 'unreachable') tally.unreachable = true;
    if (error instanceof NodeError && error.exitCode !== 1) this.#errorExitCode = error.exitCode;
    this.write({ kind: 'error', fields: { code, message, node: node.id } });
  }

  /** Where one node's phase run sends its records: counted in the node's tally, then written. */
  sink(node: NodeRecord): PhaseRecordSink {
    const tally = this.#tallies.get(node.id)!;
    return {
      result: (fields) => {
        tally[fields.status as ActionStatus] += 1;
        this.write({ kind: 'result', fields });
      },
      phase: (fields) => this.write({ kind: 'phase', fields }),
      error: (fields) => {
        tally.error ??= String(fields.code);
        this.write({ kind: 'error', fields });
      },
    };
  }

  /** Resolves once `onRecord` handled every record written so far (rejects with its error). */
  flushed(): Promise<void> {
    return this.#chain;
  }

  /** The run's report from the tallies; `signal` tells whether the run was interrupted. */
  report(signal: AbortSignal): RunReport {
    const list = [...this.#tallies.values()];
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
      exitCode: this.#errorExitCode,
      tallies: list,
      counts,
    };
  }
}
