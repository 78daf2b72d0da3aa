// The recipe machinery end to end on real netns nodes and real git, with the mini project
// (test/fixtures/mini: one tier per color, a file deployed from the build, an expect-run test):
// dev-qa merges a passing feature branch into develop --no-ff and pushes; a branch that breaks the
// acceptance test is not merged (exit 1) and leaves no node; a merged branch is refused (65); dev
// runs the tests, re-runs an edited test file while watching, keeps the node on Ctrl-C and --down
// removes it; usage errors are one line and exit 64.
import t from 'tap';
import { appendFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { branchWith, destroyGroups, git, listNodes, makeRepo, readRecords, RECIPES, removeDir, runRecipe } from './helpers.js';

const repo = makeRepo();
const devQaHome = join(repo.home, 'envs', 'dev-qa');
const devHome = join(repo.home, 'envs', 'dev');
t.teardown(() => {
  destroyGroups(devQaHome, 'netns', ['blue-web']);
  destroyGroups(devHome, 'netns', ['mini']);
  removeDir(repo.dir);
});
const opts = { cwd: repo.work, env: repo.env };

t.test('usage - --help, a missing BRANCH, an unknown option, a bad service', async (t) => {
  const help = await runRecipe('dev-qa', ['--help'], opts);
  t.equal(help.code, 0);
  t.match(help.stdout, /^dev-qa BRANCH — /);
  t.match(help.stdout, /Exit codes: 0 done/);
  const missing = await runRecipe('dev-qa', [], opts);
  t.equal(missing.code, 64);
  t.equal(missing.stderr, 'dev-qa: missing BRANCH (see dev-qa --help)\n');
  t.equal(missing.stdout, '', 'a usage error writes no record');
  const unknown = await runRecipe('qa-release', ['1.0.0', '--servce', 'x'], opts);
  t.equal(unknown.code, 64);
  t.match(unknown.stderr, /unknown option --servce \(did you mean --service\?\)/);
  const service = await runRecipe('dev-qa', ['feature/x', '--service', 'a b'], opts);
  t.equal(service.code, 64);
  t.match(service.stderr, /--service "a b" is not a service name/);
  const version = await runRecipe('qa-release', ['one'], opts);
  t.equal(version.code, 64);
  t.match(version.stderr, /VERSION must look like 1\.2\.0/);
});

t.test('refusals - a finished release, nothing staged, no production to release to', async (t) => {
  const home = ['--service', 'netns', '--home', join(repo.dir, 'production')];
  git(repo.work, 'tag', '-a', 'v0.9.0', '-m', 'Release 0.9.0', 'master');
  git(repo.work, 'push', '-q', 'origin', 'v0.9.0');
  const finished = await runRecipe('qa-release', ['0.9.0', ...home], opts);
  t.equal(finished.code, 65);
  t.match(finished.stderr, /qa-release: release 0\.9\.0 is already finished: tag v0\.9\.0 is on [0-9a-f]{10}, merged into master/);
  t.match(JSON.parse(finished.stdout.trim()), { kind: 'summary', tool: 'qa-release', ok: false, exitCode: 65 });
  const nothing = await runRecipe('production-release', home, opts);
  t.equal(nothing.code, 65);
  t.match(nothing.stderr, /nothing is staged for mini — run qa-release VERSION first/);
  const noLb = await runRecipe('qa-release', ['1.0.0', ...home], opts);
  t.equal(noLb.code, 69);
  t.match(noLb.stderr, /bring production up first/);
  t.equal(git(repo.origin, 'branch', '--list', 'release/*'), '', 'no release branch started');
});

t.test('dev-qa - a passing feature branch is merged into develop with --no-ff and pushed', async (t) => {
  const feature = branchWith(repo, 'feature/readme', { 'NOTES.md': 'a feature\n' }, 'feature: notes');
  const before = git(repo.origin, 'rev-parse', 'develop');
  const records = join(repo.dir, 'dev-qa-pass.ndjson');
  const run = await runRecipe('dev-qa', ['feature/readme', '--service', 'netns', '--records', records], opts);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stderr, /dev-qa: ✓ acceptance tests \(\d/);
  t.match(run.stderr, /dev-qa: ✓ merge feature\/readme into develop \(--no-ff\) and push/);
  const after = git(repo.origin, 'rev-parse', 'develop');
  t.not(after, before);
  t.equal(git(repo.origin, 'rev-parse', `${after}^1`), before, 'first parent: develop as it was');
  t.equal(git(repo.origin, 'rev-parse', `${after}^2`), feature, 'second parent: the tested feature commit (no fast-forward)');
  t.match(git(repo.origin, 'log', '-1', '--format=%s', after), "Merge branch 'feature/readme' into develop");
  const saved = readRecords(records);
  t.ok(
    saved.some((r) => r.kind === 'node'),
    'node records kept',
  );
  t.ok(
    saved.some((r) => r.kind === 'test' && r.status === 'passed'),
    'test records kept',
  );
  t.match(saved.at(-1), { kind: 'summary', tool: 'dev-qa', ok: true, counts: { failed: 0 } });
  t.match(JSON.parse(run.stdout.trim()), { kind: 'summary', tool: 'dev-qa', ok: true });
  t.same(listNodes(devQaHome, 'netns'), [], 'the nodes are torn down');
  t.same(
    git(repo.work, 'worktree', 'list', '--porcelain')
      .split('\n')
      .filter((l) => l.startsWith('worktree ')).length,
    1,
    'no worktree left',
  );
});

t.test('dev-qa - a branch that breaks the acceptance test is not merged, exit 1, no node left', async (t) => {
  branchWith(repo, 'feature/goodbye', { 'app/greeting.txt': 'Goodbye\n' }, 'feature: a new greeting, tests not updated');
  const before = git(repo.origin, 'rev-parse', 'develop');
  const records = join(repo.dir, 'dev-qa-fail.ndjson');
  const run = await runRecipe('dev-qa', ['feature/goodbye', '--service', 'netns', '--records', records], opts);
  t.equal(run.code, 1, run.stderr);
  t.match(run.stderr, /dev-qa: ✗ acceptance tests .* expect-run reported ok:false/);
  t.match(run.stderr, /expected "Hello from mini\\n" was "Goodbye\\n"/);
  t.match(run.stderr, /dev-qa: FAILED \(exit 1\) at "acceptance tests"/);
  t.notMatch(run.stderr, /merge feature\/goodbye/);
  t.equal(git(repo.origin, 'rev-parse', 'develop'), before, 'develop unchanged on origin');
  t.same(listNodes(devQaHome, 'netns'), [], 'its nodes are gone');
  const saved = readRecords(records);
  t.ok(saved.some((r) => r.kind === 'test' && r.status === 'failed'));
  t.match(saved.at(-1), { kind: 'summary', tool: 'dev-qa', ok: false, exitCode: 1 });
});

t.test('dev-qa - a branch already merged is refused (65), nothing runs', async (t) => {
  const run = await runRecipe('dev-qa', ['feature/readme', '--service', 'netns'], opts);
  t.equal(run.code, 65);
  t.match(run.stderr, /feature\/readme \([0-9a-f]{10}\) is already merged into develop: nothing to test/);
  t.notMatch(run.stderr, /provision/);
});

t.test('dev - tests pass, an edited test file re-runs while watching, Ctrl-C keeps the node, --down removes it', async (t) => {
  const records = join(repo.dir, 'dev.ndjson');
  const child = spawn(process.execPath, [join(RECIPES, 'dev.mjs'), '--service', 'netns', '--records', records], {
    cwd: repo.work,
    env: { ...process.env, ...repo.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const closed = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  const waitFor = async (what: string, check: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr:\n${stderr}`);
      await new Promise((done) => setTimeout(done, 50));
    }
  };
  const tests = () => readRecords(records).filter((r) => r.kind === 'test');
  await waitFor('the first run', () => tests().some((r) => r.run === 1), 5 * 60_000);
  t.same(
    tests().map((r) => [r.run, r.status]),
    [[1, 'passed']],
    'the first run passes',
  );
  await new Promise((done) => setTimeout(done, 500)); // expect-run is watching once its run is reported
  const saved = Date.now();
  appendFileSync(join(repo.work, 'test', 'greeting.expect.mjs'), '// saved again\n');
  await waitFor('the re-run', () => tests().some((r) => r.run === 2), 60_000);
  const rerunMs = Date.now() - saved;
  t.comment(`edited test re-ran ${rerunMs} ms after the save`);
  t.match(
    tests().filter((r) => r.run === 2),
    [{ status: 'passed', file: 'test/greeting.expect.mjs' }],
  );
  child.kill('SIGINT');
  t.equal(await closed, 130, 'Ctrl-C ends watching with 130');
  t.match(stderr, /dev: interrupted \(exit 130\)/);
  t.equal(listNodes(devHome, 'netns').length, 1, 'the node stays up');
  const down = await runRecipe('dev', ['--service', 'netns', '--down'], opts);
  t.equal(down.code, 0, down.stderr);
  t.same(listNodes(devHome, 'netns'), [], '--down leaves nothing');
});
