import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnBinary, startSshd, toNdjson, runBinary } from '@forklift/testkit';
import { ofKind, processesWith, testPlan, waitFor } from './helpers.js';

function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'run-actions-signal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// a sleep with a duration no other process uses, so the test can find it in /proc
function uniqueSleep(): string {
  return String(5000 + Math.floor(Math.random() * 4000)) + '.' + String(Math.floor(Math.random() * 1e6));
}

function wrapperDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('forklift-run.'));
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  t.test(`run-actions - ${signal} mid-run ends the remote script, writes records so far and the summary, exits ${code}`, async (t) => {
    const dir = scratch(t);
    const sshd = await startSshd({ id: 'long' });
    t.teardown(sshd.stop);
    const sleep = uniqueSleep();
    const t0 = wrapperDirs();
    const plan = testPlan(sshd.node, 'configure', [
      { id: 'quick', body: 'echo quick' },
      { id: 'slow', body: `echo starting; sleep ${sleep}; touch ${dir}/finished` },
      { id: 'later', body: `touch ${dir}/later` },
    ]);
    const next = testPlan(sshd.node, 'install', [{ id: 'never', body: `touch ${dir}/never` }]);
    const run = spawnBinary('run-actions', [], { stdin: toNdjson([sshd.node, plan, next]) });
    t.teardown(() => {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    });
    // the first result streams out while the script still runs
    await waitFor(() => run.output().stdout.includes('"id":"quick"'), 60_000, 'the first result record');
    await waitFor(async () => (await processesWith(`sleep ${sleep}`)).length > 0, 20_000, 'the remote sleep');
    run.child.kill(signal);
    const result = await run.result;
    t.equal(result.exitCode, code, result.stderr);
    t.same(
      result.records.map((r) => [r.kind, r.kind === 'node' ? '' : (r.id ?? r.phase ?? '')]),
      [
        ['node', ''],
        ['result', 'quick'],
        ['result', 'slow'],
        ['result', 'later'],
        ['phase', 'configure'],
        ['summary', ''],
      ],
    );
    const results = ofKind(result.records, 'result');
    t.match(results[1], { status: 'failed', stdout: 'starting\n', stderr: new RegExp(`interrupted \\(${signal}\\) before this action finished`) });
    t.equal(results[2]!.status, 'skipped');
    t.match(result.records.at(-1), { kind: 'summary', ok: false });
    t.match(result.stderr, new RegExp(`RECAP \\(interrupted by ${signal}\\)\\nlong : ok=1 changed=0 failed=1 skipped=1`));
    await waitFor(async () => (await processesWith(`sleep ${sleep}`)).length === 0, 5_000, 'no remote process left');
    t.same(await processesWith(`sleep ${sleep}`), [], 'nothing left running on the node');
    t.notOk(existsSync(join(dir, 'finished')) || existsSync(join(dir, 'later')) || existsSync(join(dir, 'never')));
    t.same(
      wrapperDirs().filter((name) => !t0.includes(name)),
      [],
      "the wrapper's temp dir is gone",
    );
  });
}

t.test('run-actions - --timeout ends a slow phase script and fails that node', async (t) => {
  const dir = scratch(t);
  const sshd = await startSshd({ id: 'slowpoke' });
  t.teardown(sshd.stop);
  const sleep = uniqueSleep();
  const plan = testPlan(sshd.node, 'configure', [{ id: 'slow', body: `sleep ${sleep}; touch ${dir}/finished` }]);
  const run = await runBinary('run-actions', ['--timeout', '2'], { stdin: toNdjson([sshd.node, plan]) });
  t.equal(run.exitCode, 1);
  t.match(ofKind(run.records, 'result')[0], { id: 'slow', status: 'failed', stderr: /timed out after 2 s/ });
  await waitFor(async () => (await processesWith(`sleep ${sleep}`)).length === 0, 5_000, 'no remote process left');
  t.notOk(existsSync(join(dir, 'finished')));
});

t.test('run-actions - killed outright (SIGKILL), the dropped connection still ends the remote script', async (t) => {
  const dir = scratch(t);
  const sshd = await startSshd({ id: 'orphan' });
  t.teardown(sshd.stop);
  const sleep = uniqueSleep();
  const plan = testPlan(sshd.node, 'configure', [{ id: 'slow', body: `sleep ${sleep}; touch ${dir}/finished` }]);
  const run = spawnBinary('run-actions', [], { stdin: toNdjson([sshd.node, plan]) });
  await waitFor(async () => (await processesWith(`sleep ${sleep}`)).length > 0, 60_000, 'the remote sleep');
  run.child.kill('SIGKILL');
  await run.result;
  await waitFor(async () => (await processesWith(`sleep ${sleep}`)).length === 0, 10_000, 'the remote sleep to be killed');
  t.same(await processesWith(`sleep ${sleep}`), []);
  t.notOk(existsSync(join(dir, 'finished')));
});
