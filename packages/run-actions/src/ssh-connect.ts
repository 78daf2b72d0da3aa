import { readFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, type NodeRecord } from '@forklift/contract/lite';
import { Client, type ConnectConfig } from 'ssh2';
import { defaultKnownHostsFiles, fingerprintOf, keyTypeOf, knownHostKeys, knownHostsName, matchesPinned, parsePinnedKey, type HostKey } from './host-keys.js';
import { NodeError } from './node-errors.js';

/** Options of an SSH connection to one node. */
export interface SshConnectOptions {
  /** TCP connect + SSH handshake timeout per try (default 10000 ms). */
  connectTimeoutMs?: number;
  /** Tries before the node counts as unreachable (default 3). */
  tries?: number;
  /** Wait before the second try; doubles for each later one (default 500 ms). */
  backoffMs?: number;
  /** known_hosts files consulted for nodes without a pinned hostKey (default ~/.ssh/known_hosts{,2}). */
  knownHostsFiles?: string[];
  /** Environment for HOME and SSH_AUTH_SOCK (default process.env). */
  env?: Record<string, string | undefined>;
  /** Stops the tries. */
  signal?: AbortSignal;
}

/**
 * The SSH algorithms run-actions offers, fastest secure first (measured against OpenSSH 9.2 nodes on a 2-core
 * machine with 50 handshakes at once: bench/run-actions.mjs --algorithms, figures in bench/README.md): key
 * exchange curve25519-sha256 (X25519 and P-256 measured alike, finite-field DH up to 2.3x slower), AEAD ciphers
 * (AES-GCM with AES-NI, then ChaCha20-Poly1305), no compression. The rest of each list keeps older servers reachable; nothing weaker than ssh2's defaults (no SHA-1
 * key exchange, no CBC, no arcfour).
 */
export const SSH_ALGORITHMS = {
  kex: [
    'curve25519-sha256',
    'curve25519-sha256@libssh.org',
    'ecdh-sha2-nistp256',
    'ecdh-sha2-nistp384',
    'ecdh-sha2-nistp521',
    'diffie-hellman-group-exchange-sha256',
    'diffie-hellman-group14-sha256',
    'diffie-hellman-group16-sha512',
    'diffie-hellman-group18-sha512',
  ],
  cipher: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr'],
  hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'],
  compress: ['none'],
};

const SIGNATURE_ALGORITHMS: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

function hostKeyAlgorithms(types: Iterable<string>): string[] {
  const out: string[] = [];
  for (const type of types) for (const algorithm of SIGNATURE_ALGORITHMS[type] ?? [type]) if (!out.includes(algorithm)) out.push(algorithm);
  return out;
}

interface HostKeyPolicy {
  accept(presented: Buffer): boolean;
  algorithms?: string[];
  describe(presented: Buffer): string;
}

async function hostKeyPolicy(node: NodeRecord, options: SshConnectOptions): Promise<HostKeyPolicy> {
  const where = `${node.address}:${node.port}`;
  if (node.hostKey) {
    const pinned = parsePinnedKey(node.hostKey);
    if (!pinned)
      throw new NodeError(
        'bad-host-key',
        `node ${node.id}: hostKey is neither "TYPE BASE64" nor "SHA256:..." (got ${JSON.stringify(node.hostKey.slice(0, 40))})`,
      );
    const expected = pinned.key ? fingerprintOf(pinned.key.blob) : pinned.fingerprint!;
    return {
      accept: (presented) => matchesPinned(pinned, presented),
      algorithms: pinned.key ? hostKeyAlgorithms([pinned.key.type]) : undefined,
      describe: (presented) =>
        `node ${node.id}: host key mismatch at ${where}: the server presented ${keyTypeOf(presented)} ${fingerprintOf(presented)} but the node record pins ${expected}; refusing to connect (if the node was rebuilt, update its hostKey)`,
    };
  }
  const files = options.knownHostsFiles ?? defaultKnownHostsFiles(options.env);
  const { keys, revoked } = await knownHostKeys(files, node.address, node.port);
  if (keys.length === 0) {
    throw new NodeError(
      'host-key-unknown',
      `node ${node.id}: no hostKey in the node record and ${knownHostsName(node.address, node.port)} is not in ${files.join(' or ')}; pin hostKey in the node record or add the host to known_hosts after checking its fingerprint (no trust on first use)`,
    );
  }
  const isRevoked = (presented: Buffer): boolean => revoked.some((key: HostKey) => key.blob.equals(presented));
  return {
    accept: (presented) => !isRevoked(presented) && keys.some((key) => key.blob.equals(presented)),
    algorithms: hostKeyAlgorithms(keys.map((key) => key.type)),
    describe: (presented) =>
      isRevoked(presented)
        ? `node ${node.id}: the host key of ${where} (${fingerprintOf(presented)}) is marked @revoked in known_hosts`
        : `node ${node.id}: host key mismatch at ${where}: the server presented ${keyTypeOf(presented)} ${fingerprintOf(presented)}, which known_hosts does not list for ${knownHostsName(node.address, node.port)}; refusing to connect`,
  };
}

