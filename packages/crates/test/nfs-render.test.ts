// How nfs-client chooses its way from the node's nfsClient fact, and names it in the label (rendered, no nodes).
import t from 'tap';
import type { NodeRecord } from '@forklift/contract';
import { join } from 'node:path';
import { ProjectFiles, renderPlans } from '@forklift/render-crate';
import { nfsClient, nfsServer } from '../src/index.js';

function node(id: string, fields: Record<string, unknown> = {}): NodeRecord {
  return {
    v: 1,
    kind: 'node',
    id,
    group: id.replace(/-\d+$/, ''),
    service: 'local',
    provider: 'nspawn',
    address: '10.0.0.9',
    port: 22,
    user: 'root',
    state: 'running',
    hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM68vCKcgzf4WvBpjqcYGCGA',
    ...fields,
  } as NodeRecord;
}

const server = node('files-1', { roles: ['files'], address: '10.0.0.2' });
const files = new ProjectFiles({ project: join(import.meta.dirname, 'fixtures') });

async function labels(options: Parameters<typeof nfsClient>[0], os: Record<string, unknown>): Promise<string[]> {
  const client = node('app-1', { roles: ['app'], os: { family: 'debian', release: '12', ...os } });
  const spec = { ...nfsClient(options), source: 'groups/app.json5 extends[0] (nfs-client)' };
  const [plan] = await renderPlans(spec, [client], { allNodes: [server, client], files });
  return plan!.actions.map((action) => action.label);
}

t.test('nfs-client - the nfsClient fact chooses the way, the label names it', async (t) => {
  const kernel = await labels({ sshKeyFrom: 'secrets/files_ed25519' }, { nfsClient: 'kernel' });
  t.ok(kernel.includes('package nfs-common'));
  t.ok(kernel.includes('exec # /mnt/files: kernel NFS (kernel has an NFS client)'));
  const none = await labels({ sshKeyFrom: 'secrets/files_ed25519' }, { nfsClient: 'none' });
  t.ok(none.includes('package sshfs'));
  t.ok(none.some((label) => label === 'exec # /mnt/files: sshfs fallback (kernel has no NFS client)'));
  const unknownWithKey = await labels({ sshKeyFrom: 'secrets/files_ed25519' }, {});
  t.ok(unknownWithKey.some((label) => label === 'exec # /mnt/files: sshfs fallback (no nfsClient fact)'));
  const unknownNoKey = await labels({}, {});
  t.ok(unknownNoKey.some((label) => label === 'exec # /mnt/files: kernel NFS (no nfsClient fact, no sshKeyFrom)'));
  const forced = await labels({ sshKeyFrom: 'secrets/files_ed25519', method: 'sshfs' }, { nfsClient: 'kernel' });
  t.ok(forced.includes('package sshfs'), 'method forces the way');
});

t.test('nfs-client - a node without a kernel NFS client and no sshKeyFrom is an InputError naming sshKeyFrom', async (t) => {
  await t.rejects(labels({}, { nfsClient: 'none' }), { message: /^groups\/app\.json5 extends\[0\] \(nfs-client\): sshKeyFrom: node app-1 mounts by sshfs/ });
});

t.test('nfs-client - a mount point with a dash is refused (it names a systemd unit)', async (t) => {
  t.throws(() => nfsClient({ mountPoint: '/mnt/my-files' }), { message: /^crate nfs-client: options\.mountPoint: must be an absolute path/ });
});

t.test('nfs-server - the export is squashed to the share account; SFTP only with keys', async (t) => {
  const spec = { ...nfsServer({ sftpAuthorizedKeys: 'secrets/files_ed25519.pub' }), source: 'groups/files.json5 extends[0] (nfs-server)' };
  const [plan] = await renderPlans(spec, [server], { files });
  t.match(plan!.script, /Squash = All_Squash;\n\s+Anonymous_Uid = 2049;/);
  t.match(plan!.script, /ForceCommand internal-sftp/);
  const plain = await renderPlans({ ...nfsServer({}), source: 'x' }, [server]);
  t.notMatch(plain[0]!.script, /internal-sftp/, 'no SFTP access without keys');
});
