// What a person at the terminal reads on stderr while run-actions works and when it ends: the live
// lines (-v), the diffs (--plan on a terminal, --diff), the plan summary, and the recap that names
// every failure and every unreachable node with its reason, like Ansible's PLAY RECAP but with the why.
import { colorDiff, type Colors, type Verbosity } from '@forklift/contract/lite';
import type { NodeTally, RunProgress, RunRecord } from './run-log.js';

/** Lines of a failed action's stderr the recap shows. */
export const RECAP_STDERR_LINES = 5;

/** A failed action, as the recap names it. */
export interface FailedAction {
  node: string;
  phase: string;
  label: string;
  exitCode: number;
  stderr: string;
}

/** A node that stopped with an error (unreachable, host key, sudo, script), with the error's words. */
export interface NodeProblem {
  node: string;
  code: string;
  message: string;
}

/** What the narrator needs to know about the run and the person. */
export interface NarratorOptions {
  colors: Colors;
  verbosity: Verbosity;
  /** Show the unified diff of each changed file (--diff, or --plan on a terminal). */
  diffs: boolean;
  /** The run only checks (--plan). */
  plan: boolean;
  /** Write text to stderr (clearing a progress line first is the caller's business). */
  write(text: string): void;
}

function lastLines(text: string, count: number): string[] {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '')
    .slice(-count);
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * Collects what the records of a run say and words it for a person: call `record` for every record as
 * it is written (it prints the live lines and diffs), then `recap` and `planSummary` at the end.
 * @example const narrator = new RunNarrator({ colors, verbosity: 'normal', diffs: false, plan: false, write: (t) => process.stderr.write(t) })
 */
export class RunNarrator {
  readonly failures: FailedAction[] = [];
  readonly problems: NodeProblem[] = [];
  readonly counts = { changed: 0, ok: 0, failed: 0, skipped: 0 };
  readonly #options: NarratorOptions;

  constructor(options: NarratorOptions) {
    this.#options = options;
  }

  /** Take one record of the run (in order). */
  record(record: RunRecord): void {
    const { colors, verbosity } = this.#options;
    if (record.kind === 'error') {
      const { node, code, message } = record.fields;
      if (node !== undefined) this.problems.push({ node, code, message });
      return;
    }
    if (record.kind !== 'result') return;
    const result = record.fields;
    this.counts[result.status] += 1;
    if (result.status === 'failed') {
      this.failures.push({ node: result.node, phase: result.phase, label: result.label, exitCode: result.exitCode, stderr: result.stderr });
    }
    if (verbosity === 'verbose') {
      const status = { changed: colors.yellow, ok: colors.green, failed: colors.red, skipped: colors.dim }[result.status](result.status.padEnd(7));
      const verb = this.#options.plan && result.status === 'changed' ? colors.yellow('would change') : status;
      this.#options.write(`${result.node} ${result.phase}  ${verb}  ${result.label} ${colors.dim(`(${result.durationMs} ms)`)}\n`);
    }
    if (this.#options.diffs && result.diff && verbosity !== 'quiet') {
      const head = colors.bold(`${result.node} ${result.phase}: ${result.label}${this.#options.plan ? ' (would change)' : ''}`);
      this.#options.write(`${head}\n${colorDiff(result.diff.endsWith('\n') ? result.diff : result.diff + '\n', colors)}`);
    }
  }

