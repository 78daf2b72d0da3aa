import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError } from '@forklift/contract';
import { runBinary, spawnBinary } from '@forklift/testkit';
import { machineOf, sshRun } from './helpers.js';
import { provisionNodes } from '../src/provision.js';
import { LABEL } from '../src/providers/podman.js';
import { parsePodmanOptions } from '../src/providers/podman-options.js';

const SERVICE = 'podtest';

function podmanContainers(service = SERVICE): string[] {
  const out = execFileSync('podman', ['ps', '--all', '--filter', `label=${LABEL.service}=${service}`, '--format', '{{.Names}}'], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

t.test('podman provider - one node comes up, answers SSH with its pinned host key, and is removed', async (t) => {
  for (const command of ['podman', 'ssh']) {
    t.ok(existsSync(`/usr/bin/${command}`), `${command} is installed (apt-get install podman openssh-client)`);
  }
  const home = await mkdtemp(join(tmpdir(), 'forklift-podman-home-'));
  const cwd = await mkdtemp(join(tmpdir(), 'forklift-podman-cwd-'));
  await mkdir(join(cwd, 'services'));
  await writeFile(join(cwd, 'services', `${SERVICE}.json5`), "{ provider: 'podman' }\n");
  const env = { ...process.env, FORKLIFT_HOME: home, FORKLIFT_IMAGE_CACHE: process.env.FORKLIFT_IMAGE_CACHE ?? '/var/cache/forklift/images' };
  const options = { service: SERVICE, group: 'pods', home, cwd, env, log: (line: string) => t.comment(line) };
  t.teardown(async () => {
    await provisionNodes({ ...options, count: 0 }).catch((error: unknown) => t.comment(`teardown: ${String(error)}`));
    for (const name of podmanContainers()) execFileSync('podman', ['rm', '--force', '--time', '0', name]);
    await rm(home, { recursive: true, force: true });
    await rm(cwd, { recursive: true, force: true });
  });

  const started = performance.now();
  const nodes = await provisionNodes({ ...options, count: 1 });
  t.comment(`one podman node answered SSH in ${((performance.now() - started) / 1000).toFixed(1)} s (image import included when not cached)`);
  t.equal(nodes.length, 1, 'one node record');
  const node = nodes[0]!;
  t.match(node, { kind: 'node', id: 'pods-1', group: 'pods', service: SERVICE, provider: 'podman', user: 'root', state: 'running' });
  t.match(node.hostKey, /^ssh-ed25519 [A-Za-z0-9+/=]+$/, 'the host key is pinned');
  t.same(podmanContainers().length, 1, 'one container exists');

  const out = await sshRun(
    node,
    'hostname; systemctl is-system-running --wait || true; systemctl is-active ssh; . /etc/os-release; echo "$ID $VERSION_ID"',
    home,
  );
  const lines = out.trim().split('\n');
  t.equal(lines[0], 'pods-1', 'the node has its id as hostname');
  t.match(lines[1], /^(running|degraded)$/, 'systemd is the init and has booted');
  t.equal(lines[2], 'active', 'sshd runs as a systemd service');
  t.equal(lines[3], 'debian 12', 'the image is the Debian 12 rootfs');

  const again = await provisionNodes({ ...options, count: 1 });
  t.same(
    again.map((item) => item.hostKey),
    [node.hostKey],
    'converging again keeps the same node',
  );

  const none = await provisionNodes({ ...options, count: 0 });
  t.same(none, [], 'count 0 leaves no node');
  t.same(podmanContainers(), [], 'the container is gone');
  t.notOk(existsSync(join(home, 'state', SERVICE, 'nodes', 'pods-1')), 'the node state directory is gone');
});

t.test('podman options - an unknown option names the service file and the field', async (t) => {
  const error = (() => {
    try {
      parsePodmanOptions({ name: 'pods', provider: 'podman', options: { netwrk: 'publish' }, file: '/p/services/pods.json5' });
    } catch (caught) {
      return caught;
    }
    return undefined;
  })();
  t.type(error, InputError);
  t.match(String((error as Error).message), /\/p\/services\/pods\.json5: service field "options\.netwrk"/);
});

t.test('podman kill -9 of provision-node while creating - the next call removes the half-made node and converges', async (t) => {
  const service = 'podcrash';
  const home = await mkdtemp(join(tmpdir(), 'forklift-podcrash-home-'));
  const cwd = await mkdtemp(join(tmpdir(), 'forklift-podcrash-cwd-'));
  await mkdir(join(cwd, 'services'));
  await writeFile(join(cwd, 'services', `${service}.json5`), "{ provider: 'podman' }\n");
  const env = { FORKLIFT_HOME: home, FORKLIFT_IMAGE_CACHE: process.env.FORKLIFT_IMAGE_CACHE ?? '/var/cache/forklift/images' };
  t.teardown(async () => {
    await runBinary('provision-node', [service, '0', '--group', 'k'], { env, cwd, timeoutMs: 120_000 }).catch(() => undefined);
    for (const name of podmanContainers(service)) execFileSync('podman', ['rm', '--force', '--time', '0', name]);
    await rm(home, { recursive: true, force: true });
    await rm(cwd, { recursive: true, force: true });
  });
  const nodesDir = join(home, 'state', service, 'nodes');
  const first = spawnBinary('provision-node', [service, '2', '--group', 'k'], { env, cwd, timeoutMs: 300_000 });
  // kill as soon as the first container exists: before it (let alone the second) answered SSH
  const container = `forklift-${machineOf(home, service, 'k-1')}`;
  const deadline = Date.now() + 240_000;
  while (!podmanContainers(service).includes(container)) {
    if (Date.now() > deadline) throw new Error(`no container appeared: ${first.output().stderr}`);
    await sleep(100);
  }
  const readyBefore = readdirSync(nodesDir).filter((id) => existsSync(join(nodesDir, id, 'ready'))).length;
  first.child.kill('SIGKILL');
  t.equal((await first.result).signal, 'SIGKILL', 'provision-node died by SIGKILL');
  t.ok(readyBefore < 2, 'it died before both nodes were ready', { readyBefore });

  const again = await runBinary('provision-node', [service, '1', '--group', 'k'], { env, cwd, timeoutMs: 240_000 });
  t.equal(again.exitCode, 0, 'the next call exits 0', { stderr: again.stderr });
  const nodes = again.records.filter((record) => record.kind === 'node');
  t.equal(nodes.length, 1, 'exactly one node');
  t.same(podmanContainers(service).length, 1, 'exactly one container');
  t.same(
    readdirSync(nodesDir),
    nodes.map((node) => node.id),
    'no half-made node directory is left',
  );
  t.match(await sshRun(nodes[0]!, 'hostname', home), new RegExp(`^${String(nodes[0]!.id)}\\n$`), 'the node answers SSH with its pinned key');

  const zero = await runBinary('provision-node', [service, '0', '--group', 'k'], { env, cwd, timeoutMs: 120_000 });
  t.equal(zero.exitCode, 0, 'teardown exits 0', { stderr: zero.stderr });
  t.same(podmanContainers(service), [], 'no container left');
  t.same(existsSync(nodesDir) ? readdirSync(nodesDir) : [], [], 'no node directory left');
});
