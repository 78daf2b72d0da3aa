// The four recipes end to end on the real wine-cellar system (issue 17's must-show): ONE test file, one
// forklift home, the flows in sequence so every step reuses what the one before left (CI time):
//   dev          topology (a) on one node: the first test run passes, an edited test file re-runs,
//                Ctrl-C keeps the node, --down leaves nothing
//   dev-qa       a branch breaking the page's greeting (the browser script) is not merged, exit 1, its
//                nodes gone; a passing branch is merged into develop (--no-ff) — run with --keep, its
//                seven nodes then become production (make up converges them)
//   releases     under continuous load through the LB (wrk, the project's own LB only, bounded by -d):
//                qa-release 1.0.0 + production-release (blue -> green), a commit on develop, qa-release
//                1.1.0, a production release whose new color fails a gate (its nginx stopped during the
//                shift: rolled back, exit 1, DBs untouched), the same release again (green -> blue):
//                0 failed requests; after each release the old color on minimal resources (its nodes
//                counted) and its DB replicating; tags merged into develop and master, no release
//                branch; a second qa-release 1.0.0 refused (65)
//   candidate    a release whose /healthz fails stops before merging: no tag, the branch stays, exit 1,
//                the nodes that got it torn down
// The home (default /var/cache/forklift/recipes-test-home, $FORKLIFT_RECIPES_TEST_HOME) outlives the
// run for its apt cache only: every node goes in the teardown, pass or fail.
import t, { type Test } from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sshTransport } from '@forklift/run-actions';
import { branchWith, destroyGroups, git, listNodes, makeRepo, readRecords, RECIPES, removeDir, ROOT, runRecipe } from './helpers.js';

/** A missing host tool fails the file at once with what to install (scripts/prerequisites.json has them). */
for (const [command, pkg] of [
  ['wrk', 'wrk'],
  ['git', 'git'],
  ['make', 'make'],
] as const) {
  const probe = spawnSync(command, ['--version'], { stdio: 'ignore' });
  if (probe.error) throw new Error(`${command} is missing: apt-get install ${pkg} (scripts/prerequisites.json lists it; npm test installs it)`);
}

const home = process.env.FORKLIFT_RECIPES_TEST_HOME || '/var/cache/forklift/recipes-test-home';
mkdirSync(home, { recursive: true });
const repo = makeRepo(join(ROOT, 'examples', 'wine-cellar'));
const env = { ...repo.env, FORKLIFT_HOME: home };
const opts = { cwd: repo.work, env, timeoutMs: 25 * 60_000 };
const GROUPS = ['wine-cellar', 'zk', 'files', 'blue-db', 'blue-app', 'blue-web', 'green-db', 'green-app', 'green-web', 'lb'];
const children = new Set<ChildProcess>();

function cleanHome() {
  destroyGroups(home, 'local', GROUPS);
  rmSync(join(home, 'releases'), { recursive: true, force: true });
}
cleanHome(); // from nothing, even after a run that was killed
t.setTimeout(50 * 60 * 1000); // a fresh machine builds the rootfs and fills the apt cache first
t.teardown(() => {
  for (const child of children) child.kill('SIGKILL');
  cleanHome();
  removeDir(repo.dir);
});

const started = Date.now();
const since = () => `${((Date.now() - started) / 1000).toFixed(0)} s into the file`;
const nodes = () => listNodes(home, 'local');
const count = (group: string) => nodes().filter((n) => n.group === group).length;
const lb = () => nodes().find((n) => n.group === 'lb')!;

function make(target: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('make', ['-C', repo.work, target, `BIN=${join(ROOT, 'node_modules', '.bin')}`, `RECIPES=${RECIPES}`], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stderr }));
  });
}

