// The lxd provider against a real two-member LXD cluster started here (test/lxd-cluster.ts), shared
// by every case of this file: placement on both members, records with the member, run-actions on the
// nodes, scale down newest first, teardown leaving nothing, HTTPS with a trusted / untrusted client
// certificate and a wrong pinned server certificate, a member cut off, kill -9 mid-create, two
// concurrent converges, and options naming objects the cluster does not have.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { runBinary, spawnBinary } from '@forklift/testkit';
import { sshRun, IMAGE_CACHE } from './helpers.js';
import { clusterLeftovers, startLxdCluster, type LxdTestCluster } from './lxd-cluster.js';

const execFileAsync = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const provisionBin = join(repo, 'packages/provision-node/bin/provision-node.js');
const runActionsBin = join(repo, 'packages/run-actions/bin/run-actions.js');
const expectRunBin = join(repo, 'packages/expect-run/bin/expect-run.js');

// a fresh machine builds the Debian rootfs (and the LXD image from it) inside the first case
t.setTimeout(40 * 60_000);

const fileStarted = performance.now();
const home = await mkdtemp(join(tmpdir(), 'fl-lxd-home-'));
const project = await mkdtemp(join(tmpdir(), 'fl-lxd-project-'));
const env = { FORKLIFT_HOME: home, FORKLIFT_IMAGE_CACHE: IMAGE_CACHE };
let cluster: LxdTestCluster | undefined;
let stopped = false;
t.teardown(async () => {
  if (cluster && !stopped) await cluster.stop().catch((error: unknown) => console.error(`cluster stop: ${String(error)}`));
  await rm(home, { recursive: true, force: true });
  await rm(project, { recursive: true, force: true });
});
cluster = await startLxdCluster((line) => t.comment(line));
const c = cluster;
const [m1] = c.members;

/** Write services/NAME.json5 of the test project. */
async function service(name: string, options: Record<string, unknown>): Promise<void> {
  await mkdir(join(project, 'services'), { recursive: true });
  await writeFile(join(project, 'services', `${name}.json5`), JSON.stringify({ provider: 'lxd', options }, null, 2) + '\n');
}

await service('cloud', { endpoint: `unix:${m1!.socket}`, network: c.network, aptProxy: c.aptProxy });

function provision(args: string[], timeoutMs = 600_000) {
  return runBinary('provision-node', args, { env, cwd: project, timeoutMs });
}

const nodesOf = (records: Array<Record<string, unknown>>) => records.filter((record) => record.kind === 'node');
const summaryOf = (records: Array<Record<string, unknown>>) => records.at(-1) as { kind: string; ok: boolean; counts: Record<string, number> };

/** Our instances in the cluster right now (name → member). */
async function instances(prefix = 'fl-'): Promise<Map<string, string>> {
  const list = await c.api.get<{ name: string; location: string }[]>('/1.0/instances', { query: { recursion: '1' } });
  return new Map(list.filter((item) => item.name.startsWith(prefix)).map((item) => [item.name, item.location]));
}

const networksBefore = (await c.api.get<string[]>('/1.0/networks')).sort();

t.test('lxd cloud 4 --group web - nodes on both members, each record carries its member, SSH with the pinned host key', async (t) => {
  const started = performance.now();
  const result = await provision(['cloud', '4', '--group', 'web'], 30 * 60_000);
  t.equal(result.exitCode, 0, 'exit 0', { stderr: result.stderr });
  t.comment(`4 nodes in ${((performance.now() - started) / 1000).toFixed(1)} s (image build and import included on a fresh cache)`);
  const nodes = nodesOf(result.records);
  t.same(
    nodes.map((node) => node.id),
    ['web-1', 'web-2', 'web-3', 'web-4'],
    'four records in id order',
  );
  const placed = await instances();
  for (const node of nodes) {
    const tags = node.tags as Record<string, string>;
    t.match(node, { provider: 'lxd', service: 'cloud', group: 'web', user: 'root', port: 22, state: 'running' });
    t.match(node.hostKey, /^ssh-ed25519 \S+$/, `${node.id} has a pinned host key`);
    t.equal(tags.member, placed.get(tags.instance!), `${node.id}: tags.member is where the cluster says it runs (${tags.member})`);
    t.equal(await sshRun(node, 'hostname', home), `${String(node.id)}\n`, `${node.id} answers SSH with its pinned host key`);
  }
  t.same([...new Set(nodes.map((node) => (node.tags as Record<string, string>).member))].sort(), ['m1', 'm2'], 'nodes run on both members');
});