  /**
   * The recap: one line per node (ok/changed/failed/skipped/unreachable), then every failed action with
   * its node, phase, label, exit code and the last lines of its stderr, then every node that stopped
   * with an error and why. With -q only the failures and node errors.
   */
  recap(tallies: readonly NodeTally[], interrupted?: string): string {
    const { colors, verbosity } = this.#options;
    const out: string[] = [];
    if (verbosity !== 'quiet') out.push(recap(tallies, interrupted, colors).trimEnd());
    if (this.failures.length) {
      out.push('', colors.bold(colors.red(`FAILED (${plural(this.failures.length, 'action')})`)));
      for (const failure of this.failures) {
        out.push(`${colors.bold(failure.node)} ${failure.phase}: ${failure.label} ${colors.red(`exit ${failure.exitCode}`)}`);
        const lines = lastLines(failure.stderr, RECAP_STDERR_LINES);
        for (const line of lines.length ? lines : ['(nothing on stderr)']) out.push(`    ${line}`);
      }
    }
    const unreachable = this.problems.filter((problem) => problem.code === 'unreachable');
    const others = this.problems.filter((problem) => problem.code !== 'unreachable');
    if (unreachable.length) {
      out.push('', colors.bold(colors.red(`UNREACHABLE (${plural(unreachable.length, 'node')})`)));
      for (const problem of unreachable) out.push(`${colors.bold(problem.node)}: ${problem.message}`);
    }
    if (others.length) {
      out.push('', colors.bold(colors.red(`NODE ERRORS (${plural(others.length, 'node')})`)));
      for (const problem of others) out.push(`${colors.bold(problem.node)}: ${problem.code}: ${problem.message}`);
    }
    return out.length ? out.join('\n') + '\n' : '';
  }

  /**
   * The one-line summary of a check run: `3 to change, 12 unchanged on 2 nodes` (plus failed, skipped
   * and unreachable when there are any).
   */
  planSummary(tallies: readonly NodeTally[]): string {
    const unreachable = tallies.filter((tally) => tally.unreachable).length;
    const parts = [`${this.counts.changed} to change`, `${this.counts.ok} unchanged`];
    if (this.counts.failed) parts.push(`${this.counts.failed} failed`);
    if (this.counts.skipped) parts.push(`${this.counts.skipped} skipped`);
    const nodes = `on ${plural(tallies.length, 'node')}${unreachable ? ` (${unreachable} unreachable)` : ''}`;
    return `${parts.join(', ')} ${nodes}\n`;
  }
}

/**
 * The per-node recap table for stderr, one line per node, like Ansible's PLAY RECAP.
 * @example recap(report.tallies) // 'RECAP\nweb-1  : ok=3 changed=1 failed=0 skipped=0 unreachable=0\n'
 */
export function recap(tallies: readonly NodeTally[], interrupted?: string, colors?: Colors): string {
  const width = Math.max(4, ...tallies.map((tally) => tally.id.length));
  const paint = (count: number, text: string, color?: (text: string) => string): string => (count > 0 && color ? color(text) : text);
  const lines = tallies.map((tally) => {
    const note = tally.error && !tally.unreachable ? `  (${tally.error})` : '';
    const bad = tally.failed > 0 || tally.unreachable || tally.error !== undefined;
    const name = colors
      ? bad
        ? colors.red(tally.id.padEnd(width))
        : tally.changed
          ? colors.yellow(tally.id.padEnd(width))
          : colors.green(tally.id.padEnd(width))
      : tally.id.padEnd(width);
    return (
      `${name} : ${paint(tally.ok, `ok=${tally.ok}`, colors?.green)} ${paint(tally.changed, `changed=${tally.changed}`, colors?.yellow)} ` +
      `${paint(tally.failed, `failed=${tally.failed}`, colors?.red)} skipped=${tally.skipped} ${paint(tally.unreachable ? 1 : 0, `unreachable=${tally.unreachable ? 1 : 0}`, colors?.red)}${note}`
    );
  });
  const head = interrupted ? `RECAP (interrupted by ${interrupted})` : 'RECAP';
  return [head, ...(lines.length ? lines : ['(no nodes to run)'])].join('\n') + '\n';
}

/** A one-line progress text for a TTY (written with \r, cleared at the end). */
export function progressLine(progress: RunProgress): string {
  return `run-actions: ${progress.stage} ${progress.done}/${progress.total} nodes${progress.failed ? `, ${progress.failed} failed` : ''}`;
}