/** A recipe started in the background (stderr collected), its exit code awaited. */
function startRecipe(name: string, args: string[]) {
  const child = spawn(process.execPath, [join(RECIPES, `${name}.mjs`), ...args], {
    cwd: repo.work,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  const run = {
    stderr: '',
    exited: false,
    code: new Promise<number | null>((done) => child.on('close', (code) => (children.delete(child), (run.exited = true), done(code)))),
    child,
  };
  child.stderr.setEncoding('utf8').on('data', (d) => (run.stderr += d));
  return run;
}

/** The exit code of a recipe run; its stderr (tail) only in the message of a failure. */
function exits(t: Test, run: { code: number | null; stderr: string }, code: number, what: string) {
  t.equal(run.code, code, run.code === code ? `${what}: exit ${code}` : `${what}: exit ${run.code}\n${run.stderr.slice(-4000)}`);
}

/** Wait until `check()` holds; fails at the deadline, or at once when the recipe it waits on has ended. */
async function waitFor(what: string, check: () => boolean, ms: number, run?: { stderr: string; exited: boolean }) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (run?.exited && !check()) throw new Error(`the recipe ended before ${what}\n${run.stderr.slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${(run?.stderr ?? '').slice(-3000)}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Run a command on a node as root; its stdout. */
async function onNode(node: Record<string, any>, command: string): Promise<{ code: number | null; stdout: string }> {
  const ssh = await sshTransport(node as never);
  try {
    let stdout = '';
    const result = await ssh.exec(command, { onStdout: (chunk: Buffer | string) => (stdout += chunk) });
    return { code: result.exitCode, stdout };
  } finally {
    await ssh.close();
  }
}

/** wrk through the LB's live frontend (the project's own LB node) until stopped, bounded by -d. */
function startLoad() {
  const child = spawn('wrk', ['-t1', '-c8', '-d1800s', '--timeout', '30s', `http://${lb().address}/api/wines`], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
  const done = new Promise<{ requests: number; non2xx: number; socketErrors: number; text: string }>((resolve) =>
    child.on('close', () => {
      children.delete(child);
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
      const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
      resolve({ requests, non2xx, socketErrors, text: out });
    }),
  );
  return { stop: () => (child.kill('SIGINT'), done) };
}

/** A row written through the LB (to the live color's DB) appears on another color's DB (its replica). */
async function replicates(t: Test, color: string) {
  const name = `replicated ${Date.now().toString(36)}`;
  const response = await fetch(`http://${lb().address}/api/wines`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, kind: 'red', year: 2020 }),
  });
  t.equal(response.status, 201, 'a row written through the LB');
  const db = nodes().find((n) => n.group === `${color}-db`)!;
  let seen = '';
  for (let i = 0; i < 40 && !seen.includes(name); i++) {
    seen = (await onNode(db, `mysql -N winecellar -e "SELECT name FROM wines WHERE name = '${name}'"`)).stdout;
    if (!seen.includes(name)) await new Promise((done) => setTimeout(done, 250));
  }
  t.match(seen, name, `the row is on ${db.id} (${color}'s DB replicates)`);
}

const minimal = (color: string) => [count(`${color}-app`), count(`${color}-web`), count(`${color}-db`)];
const healthz = async (port: number) => {
  const response = await fetch(`http://${lb().address}${port === 80 ? '' : `:${port}`}/healthz`).catch(() => undefined);
  return response?.status === 200 ? ((await response.json()) as { color: string; version: string }) : undefined;
};

