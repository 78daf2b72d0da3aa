import t from 'tap';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { runBinary } from '@forklift/testkit';
import { forceClean, leftovers, machineOf, sshRun, testHome } from './helpers.js';

const execFileAsync = promisify(execFile);

// the first test of a CI run may build the rootfs (about a minute idle, much longer on a loaded machine)
t.setTimeout(25 * 60_000);

t.test('nspawn local service - 3 nodes answer SSH, scale to 1 destroys the two newest, 0 leaves nothing', async (t) => {
  const { home, env } = await testHome('nspawn');
  const machines = new Set<string>();
  t.teardown(async () => {
    await runBinary('provision-node', ['local', '0', '--group', 'web'], { env, timeoutMs: 120_000 }).catch(() => undefined);
    await forceClean(home);
    await rm(home, { recursive: true, force: true });
  });

  const up = await runBinary('provision-node', ['local', '3', '--group', 'web'], { env, timeoutMs: 580_000 });
  t.equal(up.exitCode, 0, 'provision-node local 3 exits 0', { stderr: up.stderr });
  const nodes = up.records.filter((record) => record.kind === 'node');
  t.same(
    nodes.map((node) => node.id),
    ['web-1', 'web-2', 'web-3'],
    'three node records in id order',
  );
  t.match(up.records.at(-1), { kind: 'summary', ok: true, counts: { nodes: 3, created: 3, destroyed: 0 } });
  for (const node of nodes) {
    t.match(node, { provider: 'nspawn', service: 'local', group: 'web', user: 'root', port: 22, state: 'running', os: { family: 'debian', release: '12' } });
    t.match(node.hostKey, /^ssh-ed25519 [A-Za-z0-9+/=]+$/, `${node.id} has a pinned host key`);
    machines.add(String((node.tags as Record<string, string>).machine));
  }
  t.equal(new Set(nodes.map((node) => node.address)).size, 3, 'three distinct addresses');

  for (const node of nodes) {
    const out = await sshRun(
      node,
      'hostname; systemctl is-system-running --wait; test -s /etc/ssh/ssh_host_ed25519_key && echo own-key; getent hosts "$(hostname)"',
      home,
    );
    t.match(
      out,
      new RegExp(`^${String(node.id)}\\n(running|degraded)\\nown-key\\n127\\.0\\.1\\.1\\s+${String(node.id)}\\n$`),
      `${node.id}: real command over SSH sees its own hostname (resolvable) and a booted systemd`,
    );
  }

  const listed = await runBinary('provision-node', ['local', '--list', '--group', 'web'], { env });
  t.same(
    listed.records.filter((record) => record.kind === 'node'),
    nodes,
    '--list writes the same records',
  );

  const down = await runBinary('provision-node', ['local', '1', '--group', 'web'], { env, timeoutMs: 120_000 });
  t.equal(down.exitCode, 0, 'scale to 1 exits 0', { stderr: down.stderr });
  t.same(
    down.records.filter((record) => record.kind === 'node'),
    [nodes[0]],
    'the oldest node is kept, unchanged',
  );
  t.match(down.records.at(-1), { kind: 'summary', counts: { nodes: 1, created: 0, destroyed: 2 } });
  t.match(await sshRun(nodes[0]!, 'hostname', home), /^web-1\n$/, 'the kept node still answers');

  const zero = await runBinary('provision-node', ['local', '0', '--group', 'web'], { env, timeoutMs: 120_000 });
  t.equal(zero.exitCode, 0, 'scale to 0 exits 0', { stderr: zero.stderr });
  t.equal(zero.records.filter((record) => record.kind === 'node').length, 0, 'no node record after 0');
  t.same(await leftovers(home, [...machines]), [], 'no mounts, links, cgroups, processes or leases left');
});

t.test('nspawn local service - a veth left by an earlier node of the same name does not stop the node', async (t) => {
  const { home, env } = await testHome('nspawn-stale-veth');
  const machine = machineOf(home, 'local', 'web-1');
  const stale = `vb-${machine}`;
  t.teardown(async () => {
    await runBinary('provision-node', ['local', '0', '--group', 'web'], { env, timeoutMs: 120_000 }).catch(() => undefined);
    await execFileAsync('ip', ['link', 'del', stale]).catch(() => undefined);
    await forceClean(home);
    await rm(home, { recursive: true, force: true });
  });
  // what the kernel sometimes leaves for a while after a node is destroyed: its host-side veth, named after the machine
  await execFileAsync('ip', ['link', 'add', stale, 'type', 'veth', 'peer', 'name', `vp-${machine}`]);

  const up = await runBinary('provision-node', ['local', '1', '--group', 'web'], { env, timeoutMs: 580_000 });
  t.equal(up.exitCode, 0, 'provision-node local 1 exits 0', { stderr: up.stderr });
  t.match(up.stderr, `removed ${stale}`, 'it says it removed the stale link');
  const node = up.records.find((record) => record.kind === 'node');
  t.equal((node?.tags as Record<string, string> | undefined)?.machine, machine, 'the node is the machine the link was named after');
  t.match(await sshRun(node!, 'hostname', home), /^web-1\n$/, 'and it answers SSH');

  const zero = await runBinary('provision-node', ['local', '0', '--group', 'web'], { env, timeoutMs: 120_000 });
  t.equal(zero.exitCode, 0, 'scale to 0 exits 0', { stderr: zero.stderr });
  t.same(await leftovers(home, [machine]), [], 'no mounts, links, cgroups, processes or leases left');
});
