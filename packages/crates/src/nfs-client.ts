import { LABEL_PATTERN, serverSpec, type SpecContext } from '@forklift/spec';
import { z } from 'zod';
import { crateError, defineCrate } from './crate.js';
import { requirePeers } from './peers.js';
import { daemonReload } from './systemd.js';

const label = z.string().regex(LABEL_PATTERN, 'must be lowercase letters, digits, _ and - (at most 40)');
/** Mount points become systemd unit names (`/mnt/files` -> `mnt-files.mount`): no `-` and no leading dots, so no escaping. */
const mountPath = z
  .string()
  .regex(/^(\/[A-Za-z0-9_][A-Za-z0-9_.]*)+$/, 'must be an absolute path of letters, digits, _ and . (no -: it names a systemd mount unit)');

/** How a node mounts the share: the kernel's NFS client, or sshfs (user space) where the kernel has none. */
export type NfsClientMethod = 'kernel' | 'sshfs';

/** Options of the nfs-client crate. */
export const nfsClientOptions = z.strictObject({
  server: z
    .strictObject({ role: label.optional(), group: label.optional(), color: label.optional() })
    .default({ role: 'files' })
    .describe('the file server among the node records (default: the node with role files)'),
  export: z
    .string()
    .regex(/^\/[A-Za-z0-9._/-]*$/, 'must be an absolute path')
    .default('/srv/files')
    .describe("the server's export"),
  mountPoint: mountPath.default('/mnt/files').describe('where the share appears on this node, whichever way it is mounted'),
  sshKeyFrom: z
    .string()
    .min(1)
    .optional()
    .describe("a private key file on the controller (relative to the spec's project) for the sshfs fallback; delivered out of band, never in a record"),
  sshUser: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/)
    .default('files')
    .describe("the server's share account the fallback logs in as (nfs-server's user)"),
  method: z.enum(['auto', 'kernel', 'sshfs']).default('auto').describe("auto: the kernel client when the node's nfsClient fact says it has one, else sshfs"),
});

/** Parsed options of the nfs-client crate. */
export type NfsClientOptions = z.output<typeof nfsClientOptions>;

/** Where the fallback keeps its key and the server's pinned host key on the node. */
export const NFS_CLIENT_DIR = '/etc/forklift/nfs-client';

/**
 * The way this node mounts: `method` when forced, else from the node's `nfsClient` fact (gathered by
 * run-actions: `kernel` when the running kernel has an NFS client, `none` otherwise). Without the fact
 * (plans rendered by render-crate alone): sshfs when the spec gives its key (it works on any kernel with
 * FUSE), else the kernel client.
 */
export function mountMethod(ctx: SpecContext, options: Pick<NfsClientOptions, 'method' | 'sshKeyFrom'>): { method: NfsClientMethod; why: string } {
  if (options.method !== 'auto') return { method: options.method, why: 'method option' };
  const fact = (ctx.node.os as { nfsClient?: string } | undefined)?.nfsClient;
  if (fact === 'kernel') return { method: 'kernel', why: 'kernel has an NFS client' };
  if (fact === 'none') return { method: 'sshfs', why: 'kernel has no NFS client' };
  if (options.sshKeyFrom !== undefined) return { method: 'sshfs', why: 'no nfsClient fact' };
  return { method: 'kernel', why: 'no nfsClient fact, no sshKeyFrom' };
}

/** `/mnt/files` -> `mnt-files.mount`. */
export function mountUnitName(path: string): string {
  return `${path.slice(1).replaceAll('/', '-')}.mount`;
}

/**
 * The shared file store at the same path on every client: NFSv4 with the kernel client where the node's kernel
 * has one, else sshfs to the file server's SFTP-only share account (a user-space fallback: FUSE over the
 * server's SSH). Either way a systemd mount unit keeps it mounted; the action's label names the way.
 * On nspawn nodes the sshfs fallback needs `provider: { nspawn: { fuse: true } }` in the group's node spec.
 * @example nfsClient({ mountPoint: '/mnt/files', sshKeyFrom: 'secrets/files_ed25519' })
 */
