import type { NodeTally, RunProgress } from './run-actions.js';

/**
 * The human recap for stderr, one line per node, like Ansible's PLAY RECAP.
 * @example recap(report.tallies) // 'RECAP\nweb-1  : ok=3 changed=1 failed=0 skipped=0 unreachable=0\n'
 */
export function recap(tallies: readonly NodeTally[], interrupted?: string): string {
  const width = Math.max(4, ...tallies.map((tally) => tally.id.length));
  const lines = tallies.map((tally) => {
    const note = tally.error && !tally.unreachable ? `  (${tally.error})` : '';
    return `${tally.id.padEnd(width)} : ok=${tally.ok} changed=${tally.changed} failed=${tally.failed} skipped=${tally.skipped} unreachable=${tally.unreachable ? 1 : 0}${note}`;
  });
  const head = interrupted ? `RECAP (interrupted by ${interrupted})` : 'RECAP';
  return [head, ...(lines.length ? lines : ['(no nodes to run)'])].join('\n') + '\n';
}

/** A one-line progress text for a TTY (written with \r, cleared at the end). */
export function progressLine(progress: RunProgress): string {
  return `run-actions: ${progress.stage} ${progress.done}/${progress.total} nodes${progress.failed ? `, ${progress.failed} failed` : ''}`;
}
