// Topology (b) from nothing to passing acceptance tests, as the README says: `make up test` in
// examples/wine-cellar with a FORKLIFT_HOME of its own, then a converge of the unchanged system changes
// nothing and a plan shows nothing to do; `make down` in the teardown leaves no node.
// One provisioned system for everything: the acceptance tests themselves are expect-run files and a
// browser-drive script (test/*.expect.ts, test/add-wine.json5) run against it by `make test`.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const project = fileURLToPath(new URL('..', import.meta.url));
// a home of its own that outlives the run: its apt cache (network/apt-proxy/cache) serves the next run locally;
// the nodes, bridge and apt proxy go with `make down`
const home = process.env.FORKLIFT_WINE_CELLAR_TEST_HOME || '/var/cache/forklift/wine-cellar-test-home';
await mkdir(home, { recursive: true });
const env = { ...process.env, FORKLIFT_HOME: home, FORKLIFT_IMAGE_CACHE: process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images' };

t.setTimeout(40 * 60 * 1000); // a fresh machine builds the rootfs and fills the apt cache first

interface Run {
  code: number | null;
  stderr: string;
  ms: number;
}
function make(...targets: string[]): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('make', ['-C', project, ...targets], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, ms: Date.now() - started }));
  });
}
async function records(name: string): Promise<Array<Record<string, any>>> {
  const text = await readFile(join(project, 'build', 'records', `${name}.ndjson`), 'utf8');
  return text.trim() === ''
    ? []
    : text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, any>);
}
const GROUPS = ['zk', 'files', 'blue-db', 'blue-app', 'blue-web', 'lb'];

t.teardown(async () => {
  const down = await make('down');
  if (down.code !== 0) console.error(`make down failed: ${down.stderr.slice(-2000)}`);
});

t.test('make up - topology (b) provisioned and converged from nothing', async (t) => {
  await rm(join(project, 'build', 'records'), { recursive: true, force: true });
  const before = await make('down'); // from nothing, even after a run that was killed
  t.equal(before.code, 0, before.stderr.slice(-2000));
  const up = await make('up');
  t.equal(up.code, 0, up.stderr.slice(-4000));
  t.comment(`make up: ${(up.ms / 1000).toFixed(1)} s`);
  for (const group of GROUPS) {
    const out = await records(group);
    t.match(out.at(-1), { kind: 'summary', tool: 'run-actions', ok: true }, `${group} converged`);
  }
  const nodes = (await records('lb')).filter((r) => r.kind === 'node');
  t.equal(nodes.length, 7, 'seven nodes for one color');
});

t.test('make test - the acceptance tests and the browser script pass through the load balancer', async (t) => {
  const run = await make('test');
  t.equal(run.code, 0, run.stderr.slice(-4000));
  const tests = (await records('expect-run')).filter((r) => r.kind === 'test');
  const files = new Set(tests.map((r) => String(r.file).replace(/^.*\//, '')));
  t.same([...files].sort(), ['api.expect.ts', 'db.expect.ts', 'files.expect.ts', 'users.expect.ts', 'zookeeper.expect.ts']);
  t.same(
    tests.filter((r) => r.status !== 'passed').map((r) => `${r.file} > ${r.name}: ${r.failure?.message}`),
    [],
  );
  const steps = (await records('browser-drive')).filter((r) => r.kind === 'step');
  t.ok(steps.length >= 8, 'every browser step ran');
  t.same(
    steps.filter((r) => r.status !== 'passed').map((r) => r.error),
    [],
  );
});

t.test('converge again - the unchanged system: 0 changed, and a plan of 0 changes', async (t) => {
  const again = await make('converge');
  t.equal(again.code, 0, again.stderr.slice(-3000));
  t.comment(`unchanged converge: ${(again.ms / 1000).toFixed(1)} s`);
  const plan = await make('plan');
  t.equal(plan.code, 0, plan.stderr.slice(-3000));
  for (const group of GROUPS) {
    for (const name of [group, `plan-${group}`]) {
      const changed = (await records(name)).filter((r) => r.kind === 'result' && r.status === 'changed');
      t.same(
        changed.map((r) => `${r.node} ${r.label}`),
        [],
        `${name}: nothing changed`,
      );
    }
  }
  t.ok((await readdir(join(project, 'build', 'records'))).length >= 14);
});