async function credentials(node: NodeRecord, env: Record<string, string | undefined>): Promise<Pick<ConnectConfig, 'privateKey' | 'agent'>> {
  if (node.privateKey) {
    try {
      return { privateKey: await readFile(node.privateKey) };
    } catch (error) {
      throw new NodeError(
        'no-ssh-key',
        `node ${node.id}: cannot read privateKey ${node.privateKey}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        {
          exitCode: ExitCode.unavailable,
          cause: error,
        },
      );
    }
  }
  if (env.SSH_AUTH_SOCK) return { agent: env.SSH_AUTH_SOCK };
  const home = env.HOME || homedir();
  for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    try {
      return { privateKey: await readFile(join(home, '.ssh', name)) };
    } catch {
      // next
    }
  }
  throw new NodeError('no-ssh-key', `node ${node.id}: no privateKey in the node record, no SSH agent and no ~/.ssh/id_ed25519, id_ecdsa or id_rsa`, {
    exitCode: ExitCode.unavailable,
  });
}

function openSocket(node: NodeRecord, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    // without TCP_NODELAY every small exchange waits for delayed ACKs (~40 ms each)
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new NodeError('unreachable', `connect to ${node.address}:${node.port} timed out after ${timeoutMs} ms`, { retryable: true }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new NodeError('unreachable', `connect to ${node.address}:${node.port}: ${error.code ?? error.message}`, { retryable: true, cause: error }));
    });
    socket.connect({ host: node.address, port: node.port });
  });
}

async function connectOnce(node: NodeRecord, policy: HostKeyPolicy, auth: Pick<ConnectConfig, 'privateKey' | 'agent'>, timeoutMs: number): Promise<Client> {
  const socket = await openSocket(node, timeoutMs);
  return new Promise((resolve, reject) => {
    const client = new Client();
    let rejectedKey: Buffer | undefined;
    client.once('ready', () => resolve(client));
    client.once('error', (error: Error & { level?: string }) => {
      client.end();
      socket.destroy();
      if (rejectedKey) return reject(new NodeError('host-key-mismatch', policy.describe(rejectedKey)));
      if (error.level === 'client-authentication') {
        return reject(
          new NodeError(
            'auth-failed',
            `node ${node.id}: ${node.user}@${node.address}:${node.port} refused the key (${node.privateKey ?? 'agent/default keys'})`,
            { cause: error },
          ),
        );
      }
      reject(new NodeError('unreachable', `ssh handshake with ${node.address}:${node.port}: ${error.message}`, { retryable: true, cause: error }));
    });
    client.connect({
      sock: socket,
      username: node.user,
      ...auth,
      readyTimeout: timeoutMs,
      keepaliveInterval: 15_000,
      algorithms: { ...SSH_ALGORITHMS, ...(policy.algorithms ? { serverHostKey: policy.algorithms } : {}) } as ConnectConfig['algorithms'],
      hostVerifier: (key: Buffer) => {
        if (policy.accept(key)) return true;
        rejectedKey = key;
        return false;
      },
    });
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Open one verified SSH connection to a node (ssh2, TCP_NODELAY): the pinned hostKey (or known_hosts)
 * must match; network failures are tried `tries` times with backoff, then NodeError 'unreachable'.
 * @example const client = await connectSsh(node, { tries: 3 })
 */
export async function connectSsh(node: NodeRecord, options: SshConnectOptions = {}): Promise<Client> {
  const env = options.env ?? process.env;
  const policy = await hostKeyPolicy(node, options);
  const auth = await credentials(node, env);
  const tries = options.tries ?? 3;
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  let backoff = options.backoffMs ?? 500;
  let last: unknown;
  for (let attempt = 1; attempt <= tries; attempt++) {
    if (options.signal?.aborted) break;
    try {
      return await connectOnce(node, policy, auth, timeoutMs);
    } catch (error) {
      last = error;
      if (!(error instanceof NodeError) || !error.retryable) throw error;
      if (attempt < tries) {
        await sleep(backoff, options.signal);
        backoff *= 2;
      }
    }
  }
  const reason = last instanceof Error ? last.message : 'interrupted';
  throw new NodeError('unreachable', `node ${node.id} unreachable after ${tries} tries: ${reason}`, { cause: last });
}
