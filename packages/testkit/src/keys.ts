import { readFile } from 'node:fs/promises';
import { execa } from 'execa';

/**
 * Generate an ed25519 key pair without passphrase at `path` (+ `.pub`) with ssh-keygen;
 * returns the public key as `type base64` (no comment).
 * @example const pub = await generateKey('/tmp/x/id_ed25519')
 */
export async function generateKey(path: string, comment = 'forklift-testkit'): Promise<string> {
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  return publicKeyOf(path + '.pub');
}

/** The `type base64` part of an OpenSSH public key file. @example await publicKeyOf('/etc/ssh/ssh_host_ed25519_key.pub') */
export async function publicKeyOf(pubPath: string): Promise<string> {
  const [type, blob] = (await readFile(pubPath, 'utf8')).trim().split(/\s+/);
  return `${type} ${blob}`;
}