// the group spec groups/monitoring applies to group "monitoring" only: its server spec is what the web nodes get
t.test(
  'run-actions converges the monitoring example on the lxd nodes, expect-run tests them (provision-node cloud --list | run-actions .../servers/node-exporter | expect-run)',
  async (t) => {
    const pipeline = (command: string) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn('bash', ['-o', 'pipefail', '-c', command], { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (data: string) => (stdout += data));
        child.stderr.setEncoding('utf8').on('data', (data: string) => (stderr += data));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const command = `(cd ${project} && node ${provisionBin} cloud --list --group web) | node ${runActionsBin} examples/monitoring/servers/node-exporter`;
    const first = await pipeline(command);
    t.equal(first.code, 0, 'the pipeline exits 0', { stderr: first.stderr.slice(-3000) });
    const records = first.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const nodes = nodesOf(records);
    t.equal(nodes.length, 4, 'the four node records flow through');
    const results = records.filter((record) => record.kind === 'result');
    t.ok(results.length >= 4 * 5, 'result records for every node');
    t.ok(
      results.every((record) => record.status === 'changed'),
      'the first run changes every action',
    );
    for (const node of nodes) {
      const response = await fetch(`http://${String(node.address)}:9100/metrics`);
      t.equal(response.status, 200, `the node exporter answers on ${node.id}`);
      t.match(await response.text(), /node_uname_info/);
    }
    // lifted and tested the same way as on local: the whole pipe, expect-run at its end
    const again = await pipeline(`${command} | node ${expectRunBin} ${join(repo, 'packages/provision-node/test/fixtures/lxd/web.expect.mjs')}`);
    t.equal(again.code, 0, 'converging again and testing exits 0', { stderr: again.stderr.slice(-2000) });
    const out = again.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const second = out.filter((record) => record.kind === 'result');
    t.ok(second.length === results.length && second.every((record) => record.status === 'ok'), 'the second run reports only ok');
    const tests = out.filter((record) => record.kind === 'test');
    t.equal(tests.length, 5, 'expect-run ran the count expectation and one test per node');
    t.ok(
      tests.every((record) => record.status === 'passed'),
      'expect-run: every test passed',
    );
  },
);

t.test('lxd cloud 1 --group web - destroys the three newest, keeps web-1', async (t) => {
  const result = await provision(['cloud', '1', '--group', 'web']);
  t.equal(result.exitCode, 0, 'exit 0', { stderr: result.stderr });
  t.match(result.stderr, /destroying 3 node\(s\) of group web: web-4 web-3 web-2/, 'newest first');
  t.same(
    nodesOf(result.records).map((node) => node.id),
    ['web-1'],
  );
  t.match(summaryOf(result.records).counts, { nodes: 1, created: 0, destroyed: 3 });
  t.same(
    [...(await instances()).keys()].map((name) => name.split('-').slice(1, 3).join('-')),
    ['web-1'],
    'one instance left in the cluster',
  );
});

t.test('lxd cloud 0 --group web - no instance, image copy or network left behind', async (t) => {
  const result = await provision(['cloud', '0', '--group', 'web']);
  t.equal(result.exitCode, 0, 'exit 0', { stderr: result.stderr });
  t.same(nodesOf(result.records), []);
  t.same([...(await instances('')).keys()], [], 'no instance in the cluster');
  t.same(await c.api.get<string[]>('/1.0/images'), [], 'no image in the cluster');
  for (const member of ['m1', 'm2']) {
    const volumes = await c.api.get<string[]>('/1.0/storage-pools/local/volumes', { query: { target: member } });
    t.same(
      volumes.filter((url) => !url.includes('/custom/')),
      [],
      `no container or image volume on ${member}`,
    );
  }
  t.same((await c.api.get<string[]>('/1.0/networks')).sort(), networksBefore, 'the networks are the ones the cluster had');
});

t.test('lxd over HTTPS - a trusted client certificate works; an untrusted one is 69; a wrong pinned server certificate is refused', async (t) => {
  const certs = join(project, 'certs');
  await mkdir(certs, { recursive: true });
  for (const name of ['trusted', 'stranger']) {
    await execFileAsync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:secp384r1',
      '-nodes',
      '-keyout',
      join(certs, `${name}.key`),
      '-out',
      join(certs, `${name}.crt`),
      '-days',
      '2',
      '-subj',
      `/CN=forklift-${name}`,
    ]);
  }
  const trusted = new X509Certificate(readFileSync(join(certs, 'trusted.crt')));
  await c.api.call('POST', '/1.0/certificates', {
    body: { type: 'client', name: 'forklift-test', certificate: trusted.raw.toString('base64') },
    project: null,
  });
  const https = {
    endpoint: c.httpsUrl,
    network: c.network,
    aptProxy: c.aptProxy,
    clientCert: 'certs/trusted.crt',
    clientKey: 'certs/trusted.key',
    serverCert: c.clusterCert,
  };
  // relative certificate paths resolve against the project (the parent of services/)
  await service('tls', { ...https, clientCert: '../certs/trusted.crt', clientKey: '../certs/trusted.key' });
  await service('stranger', { ...https, clientCert: '../certs/stranger.crt', clientKey: '../certs/stranger.key' });
  await service('wrongpin', { ...https, clientCert: '../certs/trusted.crt', clientKey: '../certs/trusted.key', serverCert: '../certs/stranger.crt' });

  const made = await provision(['tls', '1', '--group', 'h']);
  t.equal(made.exitCode, 0, 'a node over HTTPS: exit 0', { stderr: made.stderr });
  const [node] = nodesOf(made.records);
  t.equal(await sshRun(node!, 'hostname', home), 'h-1\n', 'it answers SSH');

  const stranger = await provision(['stranger', '1', '--group', 's']);
  t.equal(stranger.exitCode, 69, 'an untrusted client certificate: exit 69');
  t.match(stranger.stderr, /does not trust the client certificate .*stranger\.crt.*lxc config trust add/, 'the message says what to do');
  t.equal(stranger.stderr.trim().split('\n').length, 1, 'one line on stderr');

  const wrong = await provision(['wrongpin', '--list']);
  t.equal(wrong.exitCode, 69, 'a wrong pinned server certificate: exit 69');
  t.match(wrong.stderr, /the server's certificate \(sha256 [0-9a-f]{64}\) is not the pinned serverCert .*stranger\.crt/, 'refused, with both fingerprints');
  t.same([...(await instances('fl-s-')).keys()], [], 'nothing was created for the refused services');

  const zero = await provision(['tls', '0', '--group', 'h']);
  t.equal(zero.exitCode, 0, 'teardown over HTTPS', { stderr: zero.stderr });
  t.same([...(await instances()).keys()], []);
});