t.test('dev - topology (a) on one node: tests pass, an edited test re-runs, Ctrl-C keeps the node, --down leaves nothing', async (t) => {
  const records = join(repo.dir, 'dev.ndjson');
  const dev = startRecipe('dev', ['--home', home, '--records', records]);
  const tests = () => readRecords(records).filter((r) => r.kind === 'test');
  // expect-run ends each run with its 'Ran N tests ...' line (dev shows it on stderr)
  const runsEnded = () => dev.stderr.match(/^\s*Ran \d+ tests?/gm)?.length ?? 0;
  await waitFor('the first test run', () => runsEnded() >= 1, 15 * 60_000, dev);
  const first = tests().filter((r) => r.run === 1);
  t.ok(first.length >= 5, `${first.length} tests in the first run`);
  t.same(
    first.filter((r) => r.status !== 'passed').map((r) => `${r.file} > ${r.name}: ${r.failure?.message}`),
    [],
    'the first run passes',
  );
  t.same(
    nodes().map((n) => n.group),
    ['wine-cellar'],
    'the system runs on one node',
  );
  const saved = Date.now();
  appendFileSync(join(repo.work, 'test', 'users.expect.ts'), '// saved again\n');
  await waitFor('the re-run', () => runsEnded() >= 2 && tests().some((r) => r.run === 2), 60_000, dev);
  t.comment(`dev: the edited test file re-ran ${Date.now() - saved} ms after the save (${since()})`);
  t.match(
    tests().filter((r) => r.run === 2),
    [{ status: 'passed', file: 'test/users.expect.ts' }],
    'only the edited file re-ran, and passed',
  );
  git(repo.work, 'checkout', '--', 'test/users.expect.ts');
  dev.child.kill('SIGINT');
  t.equal(await dev.code, 130, 'Ctrl-C ends watching with 130');
  t.equal(count('wine-cellar'), 1, 'the node stays up');
  const down = await runRecipe('dev', ['--home', home, '--down'], opts);
  exits(t, down, 0, 'dev --down');
  t.same(nodes(), [], '--down leaves nothing');
});

t.test('dev-qa - a branch breaking the page greeting is not merged, exit 1, its nodes gone', async (t) => {
  const zk = join(repo.work, 'servers', 'zk.ts');
  const broken = readFileSync(zk, 'utf8').replace("Welcome to forklift's wine cellar", 'Welcome to the wine shop');
  branchWith(repo, 'feature/shop', { 'servers/zk.ts': broken }, 'feature: a new greeting, acceptance tests not updated');
  const before = git(repo.origin, 'rev-parse', 'develop');
  const records = join(repo.dir, 'dev-qa-fail.ndjson');
  const run = await runRecipe('dev-qa', ['feature/shop', '--home', home, '--records', records], opts);
  t.comment(`dev-qa (failing branch): ${(run.ms / 1000).toFixed(1)} s (${since()})`);
  exits(t, run, 1, 'dev-qa of the breaking branch');
  t.match(run.stderr, /dev-qa: ✗ browser test\/add-wine\.json5/);
  t.match(run.stderr, /dev-qa: FAILED \(exit 1\) at "browser test\/add-wine\.json5"/);
  t.notMatch(run.stderr, /merge feature\/shop/);
  t.equal(git(repo.origin, 'rev-parse', 'develop'), before, 'develop unchanged on origin');
  t.same(nodes(), [], 'its nodes are gone');
  t.ok(
    readRecords(records).some((r) => r.kind === 'test' && r.status === 'passed'),
    'the expect-run tests passed before the browser failed',
  );
});

t.test('dev-qa - a passing feature branch is merged into develop (--no-ff); kept, its nodes become production', async (t) => {
  const feature = branchWith(repo, 'feature/notes', { 'NOTES.md': 'tasting notes\n' }, 'feature: tasting notes');
  const before = git(repo.origin, 'rev-parse', 'develop');
  const run = await runRecipe('dev-qa', ['feature/notes', '--home', home, '--keep'], opts);
  t.comment(`dev-qa (passing branch, from nothing to tested and merged): ${(run.ms / 1000).toFixed(1)} s (${since()})`);
  exits(t, run, 0, 'dev-qa of the passing branch');
  t.match(run.stderr, /dev-qa: ✓ acceptance tests/);
  t.match(run.stderr, /dev-qa: ✓ browser test\/add-wine\.json5/);
  const after = git(repo.origin, 'rev-parse', 'develop');
  t.equal(git(repo.origin, 'rev-parse', `${after}^1`), before, 'first parent: develop as it was');
  t.equal(git(repo.origin, 'rev-parse', `${after}^2`), feature, 'second parent: the tested commit (no fast-forward)');
  git(repo.work, 'pull', '-q', '--ff-only', 'origin', 'develop');

  // production (blue) from the kept nodes: make up converges them (nothing to install)
  const up = await make('up');
  exits(t, up, 0, 'make up');
  t.equal(nodes().length, 7, 'seven nodes for blue');
  t.match(await healthz(80), { color: 'blue' }, 'production answers through the LB');
  t.comment(`production up (${since()})`);
});

