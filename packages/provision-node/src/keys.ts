import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock } from './lock.js';
import type { SshKeyPair } from './provider.js';
import { run } from './run.js';

/**
 * The ed25519 key pair nodes of a FORKLIFT_HOME trust: `keysDir/id_ed25519` (created once).
 * @example const { privateKeyPath, publicKey } = await ensureSshKey('/root/.forklift/keys')
 */
export async function ensureSshKey(keysDir: string): Promise<SshKeyPair> {
  const privateKeyPath = join(keysDir, 'id_ed25519');
  if (!existsSync(`${privateKeyPath}.pub`)) {
    await mkdir(keysDir, { recursive: true, mode: 0o700 });
    const lock = await acquireLock(join(keysDir, '.lock'));
    try {
      if (!existsSync(`${privateKeyPath}.pub`)) {
        await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'forklift', '-f', privateKeyPath]);
      }
    } finally {
      await lock.release();
    }
  }
  const publicKey = (await readFile(`${privateKeyPath}.pub`, 'utf8')).trim();
  return { privateKeyPath, publicKey };
}

/**
 * Generate a node's own ed25519 host key into `<root>/etc/ssh/` and return its public key
 * (`ssh-ed25519 AAAA...`, no comment) for pinning in the node record.
 */
export async function generateHostKey(root: string, comment: string): Promise<string> {
  const file = join(root, 'etc', 'ssh', 'ssh_host_ed25519_key');
  await mkdir(join(root, 'etc', 'ssh'), { recursive: true });
  // OpenSSH's own ssh-keygen: keys made in-process with ssh2 were now and then refused by sshd ("error in libcrypto")
  if (!existsSync(file)) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  return readHostKey(root);
}

/** Read a node's public host key from its own filesystem (`ssh-ed25519 AAAA...`). */
export async function readHostKey(root: string): Promise<string> {
  const text = await readFile(join(root, 'etc', 'ssh', 'ssh_host_ed25519_key.pub'), 'utf8');
  return text.trim().split(/\s+/).slice(0, 2).join(' ');
}