t.test('lxd service naming what the cluster does not have - exit 65 naming the file and the field', async (t) => {
  await service('nonet', { endpoint: `unix:${m1!.socket}`, network: 'nope' });
  await service('nomember', { endpoint: `unix:${m1!.socket}`, target: 'm9' });
  const nonet = await provision(['nonet', '1']);
  t.equal(nonet.exitCode, 65);
  t.match(nonet.stderr, /services\/nonet\.json5: service field "options\.network": network "nope" not found/);
  const nomember = await provision(['nomember', '1']);
  t.equal(nomember.exitCode, 65);
  t.match(nomember.stderr, /services\/nomember\.json5: service field "options\.target": cluster member "m9" not found/);
  t.same([...(await instances()).keys()], [], 'nothing created');
});

t.test('lxd kill -9 of provision-node mid-create - the next call removes the half-made nodes and converges', async (t) => {
  const first = spawnBinary('provision-node', ['cloud', '3', '--group', 'k'], { env, cwd: project, timeoutMs: 600_000 });
  const deadline = Date.now() + 300_000;
  while ((await instances('fl-k-')).size === 0) {
    if (Date.now() > deadline) throw new Error(`no instance appeared: ${first.output().stderr}`);
    await sleep(50);
  }
  first.child.kill('SIGKILL');
  t.equal((await first.result).signal, 'SIGKILL', 'provision-node died by SIGKILL while the first instance was being made');
  const again = await provision(['cloud', '2', '--group', 'k']);
  t.equal(again.exitCode, 0, 'the next call exits 0', { stderr: again.stderr });
  const nodes = nodesOf(again.records);
  t.same(
    nodes.map((node) => node.id),
    ['k-1', 'k-2'],
    'exactly two nodes',
  );
  t.equal((await instances('fl-k-')).size, 2, 'exactly two instances: no half-made one is left');
  for (const node of nodes) t.equal(await sshRun(node, 'hostname', home), `${String(node.id)}\n`, `${node.id} answers SSH`);
  const zero = await provision(['cloud', '0', '--group', 'k']);
  t.equal(zero.exitCode, 0, { stderr: zero.stderr });
  t.same([...(await instances()).keys()], []);
});

