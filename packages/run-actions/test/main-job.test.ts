// The README's main job, end to end on real systemd nodes: provision-node local 2 | run-actions
// examples/monitoring/groups/monitoring, run from the repository root exactly as the README says.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const provisionBin = join(repo, 'packages/provision-node/bin/provision-node.js');
const runActionsBin = join(repo, 'packages/run-actions/bin/run-actions.js');
const home = mkdtempSync(join(tmpdir(), 'fl-mainjob-'));
const env = {
  ...process.env,
  FORKLIFT_HOME: home,
  FORKLIFT_IMAGE_CACHE: process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images',
};

t.setTimeout(25 * 60 * 1000); // a fresh CI machine builds the rootfs first
t.teardown(async () => {
  await execFileAsync(process.execPath, [provisionBin, 'local', '0', '--group', 'monitoring'], { env, cwd: repo }).catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
});

function pipeline(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const records = (stdout: string) =>
  stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

t.test('main job - provision 2 local nodes and converge the monitoring group, then lift reports only ok', async (t) => {
  const first = await pipeline(`node ${provisionBin} local 2 --group monitoring | node ${runActionsBin} examples/monitoring/groups/monitoring`);
  t.equal(first.code, 0, first.stderr.slice(-2000));
  const out = records(first.stdout);
  const nodes = out.filter((r) => r.kind === 'node');
  t.equal(nodes.length, 2, 'both node records flow through');
  const results = out.filter((r) => r.kind === 'result');
  t.ok(results.length >= 10, 'result records for both nodes');
  t.ok(
    results.every((r) => r.status === 'changed'),
    'first run changes every action',
  );
  t.match(out.at(-1), { kind: 'summary', tool: 'run-actions', ok: true });

  for (const node of nodes) {
    const response = await fetch(`http://${String(node.address)}:9100/metrics`);
    t.equal(response.status, 200, `node exporter answers on ${String(node.id)}`);
    t.match(await response.text(), /node_uname_info/);
  }

  const lift = await pipeline(`node ${provisionBin} local --list --group monitoring | node ${runActionsBin} examples/monitoring/groups/monitoring`);
  t.equal(lift.code, 0, lift.stderr.slice(-2000));
  const again = records(lift.stdout).filter((r) => r.kind === 'result');
  t.equal(again.length, results.length);
  t.ok(
    again.every((r) => r.status === 'ok'),
    'second run reports only ok',
  );
});