t.test('two releases under load: 0 failed requests; a failed gate rolls back; old color minimal and replicating; git flow finished', async (t) => {
  const load = startLoad();
  t.teardown(() => void load.stop());

  const first = await runRecipe('qa-release', ['1.0.0', '--records', join(repo.dir, 'qa-1.0.0.ndjson')], opts);
  t.comment(`qa-release 1.0.0: ${(first.ms / 1000).toFixed(1)} s (${since()})`);
  exits(t, first, 0, 'qa-release 1.0.0');
  t.match(await healthz(8080), { color: 'green', version: '1.0.0' }, 'staged on green, through the staging frontend');
  t.match(await healthz(80), { color: 'blue' }, 'live traffic still on blue');
  const prod1 = await runRecipe('production-release', ['--records', join(repo.dir, 'prod-1.ndjson')], opts);
  t.comment(`production-release blue -> green: ${(prod1.ms / 1000).toFixed(1)} s (${since()})`);
  exits(t, prod1, 0, 'production-release blue -> green');
  t.match(await healthz(80), { color: 'green', version: '1.0.0' }, 'green is live');
  t.same(minimal('blue'), [1, 1, 1], 'blue on minimal resources: 1 app, 1 web node, its DB');
  await replicates(t, 'blue');
  t.ok(
    readRecords(join(repo.dir, 'prod-1.ndjson')).some((r) => r.kind === 'promotion' && r.status === 'done'),
    'a promotion record: done',
  );

  git(repo.work, 'pull', '-q', '--ff-only', 'origin', 'develop');
  writeFileSync(join(repo.work, 'CHANGES.md'), '1.1.0: tasting notes\n');
  git(repo.work, 'add', 'CHANGES.md');
  git(repo.work, 'commit', '-q', '-m', 'changes for 1.1.0');
  git(repo.work, 'push', '-q', 'origin', 'develop');
  const second = await runRecipe('qa-release', ['1.1.0'], opts);
  t.comment(`qa-release 1.1.0: ${(second.ms / 1000).toFixed(1)} s (${since()})`);
  exits(t, second, 0, 'qa-release 1.1.0');
  t.same(minimal('blue'), [2, 1, 1], 'blue scaled back up by its specs');

  // the new color fails a gate: its nginx stops once the first stage has passed
  const records = join(repo.dir, 'prod-failed.ndjson');
  const failing = startRecipe('production-release', ['--hold', '6s', '--records', records]);
  await waitFor('the first stage', () => readRecords(records).some((r) => r.kind === 'promotion' && r.status === 'shifted'), 120_000, failing);
  for (const web of nodes().filter((n) => n.group === 'blue-web')) t.equal((await onNode(web, 'systemctl stop nginx')).code, 0, `nginx stopped on ${web.id}`);
  exits(t, { code: await failing.code, stderr: failing.stderr }, 1, 'production-release with a failing gate');
  t.match(failing.stderr, /promote-color kept \(or rolled back\) all traffic on green; databases untouched/);
  t.ok(
    readRecords(records).some((r) => r.kind === 'promotion' && r.status === 'rolled-back'),
    'a promotion record: rolled-back',
  );
  t.notOk(
    readRecords(records).some((r) => r.kind === 'summary' && r.tool === 'run-actions'),
    'no DB phase ran',
  );
  t.match(await healthz(80), { color: 'green' }, 'all traffic back on green');
  await replicates(t, 'blue'); // green's DB is still the primary, blue's still its replica
  for (const web of nodes().filter((n) => n.group === 'blue-web')) await onNode(web, 'systemctl start nginx');
  for (let i = 0; i < 60 && (await healthz(8080))?.color !== 'blue'; i++) await new Promise((done) => setTimeout(done, 500));
  await new Promise((done) => setTimeout(done, 3000)); // HAProxy's checks see it UP (rise 2)

  const prod2 = await runRecipe('production-release', ['--records', join(repo.dir, 'prod-2.ndjson')], opts);
  t.comment(`production-release green -> blue: ${(prod2.ms / 1000).toFixed(1)} s (${since()})`);
  exits(t, prod2, 0, 'production-release green -> blue');
  t.match(await healthz(80), { color: 'blue', version: '1.1.0' }, 'blue is live with 1.1.0');
  t.same(minimal('green'), [1, 1, 1], 'green on minimal resources: 1 app, 1 web node, its DB');
  await replicates(t, 'green');

  const totals = await load.stop();
  t.comment(
    `wrk through the LB across both releases and the rollback: ${totals.requests} requests, ${totals.non2xx} non-2xx, ${totals.socketErrors} socket errors`,
  );
  t.ok(totals.requests > 1000, totals.requests > 1000 ? 'wrk kept the load on' : totals.text);
  const failed = totals.non2xx + totals.socketErrors;
  t.equal(failed, 0, failed === 0 ? '0 failed requests across both releases and the rollback' : totals.text);

  for (const tag of ['v1.0.0', 'v1.1.0']) {
    for (const branch of ['master', 'develop'])
      t.equal(spawnSync('git', ['merge-base', '--is-ancestor', tag, branch], { cwd: repo.origin }).status, 0, `${tag} merged into ${branch}`);
  }
  t.equal(git(repo.origin, 'branch', '--list', 'release/*'), '', 'no release branch left');
  const again = await runRecipe('qa-release', ['1.0.0'], opts);
  exits(t, again, 65, 'a second qa-release 1.0.0');
  t.match(again.stderr, /release 1\.0\.0 is already finished: tag v1\.0\.0 is on [0-9a-f]{10}, merged into master/);
});