t.test('lxd two concurrent "provision-node cloud 2 --group g" - exactly two nodes', async (t) => {
  const [a, b] = await Promise.all([provision(['cloud', '2', '--group', 'g']), provision(['cloud', '2', '--group', 'g'])]);
  t.equal(a.exitCode, 0, { stderr: a.stderr });
  t.equal(b.exitCode, 0, { stderr: b.stderr });
  t.same(
    nodesOf(a.records).map((node) => node.id),
    ['g-1', 'g-2'],
  );
  t.same(
    nodesOf(b.records).map((node) => node.id),
    ['g-1', 'g-2'],
  );
  t.same([summaryOf(a.records).counts.created, summaryOf(b.records).counts.created].sort(), [0, 2], 'one call created both, the other none');
  t.equal((await instances('fl-g-')).size, 2, 'two instances in the cluster');
  const zero = await provision(['cloud', '0', '--group', 'g']);
  t.equal(zero.exitCode, 0, { stderr: zero.stderr });
});

t.test("the dev-qa recipe runs unchanged on an lxd service (the recipes' mini project: provision, converge, expect-run, merge, teardown)", async (t) => {
  const { branchWith, git, makeRepo, removeDir, runRecipe } = await import('../../../recipes/test/helpers.js');
  const repo = makeRepo();
  t.teardown(() => removeDir(repo.dir));
  // the recipe's own FORKLIFT_HOME (dev-qa: $FORKLIFT_HOME/envs/dev-qa) names the service
  const devQaHome = join(repo.home, 'envs', 'dev-qa');
  await mkdir(join(devQaHome, 'services'), { recursive: true });
  await writeFile(
    join(devQaHome, 'services', 'cloud.json5'),
    JSON.stringify({ provider: 'lxd', options: { endpoint: `unix:${m1!.socket}`, network: c.network, aptProxy: c.aptProxy } }),
  );
  branchWith(repo, 'feature/cloud', { 'NOTES.md': 'tested on a cluster\n' }, 'feature: notes');
  const before = git(repo.origin, 'rev-parse', 'develop');
  const run = await runRecipe('dev-qa', ['feature/cloud', '--service', 'cloud'], { cwd: repo.work, env: repo.env, timeoutMs: 15 * 60_000 });
  t.equal(run.code, 0, 'dev-qa --service cloud exits 0', { stderr: run.stderr.slice(-3000) });
  t.match(run.stderr, /dev-qa: ✓ acceptance tests/);
  t.match(run.stderr, /dev-qa: ✓ merge feature\/cloud into develop \(--no-ff\) and push/);
  t.not(git(repo.origin, 'rev-parse', 'develop'), before, 'the tested branch is merged and pushed');
  t.same([...(await instances()).keys()], [], 'the recipe tore its lxd nodes down');
});

