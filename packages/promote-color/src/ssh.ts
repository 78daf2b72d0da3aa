// The LB node's one SSH connection (run-actions' connectSsh: ssh2, pinned host key, TCP_NODELAY) as a
// Transport for commands, plus stream-local channels to unix sockets on the node — how promote-color
// talks to HAProxy's admin socket without starting a process on the LB for every look at the stats.
import type { Duplex } from 'node:stream';
import type { NodeRecord } from '@forklift/contract/lite';
import type { ExecOptions, ExecResult, Transport } from '@forklift/run-actions';
// the SSH connection alone: run-actions' main entry would also load its runner (execa, p-queue ...)
import { connectSsh, type SshConnectOptions } from '@forklift/run-actions/ssh';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';

/** A Transport that may also open a stream to a unix socket on the node. */
export interface LbTransport extends Transport {
  /** A stream to the unix socket at `path` on the node (SSH stream-local forwarding). */
  openUnix?(path: string): Promise<Duplex>;
  /** The connection's SFTP session (opened once, on first use). */
  sftp?(): Promise<SFTPWrapper>;
}

/** How long an aborted command gets after its stdin closed before its channel is closed. */
const ABORT_GRACE_MS = 2000;

function execOn(client: Client, command: string, options: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return resolve({ exitCode: null, signal: 'ABORTED' });
    client.exec(command, (error, channel: ClientChannel) => {
      if (error) return reject(error);
      let exitCode: number | null = null;
      let grace: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        channel.end();
        grace = setTimeout(() => channel.close(), ABORT_GRACE_MS);
      };
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
      channel.on('data', (chunk: Buffer) => options.onStdout?.(chunk));
      channel.stderr.on('data', (chunk: Buffer) => options.onStderr?.(chunk));
      channel.on('exit', (code: number | null) => {
        exitCode = typeof code === 'number' ? code : null;
        channel.end();
      });
      channel.once('close', () => {
        clearTimeout(grace);
        options.signal?.removeEventListener('abort', onAbort);
        resolve({ exitCode, signal: options.signal?.aborted && exitCode === null ? 'ABORTED' : undefined });
      });
      if (options.signal?.aborted) return;
      if (options.stdin !== undefined) channel.write(options.stdin);
      if (!options.holdStdin) channel.end();
    });
  });
}

/**
 * Connect to an LB node over SSH (verified host key) and return its transport: `exec` for commands,
 * `openUnix` for the admin socket.
 * @example const lb = await lbTransport(node); const stream = await lb.openUnix!('/run/haproxy/admin.sock')
 */
export async function lbTransport(node: NodeRecord, options: SshConnectOptions = {}): Promise<LbTransport> {
  const client = await connectSsh(node, options);
  let closed = false;
  const closedPromise = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.on('error', () => undefined);
  client.once('close', () => (closed = true));
  const gone = (): Error => new Error(`connection to ${node.address}:${node.port} is closed`);
  let sftp: Promise<SFTPWrapper> | undefined;
  const transport: LbTransport = {
    exec(command, execOptions = {}) {
      if (closed) return Promise.reject(gone());
      return execOn(client, command, execOptions);
    },
    openUnix(path) {
      if (closed) return Promise.reject(gone());
      return new Promise((resolve, reject) => client.openssh_forwardOutStreamLocal(path, (error, channel) => (error ? reject(error) : resolve(channel))));
    },
    sftp() {
      if (closed) return Promise.reject(gone());
      sftp ??= new Promise<SFTPWrapper>((resolve, reject) => client.sftp((error, session) => (error ? reject(error) : resolve(session))));
      sftp.catch(() => (sftp = undefined));
      return sftp;
    },
    async close() {
      if (closed) return;
      client.end();
      await Promise.race([closedPromise, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    },
  };
  return transport;
}