export const nfsClient = defineCrate({
  name: 'nfs-client',
  summary:
    'the file store at one path on every client: kernel NFSv4 where the kernel has it, else the sshfs fallback (chosen from the nfsClient fact, named in the label)',
  schema: nfsClientOptions,
  build: (options) =>
    serverSpec({
      settings: { nfsClient: { mountPoint: options.mountPoint } },
      phases: {
        configure: (ctx) => {
          const [server] = requirePeers(ctx, options.server, { field: 'server' });
          const { method, why } = mountMethod(ctx, options);
          const unit = mountUnitName(options.mountPoint);
          const entries: Array<Record<string, unknown> & { action: string }> = [];
          let what: string;
          let type: string;
          let mountOptions: string;
          const watched = [`nfs-client-unit`];
          if (method === 'kernel') {
            entries.push({ action: 'package', id: 'nfs-client-package', name: 'nfs-common' });
            what = `${server!.address}:${options.export}`;
            type = 'nfs4';
            mountOptions = '_netdev,hard,timeo=100';
          } else {
            if (options.sshKeyFrom === undefined)
              throw crateError('sshKeyFrom', `node ${ctx.node.id} mounts by sshfs (${why}): give the key the file server's ${options.sshUser} account accepts`);
            if (!server!.hostKey) throw crateError('server', `node ${server!.id} has no hostKey in its record: the sshfs fallback pins it`);
            entries.push(
              { action: 'package', id: 'nfs-client-package', name: 'sshfs' },
              { action: 'directory', id: 'nfs-client-dir', path: NFS_CLIENT_DIR, owner: 'root', group: 'root', mode: '0700' },
              {
                action: 'file',
                id: 'nfs-client-key',
                path: `${NFS_CLIENT_DIR}/id`,
                contentFrom: options.sshKeyFrom,
                owner: 'root',
                group: 'root',
                mode: '0600',
              },
              {
                action: 'file',
                id: 'nfs-client-known-hosts',
                path: `${NFS_CLIENT_DIR}/known_hosts`,
                mode: '0644',
                content: `${server!.address} ${server!.hostKey}\n`,
              },
            );
            watched.push('nfs-client-key', 'nfs-client-known-hosts');
            what = `${options.sshUser}@${server!.address}:${options.export}`;
            type = 'fuse.sshfs';
            mountOptions = [
              '_netdev',
              'allow_other',
              'reconnect',
              'ServerAliveInterval=15',
              'BatchMode=yes',
              `IdentityFile=${NFS_CLIENT_DIR}/id`,
              `UserKnownHostsFile=${NFS_CLIENT_DIR}/known_hosts`,
              'StrictHostKeyChecking=yes',
            ].join(',');
          }
          entries.push(
            // no owner or mode: once mounted, the directory shows the share's own (its owner on the server)
            { action: 'directory', id: 'nfs-client-mount-point', path: options.mountPoint },
            {
              action: 'file',
              id: 'nfs-client-unit',
              path: `/etc/systemd/system/${unit}`,
              mode: '0644',
              content: `# managed by forklift (crate nfs-client): ${method} (${why})\n[Unit]\nDescription=${options.mountPoint}: ${options.export} of ${server!.id} by ${method}\nWants=network-online.target\nAfter=network-online.target\n\n[Mount]\nWhat=${what}\nWhere=${options.mountPoint}\nType=${type}\nOptions=${mountOptions}\nTimeoutSec=60\n\n[Install]\nWantedBy=remote-fs.target\n`,
            },
            daemonReload('nfs-client-daemon-reload', unit),
            { action: 'service', id: 'nfs-client-mount', name: unit, state: 'started', enabled: true, restartOn: watched },
            {
              // the label says which way the share is mounted: `exec # /mnt/files: sshfs fallback (kernel has no NFS client)`
              action: 'exec',
              id: `nfs-client-${method}`,
              script: `# ${options.mountPoint}: ${method === 'kernel' ? 'kernel NFS' : 'sshfs fallback'} (${why})\nfor i in $(seq 1 60); do mountpoint -q ${options.mountPoint} && ls ${options.mountPoint} >/dev/null && exit 0; sleep 1; done\necho '${options.mountPoint} is not mounted' >&2\nexit 1`,
              unless: `mountpoint -q ${options.mountPoint} && ls ${options.mountPoint}`,
            },
          );
          return entries;
        },
      },
    }),
});
