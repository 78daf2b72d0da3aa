import { chmod, mkdir, symlink, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Names of the systemd credentials a VM gets through fw_cfg. `ssh.authorized_keys.root` is
 * systemd's own (tmpfiles' provision.conf writes /root/.ssh/authorized_keys from it); the
 * `forklift.*` ones are installed by the seed unit baked into the base image.
 */
export const CREDENTIAL = {
  authorizedKeys: 'ssh.authorized_keys.root',
  hostKey: 'forklift.hostkey',
  hostKeyPub: 'forklift.hostkey.pub',
  network: 'forklift.network',
  hostname: 'forklift.hostname',
  aptProxy: 'forklift.apt-proxy',
} as const;

/** The guest script that installs the node's identity from the system credentials before sshd and networkd start. */
export const SEED_SCRIPT = `#!/bin/sh
# forklift: install this node's identity from the systemd credentials qemu passed in (fw_cfg)
set -eu
creds=/run/credentials/@system
if [ -f "$creds/${CREDENTIAL.hostKey}" ]; then
  install -m 0600 "$creds/${CREDENTIAL.hostKey}" /etc/ssh/ssh_host_ed25519_key
  if [ -f "$creds/${CREDENTIAL.hostKeyPub}" ]; then
    install -m 0644 "$creds/${CREDENTIAL.hostKeyPub}" /etc/ssh/ssh_host_ed25519_key.pub
  else
    ssh-keygen -y -f /etc/ssh/ssh_host_ed25519_key >/etc/ssh/ssh_host_ed25519_key.pub
    chmod 0644 /etc/ssh/ssh_host_ed25519_key.pub
  fi
fi
if [ -f "$creds/${CREDENTIAL.network}" ]; then
  mkdir -p /etc/systemd/network
  install -m 0644 "$creds/${CREDENTIAL.network}" /etc/systemd/network/10-forklift.network
fi
if [ -f "$creds/${CREDENTIAL.hostname}" ]; then
  install -m 0644 "$creds/${CREDENTIAL.hostname}" /etc/hostname
  hostname "$(cat /etc/hostname)"
fi
if [ -f "$creds/${CREDENTIAL.aptProxy}" ]; then
  install -m 0644 "$creds/${CREDENTIAL.aptProxy}" /etc/apt/apt.conf.d/01forklift-proxy
fi
`;

/** The unit running the seed script early in boot (every boot: it is idempotent). */
export const SEED_UNIT = `[Unit]
Description=forklift node identity (host key, network, hostname) from system credentials
DefaultDependencies=no
After=local-fs.target
Before=sysinit.target ssh.service systemd-networkd.service network-pre.target
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/forklift-seed

[Install]
WantedBy=sysinit.target
`;

/**
 * Turn a copy of a forklift rootfs into a VM root: the seed script and unit (enabled), an fstab
 * for the root disk, and no leftover host keys.
 * @example await installGuestFiles('/tmp/stage')
 */
export async function installGuestFiles(root: string): Promise<void> {
  await mkdir(join(root, 'usr', 'local', 'sbin'), { recursive: true });
  await writeFile(join(root, 'usr', 'local', 'sbin', 'forklift-seed'), SEED_SCRIPT);
  await chmod(join(root, 'usr', 'local', 'sbin', 'forklift-seed'), 0o755);
  await writeFile(join(root, 'etc', 'systemd', 'system', 'forklift-seed.service'), SEED_UNIT);
  const wants = join(root, 'etc', 'systemd', 'system', 'sysinit.target.wants');
  await mkdir(wants, { recursive: true });
  await rm(join(wants, 'forklift-seed.service'), { force: true });
  await symlink('/etc/systemd/system/forklift-seed.service', join(wants, 'forklift-seed.service'));
  await writeFile(join(root, 'etc', 'fstab'), '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n');
  await rm(join(root, 'etc', 'ssh', 'ssh_host_ed25519_key'), { force: true });
  await rm(join(root, 'etc', 'ssh', 'ssh_host_ed25519_key.pub'), { force: true });
}
