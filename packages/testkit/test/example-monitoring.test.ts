// The README's headline pipeline, exactly as the README prints it, run from examples/monitoring on real
// systemd nodes: provision-node | run-actions | expect-run, ending with the example's acceptance tests
// (the exporter answers, the cron heartbeat appears, the service user exists, a hand edit is reverted).
import t from 'tap';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../src/index.js';

const execFileAsync = promisify(execFile);
const example = join(REPO_ROOT, 'examples', 'monitoring');
const home = mkdtempSync(join(tmpdir(), 'fl-example-monitoring-'));
const env = {
  ...process.env,
  PATH: `${join(REPO_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
  FORKLIFT_HOME: home,
  FORKLIFT_IMAGE_CACHE: process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images',
  NODE_OPTIONS: '',
  FORCE_COLOR: '0',
};

/** The headline pipeline: the first line of the README's first sh block. */
function headline(readme: string): string {
  const block = /```sh\n([^\n]+)\n/.exec(readFileSync(readme, 'utf8'));
  if (!block) throw new Error(`${readme} has no sh block`);
  return block[1]!.trim();
}

t.setTimeout(30 * 60 * 1000); // a fresh CI machine builds the rootfs first
t.teardown(async () => {
  await execFileAsync('provision-node', ['local', '0', '--group', 'monitoring'], { env, cwd: example }).catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
});

t.test('README headline - the pipeline as printed, from examples/monitoring, ends with passing acceptance tests', async (t) => {
  const command = headline(join(REPO_ROOT, 'README.md'));
  t.equal(command, 'provision-node local 2 --group monitoring | run-actions groups/monitoring | expect-run test/monitoring');
  t.equal(headline(join(example, 'README.md')), command, "the example's README prints the same pipeline");
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], { cwd: example, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  t.equal(run.code, 0, run.stderr.slice(-3000));
  const records = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const nodes = records.filter((record) => record.kind === 'node');
  t.equal(nodes.length, 2, 'the two node records flow through the whole pipe');
  t.ok(
    records.some((record) => record.kind === 'summary' && record.tool === 'run-actions' && record.ok === true),
    "run-actions' summary flows on",
  );
  const tests = records.filter((record) => record.kind === 'test');
  t.same(
    tests.filter((record) => record.status !== 'passed'),
    [],
    'every acceptance test passed',
  );
  const names = tests.map((record) => String(record.name));
  for (const node of nodes) {
    for (const what of [
      'the node exporter answers on :9100 with node_* series',
      'the monitoring service user exists',
      "the heartbeat of the monitoring user's cron job",
    ]) {
      t.ok(
        names.some((name) => name.startsWith(`${String(node.id)}: ${what}`)),
        `${String(node.id)}: ${what}`,
      );
    }
  }
  t.ok(names.includes('a hand edit of the managed file is reverted by the next converge, and the exporter restarted'));
  t.match(records.at(-1), { kind: 'summary', tool: 'expect-run', ok: true });
  t.match(run.stderr, /Ran \d+ tests containing \d+ assertions in \d+ ms: 0 failures, 0 errors/);
});