t.test(
  "lxd member cut off - the other member's nodes keep working, --list names the unreachable node without hanging, converge places new nodes on the online member",
  async (t) => {
    const made = await provision(['cloud', '2', '--group', 'ha']);
    t.equal(made.exitCode, 0, { stderr: made.stderr });
    const nodes = nodesOf(made.records);
    const memberOf = (node: Record<string, unknown>) => (node.tags as Record<string, string>).member;
    t.same(nodes.map(memberOf).sort(), ['m1', 'm2'], 'one node on each member');
    const onM1 = nodes.find((node) => memberOf(node) === 'm1')!;
    const onM2 = nodes.find((node) => memberOf(node) === 'm2')!;
    t.teardown(() => c.cut('m2', false));

    await c.cut('m2', true);
    t.equal(await sshRun(onM1, 'hostname', home), `${String(onM1.id)}\n`, 'the node on m1 keeps answering');
    const listStarted = performance.now();
    const listed = await provision(['cloud', '--list', '--group', 'ha'], 120_000);
    const listSeconds = (performance.now() - listStarted) / 1000;
    t.comment(`--list right after the cut took ${listSeconds.toFixed(1)} s (LXD waits up to ~20 s for the member before it answers)`);
    t.equal(listed.exitCode, 1, '--list exits 1: a node is unreachable');
    t.same(
      nodesOf(listed.records).map((node) => node.id),
      [onM1.id],
      'a record for the reachable node only',
    );
    t.match(
      listed.records.filter((record) => record.kind === 'error'),
      [{ code: 'unreachable', node: onM2.id, message: /m2/ }],
      'an error record names the unreachable node and its member',
    );
    t.match(listed.stderr, new RegExp(`${String(onM2.id)} is unreachable`));

    t.comment(`the cluster marked m2 offline after ${(await c.waitForMember('m2', 'Offline')) / 1000} more s`);
    const offline = await provision(['cloud', '--list', '--group', 'ha'], 60_000);
    t.match(offline.stderr, new RegExp(`${String(onM2.id)} is unreachable: its member m2 is offline`), 'once offline, --list says so at once');
    const grown = await provision(['cloud', '3', '--group', 'ha']);
    t.equal(grown.exitCode, 1, 'converge exits 1 (a node is unreachable) but converges', { stderr: grown.stderr });
    t.match(summaryOf(grown.records).counts, { created: 1, unreachable: 1 });
    const fresh = nodesOf(grown.records).find((node) => node.id === 'ha-3');
    t.equal(fresh && memberOf(fresh), 'm1', 'the new node is on the online member');
    t.equal(await sshRun(fresh!, 'hostname', home), 'ha-3\n', 'and answers SSH');

    const shrunk = await provision(['cloud', '2', '--group', 'ha']);
    t.equal(shrunk.exitCode, 69, 'shrinking to 2 picks the unreachable node first and cannot destroy it: exit 69');
    t.match(
      shrunk.stderr,
      new RegExp(`cannot destroy what the cluster cannot reach — ${String(onM2.id)} is unreachable: its member m2 is offline.*bring the member back`),
    );
    t.same([...(await instances('fl-ha-')).keys()].length, 3, 'the reachable nodes are kept');

    await c.cut('m2', false);
    await c.waitForMember('m2', 'Online');
    const back = await provision(['cloud', '--list', '--group', 'ha'], 60_000);
    t.equal(back.exitCode, 0, 'with m2 back every node is listed', { stderr: back.stderr });
    t.equal(nodesOf(back.records).length, 3);
    const zero = await provision(['cloud', '0', '--group', 'ha']);
    t.equal(zero.exitCode, 0, { stderr: zero.stderr });
    t.same([...(await instances('')).keys()], [], 'no instance left');
  },
);

t.test('lxd test cluster - stopped by PID, nothing left', async (t) => {
  await c.stop();
  stopped = true;
  t.same(clusterLeftovers(c), [], 'no daemon, namespace, link or directory left');
  t.comment(`this file took ${((performance.now() - fileStarted) / 1000).toFixed(0)} s`);
});
