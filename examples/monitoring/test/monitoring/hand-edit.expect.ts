// Configuration drift: a hand edit of the file forklift manages is put back by the next converge,
// which also restarts the exporter (its restartOn) — and a converge after that changes nothing.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, nodes, onNode, test } from '@forklift/expect-run';

const example = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const runActionsBin = join(dirname(fileURLToPath(import.meta.resolve('@forklift/run-actions'))), '..', 'bin', 'run-actions.js');
const MANAGED = '/etc/default/prometheus-node-exporter';

/** run-actions groups/monitoring from this example, with the node records on stdin. */
function converge(nodeRecords: readonly object[]): Promise<{ code: number | null; records: Array<Record<string, unknown>>; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runActionsBin, 'groups/monitoring'], { cwd: example, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stderr,
        records: stdout
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      }),
    );
    child.stdin.end(nodeRecords.map((record) => JSON.stringify(record) + '\n').join(''));
  });
}

const group = nodes('monitoring');
const [node] = group;

test(
  'a hand edit of the managed file is reverted by the next converge, and the exporter restarted',
  async () => {
    expect((found: unknown) => found !== undefined, node);
    const on = onNode(node!);
    const managed = (await on.run(`cat ${MANAGED}`)).stdout;
    const pidBefore = (await on.run('systemctl show -p MainPID --value prometheus-node-exporter')).stdout.trim();
    expect(/^[1-9]\d*$/, pidBefore);
    expect(0, (await on.run(`printf 'ARGS="--web.listen-address=:9999"  # hand edit\\n' >> ${MANAGED}`)).exitCode);

    const run = await converge(group);
    expect(0, run.code);
    const results = run.records.filter((record) => record.kind === 'result' && record.node === node!.id);
    const byId = new Map(results.map((result) => [result.id, result]));
    expect({ action: 'file', status: 'changed' }, { action: byId.get('node-exporter-defaults')?.action, status: byId.get('node-exporter-defaults')?.status });
    expect(/^-ARGS="--web.listen-address=:9999" {2}# hand edit$/m, byId.get('node-exporter-defaults')?.diff);
    expect('changed', byId.get('node-exporter-service')?.status);

    expect(managed, (await on.run(`cat ${MANAGED}`)).stdout);
    const pidAfter = (await on.run('systemctl show -p MainPID --value prometheus-node-exporter')).stdout.trim();
    expect(/^[1-9]\d*$/, pidAfter);
    expect((pid: string) => pid !== pidBefore, pidAfter);
    expect('active\n', (await on.run('systemctl is-active prometheus-node-exporter')).stdout);

    const again = await converge(group);
    expect(0, again.code);
    const changed = again.records.filter((record) => record.kind === 'result' && record.status !== 'ok');
    expect([], changed);
  },
  { timeoutMs: 300_000 },
);