t.test('a release candidate whose /healthz fails stops before merging', async (t) => {
  git(repo.work, 'pull', '-q', '--ff-only', 'origin', 'develop');
  const app = join(repo.work, 'app', 'src', 'app.ts');
  const source = readFileSync(app, 'utf8');
  t.match(source, "'/healthz'");
  writeFileSync(app, source.replace("'/healthz'", "'/healthz-broken'"));
  git(repo.work, 'commit', '-q', '-am', 'break /healthz');
  git(repo.work, 'push', '-q', 'origin', 'develop');
  const masterBefore = git(repo.origin, 'rev-parse', 'master');
  const run = await runRecipe('qa-release', ['1.2.0', '--health-timeout', '20'], { ...opts, env: { ...env, WINE_CELLAR_READY_TIMEOUT_S: '20' } });
  t.comment(`qa-release of a broken candidate: ${(run.ms / 1000).toFixed(1)} s (${since()})`);
  exits(t, run, 1, 'qa-release of the broken candidate');
  t.equal(git(repo.origin, 'rev-parse', 'master'), masterBefore, 'nothing merged');
  t.equal(git(repo.origin, 'tag', '--list', 'v1.2.0'), '', 'no tag');
  t.not(git(repo.origin, 'branch', '--list', 'release/1.2.0'), '', 'the release branch stays');
  t.equal(count('green-app'), 0, 'the app nodes that got the candidate are torn down');
  t.equal(count('green-db'), 1, "green's DB (blue's replica) is kept");
  t.match(await healthz(80), { color: 'blue', version: '1.1.0' }, 'production untouched');
});
