import { existsSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { runBinary, spawnBinary } from '@forklift/testkit';
import { detectAccel } from '../src/providers/qemu-accel.js';
import { findQemuPid } from '../src/providers/qemu-process.js';
import { processCommandLine } from '../src/process.js';
import { forceClean, leftovers, machineOf, sshRun, testHome } from './helpers.js';

const execFileAsync = promisify(execFile);

// a TCG boot takes minutes on a busy 2-core box, and the first run also builds the kernel rootfs and the base image
t.setTimeout(45 * 60_000);

t.test('qemu vmfest service - one VM boots by direct kernel boot, answers SSH with its pinned host key, and teardown leaves nothing', async (t) => {
  for (const command of ['qemu-system-x86_64', 'qemu-img', 'mkfs.ext4', 'ssh']) {
    const found = await execFileAsync('sh', ['-c', `command -v ${command}`]).then(
      () => true,
      () => false,
    );
    t.ok(found, `${command} is installed (apt-get install qemu-system-x86 qemu-utils e2fsprogs openssh-client)`);
  }
  const { home, env } = await testHome('qemu');
  const machines: string[] = [];
  t.teardown(async () => {
    await runBinary('provision-node', ['vmfest', '0', '--group', 'vm'], { env, timeoutMs: 120_000 }).catch(() => undefined);
    for (const machine of machines) await execFileAsync('ip', ['link', 'del', machine]).catch(() => undefined);
    await forceClean(home);
    await rm(home, { recursive: true, force: true });
  });

  const started = performance.now();
  const up = await runBinary('provision-node', ['vmfest', '1', '--group', 'vm'], { env, timeoutMs: 40 * 60_000 });
  const seconds = (performance.now() - started) / 1000;
  t.comment(`provision-node vmfest 1: ${seconds.toFixed(1)} s (includes building the kernel rootfs and base image when not cached)`);
  t.comment(up.stderr.trim());
  t.equal(up.exitCode, 0, 'provision-node vmfest 1 exits 0', { stderr: up.stderr });
  const nodes = up.records.filter((record) => record.kind === 'node');
  t.equal(nodes.length, 1, 'one node record');
  const node = nodes[0]!;
  const { accel } = await detectAccel();
  t.match(node, {
    id: 'vm-1',
    group: 'vm',
    service: 'vmfest',
    provider: 'qemu',
    user: 'root',
    port: 22,
    state: 'running',
    os: { family: 'debian', release: '12' },
    tags: { network: 'bridge', accel },
  });
  const machine = String((node.tags as Record<string, string>).machine);
  machines.push(machine);
  const dir = join(home, 'state', 'vmfest', 'nodes', 'vm-1');

  const pinned = (await readFile(join(dir, 'creds', 'forklift.hostkey.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  t.equal(node.hostKey, pinned, 'the pinned host key is the one generated for the clone before boot');
  const pid = findQemuPid(dir);
  t.ok(pid, 'a qemu process runs for the node');
  t.match(processCommandLine(pid!) ?? '', new RegExp(`accel=${accel}.* -m 512 `), `qemu runs with ${accel} and 512 MiB`);
  t.ok(existsSync(join(dir, 'disk.qcow2')), 'the node has its own copy-on-write clone');
  const { stdout: backing } = await execFileAsync('qemu-img', ['info', '--output=json', '-U', join(dir, 'disk.qcow2')]);
  t.match(
    JSON.parse(backing),
    { format: 'qcow2', 'backing-filename-format': 'qcow2', 'backing-filename': /base\.qcow2$/ },
    'the clone is backed by the base qcow2',
  );
  const { stdout: link } = await execFileAsync('ip', ['-o', 'link', 'show', 'dev', machine]);
  t.match(link, /master flbr[0-9a-f]+/, 'the tap is on the bridge');

  const out = await sshRun(
    node,
    'hostname; systemctl is-system-running --wait; uname -r; cat /sys/class/dmi/id/sys_vendor; free -m | awk "/^Mem:/{print \\$2}"',
    home,
  );
  const [hostname, state, kernel, vendor, memory] = out.trim().split('\n');
  t.equal(hostname, 'vm-1', 'the VM has its id as hostname');
  t.match(state, /^(running|degraded)$/, 'systemd booted in the VM');
  t.match(kernel, /^\d+\.\d+\.\d+-\d+-amd64$/, "the VM runs Debian's own kernel");
  t.equal(vendor, 'QEMU', 'the node is a QEMU machine');
  t.ok(Number(memory) > 256 && Number(memory) <= 512, `the VM has at most 512 MiB (${memory})`);
  const proxy = await sshRun(node, 'cat /etc/apt/apt.conf.d/01forklift-proxy', home);
  t.match(proxy, /^Acquire::http::Proxy "http:\/\/10\.\d+\.\d+\.1:3142";/, 'apt in the VM goes through the proxy on the bridge');

  const listed = await runBinary('provision-node', ['vmfest', '--list', '--group', 'vm'], { env });
  t.same(
    listed.records.filter((record) => record.kind === 'node'),
    nodes,
    '--list writes the same record',
  );

  const zero = await runBinary('provision-node', ['vmfest', '0', '--group', 'vm'], { env, timeoutMs: 120_000 });
  t.equal(zero.exitCode, 0, 'vmfest 0 exits 0', { stderr: zero.stderr });
  t.equal(zero.records.filter((record) => record.kind === 'node').length, 0, 'no node record after 0');
  t.notOk(findQemuPid(dir), 'the qemu process is gone');
  t.notOk(existsSync(dir), 'the clone and the node directory are gone');
  t.same(await leftovers(home, machines), [], 'no tap, bridge, process or lease left');
});

t.test('qemu kill -9 of provision-node while a VM boots - the next call stops its qemu and removes tap, lease and clone', async (t) => {
  const { home, env } = await testHome('qemu-crash');
  const machine = machineOf(home, 'vmfest', 'vk-1');
  t.teardown(async () => {
    await runBinary('provision-node', ['vmfest', '0', '--group', 'vk'], { env, timeoutMs: 120_000 }).catch(() => undefined);
    await execFileAsync('ip', ['link', 'del', machine]).catch(() => undefined);
    await forceClean(home);
    await rm(home, { recursive: true, force: true });
  });
  const dir = join(home, 'state', 'vmfest', 'nodes', 'vk-1');
  const first = spawnBinary('provision-node', ['vmfest', '1', '--group', 'vk'], { env, timeoutMs: 40 * 60_000 });
  // kill once qemu runs (it is daemonized: it outlives provision-node) but long before the guest answers SSH
  const deadline = Date.now() + 30 * 60_000;
  while (findQemuPid(dir) === undefined) {
    if (Date.now() > deadline) throw new Error(`no qemu started: ${first.output().stderr}`);
    await sleep(100);
  }
  const orphan = findQemuPid(dir)!;
  first.child.kill('SIGKILL');
  t.equal((await first.result).signal, 'SIGKILL', 'provision-node died by SIGKILL');
  t.notOk(existsSync(join(dir, 'ready')), 'it died before the VM answered SSH');
  t.ok(processCommandLine(orphan)?.includes('qemu-system'), 'its qemu outlived it');

  const zero = await runBinary('provision-node', ['vmfest', '0', '--group', 'vk'], { env, timeoutMs: 120_000 });
  t.equal(zero.exitCode, 0, 'the next call (count 0) exits 0', { stderr: zero.stderr });
  t.match(zero.stderr, /cleaning 1 half-made node\(s\): vk-1/, 'it reports the half-made VM');
  t.notOk(processCommandLine(orphan)?.includes('qemu-system'), 'the orphaned qemu is stopped');
  const nodesDir = join(home, 'state', 'vmfest', 'nodes');
  t.same(existsSync(nodesDir) ? readdirSync(nodesDir) : [], [], 'the clone and node directory are gone');
  t.same(await leftovers(home, [machine]), [], 'no tap, bridge, process or lease left');
});
