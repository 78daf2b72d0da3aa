import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runBinary, spawnBinary } from '@forklift/testkit';
import { forceClean, leftovers, machineOf, sshRun, testHome } from './helpers.js';

// the first test of a CI run may build the rootfs (about a minute idle, much longer on a loaded machine)
t.setTimeout(25 * 60_000);

t.test('nspawn kill -9 in the middle of creating - the next call cleans the half-made nodes and converges', async (t) => {
  const { home, env } = await testHome('crash');
  t.teardown(async () => {
    await runBinary('provision-node', ['local', '0', '--group', 'k'], { env, timeoutMs: 120_000 }).catch(() => undefined);
    await forceClean(home);
    await rm(home, { recursive: true, force: true });
  });
  const nodesDir = join(home, 'state', 'local', 'nodes');
  const first = spawnBinary('provision-node', ['local', '3', '--group', 'k'], { env, timeoutMs: 580_000 });
  // kill once nspawn runs for some node but before all of them answered SSH
  const deadline = Date.now() + 500_000;
  for (;;) {
    const dirs = existsSync(nodesDir) ? readdirSync(nodesDir) : [];
    if (dirs.some((id) => existsSync(join(nodesDir, id, 'pid')))) break;
    if (Date.now() > deadline) throw new Error(`no node started: ${first.output().stderr}`);
    await sleep(20);
  }
  const readyBefore = readdirSync(nodesDir).filter((id) => existsSync(join(nodesDir, id, 'ready'))).length;
  first.child.kill('SIGKILL');
  const killed = await first.result;
  t.equal(killed.signal, 'SIGKILL', 'provision-node died by SIGKILL');
  t.ok(readyBefore < 3, 'it died before all nodes were ready', { readyBefore });

  const again = await runBinary('provision-node', ['local', '2', '--group', 'k'], { env, timeoutMs: 300_000 });
  t.equal(again.exitCode, 0, 'the next call exits 0', { stderr: again.stderr });
  const nodes = again.records.filter((record) => record.kind === 'node');
  t.equal(nodes.length, 2, 'exactly two nodes');
  t.same(readdirSync(nodesDir).sort(), nodes.map((node) => node.id).sort(), 'no half-made node directory is left');
  for (const node of nodes) t.match(await sshRun(node, 'hostname', home), new RegExp(`^${String(node.id)}\\n$`), `${node.id} answers SSH`);

  const zero = await runBinary('provision-node', ['local', '0', '--group', 'k'], { env, timeoutMs: 120_000 });
  t.equal(zero.exitCode, 0, 'teardown exits 0', { stderr: zero.stderr });
  const machines = ['k-1', 'k-2', 'k-3', 'k-4'].map((id) => machineOf(home, 'local', id));
  t.same(await leftovers(home, machines), [], 'no mounts, links, cgroups, processes or leases left');
});

t.test('nspawn two concurrent "provision-node local 2 --group g" - exactly two nodes', async (t) => {
  const { home, env } = await testHome('race');
  t.teardown(async () => {
    await runBinary('provision-node', ['local', '0', '--group', 'g'], { env, timeoutMs: 120_000 }).catch(() => undefined);
    await forceClean(home);
    await rm(home, { recursive: true, force: true });
  });
  const [a, b] = await Promise.all([
    runBinary('provision-node', ['local', '2', '--group', 'g'], { env, timeoutMs: 300_000 }),
    runBinary('provision-node', ['local', '2', '--group', 'g'], { env, timeoutMs: 300_000 }),
  ]);
  t.equal(a.exitCode, 0, 'first exits 0', { stderr: a.stderr });
  t.equal(b.exitCode, 0, 'second exits 0', { stderr: b.stderr });
  const idsA = a.records.filter((record) => record.kind === 'node').map((node) => node.id);
  const idsB = b.records.filter((record) => record.kind === 'node').map((node) => node.id);
  t.same(idsA, ['g-1', 'g-2'], 'first writes g-1 g-2');
  t.same(idsB, ['g-1', 'g-2'], 'second writes the same two');
  const created = [a, b].map((result) => (result.records.at(-1)!.counts as Record<string, number>).created).sort();
  t.same(created, [0, 2], 'one call created both, the other none');
  const listed = await runBinary('provision-node', ['local', '--list', '--group', 'g'], { env });
  t.equal(listed.records.filter((record) => record.kind === 'node').length, 2, '--list shows exactly two');

  await runBinary('provision-node', ['local', '0', '--group', 'g'], { env, timeoutMs: 120_000 });
  const machines = ['g-1', 'g-2', 'g-3', 'g-4'].map((id) => machineOf(home, 'local', id));
  t.same(await leftovers(home, machines), [], 'nothing left after 0');
});

t.test('nspawn SIGINT in the middle of creating - exit 130, the half-made nodes and the bridge are removed', async (t) => {
  const { home, env } = await testHome('sigint');
  t.teardown(async () => {
    await runBinary('provision-node', ['local', '0', '--group', 'i'], { env, timeoutMs: 120_000 }).catch(() => undefined);
    await forceClean(home);
    await rm(home, { recursive: true, force: true });
  });
  const nodesDir = join(home, 'state', 'local', 'nodes');
  const run = spawnBinary('provision-node', ['local', '2', '--group', 'i'], { env, timeoutMs: 300_000 });
  const deadline = Date.now() + 280_000;
  while (!(existsSync(nodesDir) && readdirSync(nodesDir).some((id) => existsSync(join(nodesDir, id, 'pid'))))) {
    if (Date.now() > deadline) throw new Error(`no node started: ${run.output().stderr}`);
    await sleep(20);
  }
  run.child.kill('SIGINT');
  const result = await run.result;
  t.equal(result.exitCode, 130, 'exit 130', { stderr: result.stderr });
  t.match(result.stderr, /interrupted by SIGINT/);
  t.same(existsSync(nodesDir) ? readdirSync(nodesDir) : [], [], 'no node directory left');
  const machines = ['i-1', 'i-2'].map((id) => machineOf(home, 'local', id));
  t.same(await leftovers(home, machines), [], 'no mounts, links, cgroups, processes or leases left');
});
