import { serverSpec } from '@forklift/spec';
import { z } from 'zod';
import { defineCrate } from './crate.js';
import { safePath } from './schemas.js';

const accountName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a lowercase unix account name');

/** Options of the nfs-server crate. */
export const nfsServerOptions = z.strictObject({
  export: safePath.default('/srv/files').describe('the directory exported (NFSv4, path and pseudo path the same)'),
  user: accountName.default('files').describe('the account that owns the share: NFS writes are squashed to it, the sshfs fallback logs in as it (sftp only)'),
  uid: z.number().int().min(1000).max(60000).default(2049).describe('uid and gid of that account: the same on every file server, so files keep their owner'),
  sftpAuthorizedKeys: z
    .string()
    .min(1)
    .optional()
    .describe(
      "a controller file (relative to the spec's project) of public keys allowed to reach the share by SFTP (nfs-client's user-space fallback); without it there is no SFTP access",
    ),
});

/** Parsed options of the nfs-server crate. */
export type NfsServerOptions = z.output<typeof nfsServerOptions>;

function ganeshaConf(options: NfsServerOptions): string {
  return `# managed by forklift (crate nfs-server)
NFS_CORE_PARAM {
    Protocols = 4;
    NFS_Port = 2049;
}
NFSV4 {
    # no grace period after a restart: clients are not reclaiming locks here
    Graceless = true;
}
EXPORT {
    Export_Id = 1;
    Path = ${options.export};
    Pseudo = ${options.export};
    Protocols = 4;
    Transports = TCP;
    Access_Type = RW;
    SecType = sys;
    # every client writes as the share's owner (${options.user}, uid ${options.uid})
    Squash = All_Squash;
    Anonymous_Uid = ${options.uid};
    Anonymous_Gid = ${options.uid};
    FSAL { Name = VFS; }
}
`;
}

/**
 * An NFSv4 file server in user space (nfs-ganesha with its VFS backend) exporting one directory owned by a
 * dedicated account, plus optional SFTP-only access for that account (the clients' user-space fallback where
 * the node's kernel has no NFS client). On nspawn nodes the group's node spec needs
 * `provider: { nspawn: { nfsExport: true } }`.
 * @example nfsServer({ export: '/srv/files', sftpAuthorizedKeys: 'secrets/files_ed25519.pub' })
 */
export const nfsServer = defineCrate({
  name: 'nfs-server',
  summary: 'NFSv4 file server in user space (nfs-ganesha, VFS): one export owned by a dedicated account, optional SFTP-only access for the sshfs fallback',
  schema: nfsServerOptions,
  build: (options) =>
    serverSpec({
      settings: { nfsServer: { export: options.export, user: options.user, uid: options.uid } },
      phases: {
        configure: () => {
          const entries: Array<Record<string, unknown> & { action: string }> = [
            { action: 'package', id: 'nfs-server-package', name: 'nfs-ganesha' },
            { action: 'package', id: 'nfs-server-vfs-package', name: 'nfs-ganesha-vfs' },
            { action: 'group', id: 'nfs-server-group', name: options.user, gid: options.uid, system: true },
            {
              action: 'user',
              id: 'nfs-server-user',
              name: options.user,
              uid: options.uid,
              group: options.user,
              home: options.export,
              createHome: false,
              shell: '/usr/sbin/nologin',
              system: true,
              comment: 'forklift nfs-server share',
            },
            { action: 'directory', id: 'nfs-server-export', path: options.export, owner: options.user, group: options.user, mode: '2775' },
            { action: 'file', id: 'nfs-server-conf', path: '/etc/ganesha/ganesha.conf', mode: '0644', content: ganeshaConf(options) },
            { action: 'service', id: 'nfs-server-service', name: 'nfs-ganesha', state: 'started', enabled: true, restartOn: ['nfs-server-conf'] },
            {
              action: 'exec',
              id: 'nfs-server-ready',
              script:
                "for i in $(seq 1 60); do ss -Hltn 'sport = :2049' | grep -q . && exit 0; sleep 1; done; echo 'nfs-ganesha does not listen on port 2049' >&2; exit 1",
              unless: "ss -Hltn 'sport = :2049' | grep -q .",
            },
          ];
          if (options.sftpAuthorizedKeys !== undefined) {
            entries.push(
              {
                action: 'file',
                id: 'nfs-server-sftp-keys',
                path: `/etc/ssh/forklift-${options.user}.authorized_keys`,
                mode: '0644',
                local: options.sftpAuthorizedKeys,
              },
              {
                action: 'file',
                id: 'nfs-server-sftp-config',
                path: `/etc/ssh/sshd_config.d/forklift-${options.user}.conf`,
                mode: '0644',
                // a Match block in an included file ends with that file: root's own settings stay as they are
                content: `# managed by forklift (crate nfs-server): ${options.user} reaches the share by SFTP only\nMatch User ${options.user}\n    AuthorizedKeysFile /etc/ssh/forklift-${options.user}.authorized_keys\n    ForceCommand internal-sftp\n    AllowTcpForwarding no\n    AllowAgentForwarding no\n    X11Forwarding no\n    PermitTTY no\n`,
              },
              { action: 'exec', id: 'nfs-server-sshd-check', script: 'sshd -t', unless: 'sshd -t' },
              {
                action: 'service',
                id: 'nfs-server-sshd',
                name: 'ssh',
                state: 'started',
                restartOn: ['nfs-server-sftp-config', 'nfs-server-sftp-keys'],
                onChange: 'reload',
              },
            );
          }
          return entries;
        },
      },
    }),
});
