// The nfs-server and nfs-client crates on real local nodes: nfs-ganesha exports /srv/files (an NFS client
// reads it), two clients see it at /mnt/files by the sshfs fallback (these nodes share the host's kernel, which
// has no NFS client: the nfsClient fact says so and the label names the fallback), a file written on one
// client is read on the other; converge again -> 0 changed, --plan -> 0 changes.
import t from 'tap';
import { join } from 'node:path';
import type { NodeRecord } from '@forklift/contract';
import { converge, describeRun, onNode, packageTimes, testNodes } from './helpers/nodes.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

t.setTimeout(25 * 60_000);

let server: NodeRecord;
let clients: NodeRecord[] = [];
let all: NodeRecord[] = [];

t.before(async () => {
  const [files, apps] = await Promise.all([
    testNodes(t, { group: 'crate-files', count: 1, roles: ['files'], spec: { provider: { nspawn: { nfsExport: true } } } }),
    testNodes(t, { group: 'crate-files-clients', count: 2, roles: ['app'], spec: { provider: { nspawn: { fuse: true } } } }),
  ]);
  server = files[0]!;
  clients = apps;
  all = [server, ...clients];
});

t.test('nfs - the server converges and answers NFSv4; the clients mount the share by the named fallback', async (t) => {
  const first = await converge('groups/files', all, { cwd: FIXTURES });
  t.comment(`apt: ${packageTimes(first)}`);
  t.equal(first.exitCode, 0, describeRun(first));
  // an NFS client in user space (libnfs) lists the export over NFSv4: ganesha really serves it
  await onNode(server, 'echo from-the-server > /srv/files/hello.txt');
  await onNode(
    clients[0]!,
    'DEBIAN_FRONTEND=noninteractive apt-get install -y -q libnfs-utils >/dev/null 2>&1 || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libnfs-utils >/dev/null; }',
    { timeoutMs: 300_000 },
  );
  t.equal(
    (await onNode(clients[0]!, `nfs-cat 'nfs://${server.address}/srv/files/hello.txt?version=4'`)).trim(),
    'from-the-server',
    'nfs-ganesha serves the file over NFSv4',
  );

  const mount = await converge('groups/files-clients', all, { cwd: FIXTURES });
  t.comment(`apt: ${packageTimes(mount)}`);
  t.equal(mount.exitCode, 0, describeRun(mount));
  const nodes = mount.records.filter((r) => r.kind === 'node' && String(r.group) === 'crate-files-clients');
  t.same(
    nodes.map((n) => (n.os as { nfsClient?: string }).nfsClient),
    ['none', 'none'],
    'run-actions gathered the fact: no kernel NFS client on these nodes',
  );
  const labels = mount.results.filter((r) => r.id === 'nfs-client-sshfs').map((r) => r.label);
  t.equal(labels.length, 2);
  for (const label of labels) t.equal(label, 'exec # /mnt/files: sshfs fallback (kernel has no NFS client)', 'the label names the fallback');
  for (const client of clients)
    t.match(
      await onNode(client, 'findmnt -n -o FSTYPE,SOURCE /mnt/files'),
      new RegExp(`^fuse\\.sshfs\\s+files@${server.address.replaceAll('.', '\\.')}:/srv/files`),
      `${client.id} mounts the share`,
    );
});

t.test('nfs - a file written on one client is read on the other (and on the server, owned by the share account)', async (t) => {
  await onNode(clients[0]!, `mkdir -p /mnt/files/labels && printf 'label from ${clients[0]!.id}\\n' > /mnt/files/labels/one.txt`);
  t.equal((await onNode(clients[1]!, 'cat /mnt/files/labels/one.txt')).trim(), `label from ${clients[0]!.id}`);
  t.equal((await onNode(server, "stat -c '%U %s' /srv/files/labels/one.txt")).trim(), `files ${`label from ${clients[0]!.id}\n`.length}`);
  t.equal((await onNode(clients[1]!, 'cat /mnt/files/hello.txt')).trim(), 'from-the-server');
});

t.test('nfs - converge again: 0 changed; --plan: 0 changes (server and clients)', async (t) => {
  for (const spec of ['groups/files', 'groups/files-clients']) {
    const again = await converge(spec, all, { cwd: FIXTURES });
    t.equal(again.exitCode, 0, describeRun(again));
    t.same(
      again.changed.map((r) => `${String(r.node)} ${String(r.label)}`),
      [],
      `${spec}: nothing changed`,
    );
    const plan = await converge(spec, all, { cwd: FIXTURES, args: ['--plan'] });
    t.equal(plan.exitCode, 0, describeRun(plan));
    t.same(
      plan.changed.map((r) => `${String(r.node)} ${String(r.label)}`),
      [],
      `${spec}: the plan has no change`,
    );
  }
});

t.test('nfs - the share account is SFTP only: no shell on the file server', async (t) => {
  const out = await onNode(
    clients[0]!,
    `ssh -o BatchMode=yes -o UserKnownHostsFile=/etc/forklift/nfs-client/known_hosts -i /etc/forklift/nfs-client/id files@${server.address} id 2>&1 || true`,
  );
  t.match(out, /This service allows sftp connections only/);
});
