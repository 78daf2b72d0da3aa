import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import ssh2 from 'ssh2';

/** Where and how to reach a node over SSH, with its pinned host key. */
export interface SshTarget {
  address: string;
  port: number;
  user: string;
  privateKeyPath: string;
  /** `ssh-ed25519 AAAA...`: the only host key accepted. */
  hostKey: string;
}

function tryOnce(target: SshTarget, privateKey: Buffer, timeoutMs: number): Promise<string | undefined> {
  const pinned = Buffer.from(target.hostKey.split(/\s+/)[1] ?? '', 'base64');
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    let settled = false;
    const finish = (error?: string): void => {
      if (settled) return;
      settled = true;
      client.end();
      client.destroy();
      resolve(error);
    };
    client.on('ready', () => finish());
    client.on('error', (error) => finish(error.message));
    client.on('close', () => finish('connection closed'));
    client.connect({
      host: target.address,
      port: target.port,
      username: target.user,
      privateKey,
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => Buffer.compare(key, pinned) === 0,
    });
  });
}

/**
 * Wait until a node accepts our key over SSH and presents its pinned host key.
 * Throws the last connection error when it does not within `timeoutMs`.
 * @example await waitForSsh({ address: '10.80.1.2', port: 22, user: 'root', privateKeyPath, hostKey }, { timeoutMs: 60_000 })
 */
export async function waitForSsh(target: SshTarget, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  const privateKey = await readFile(target.privateKeyPath);
  let last = 'not tried';
  while (Date.now() < deadline) {
    if (options.signal?.aborted) throw new Error(`waiting for SSH on ${target.address}: aborted`);
    const error = await tryOnce(target, privateKey, Math.min(10_000, Math.max(1000, deadline - Date.now())));
    if (error === undefined) return;
    last = error;
    await sleep(100);
  }
  throw new Error(`${target.address}:${target.port} did not answer SSH within ${Math.round(timeoutMs / 1000)} s (last error: ${last})`);
}
