import type { NodeRecord } from '@forklift/contract/lite';
import type { Client, ClientChannel } from 'ssh2';
import { connectSsh, type SshConnectOptions } from './ssh-connect.js';
import type { ExecOptions, ExecResult, Transport } from './transport.js';

/** How long an aborted command gets to end after its stdin closed before the channel is closed. */
const ABORT_GRACE_MS = 2000;

function execOnChannel(client: Client, command: string, options: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return resolve({ exitCode: null, signal: 'ABORTED' });
    client.exec(command, (error, channel: ClientChannel) => {
      if (error) return reject(error);
      let exitCode: number | null = null;
      let signal: string | undefined;
      let graceTimer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        // EOF on stdin tells the remote wrapper to kill the script's process group
        channel.end();
        graceTimer = setTimeout(() => channel.close(), ABORT_GRACE_MS);
      };
      // the abort may have come while the channel was being opened
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
      channel.on('data', (chunk: Buffer) => options.onStdout?.(chunk));
      channel.stderr.on('data', (chunk: Buffer) => options.onStderr?.(chunk));
      channel.on('exit', (code: number | null, signalName?: string) => {
        exitCode = typeof code === 'number' ? code : null;
        if (signalName) signal = signalName;
        channel.end();
      });
      channel.once('close', () => {
        clearTimeout(graceTimer);
        options.signal?.removeEventListener('abort', onAbort);
        resolve({ exitCode, signal: signal ?? (options.signal?.aborted && exitCode === null ? 'ABORTED' : undefined) });
      });
      if (options.signal?.aborted) return;
      if (options.stdin !== undefined) channel.write(options.stdin);
      if (options.stdinStream) {
        options.stdinStream.on('error', () => channel.close());
        options.stdinStream.pipe(channel, { end: !options.holdStdin });
        return;
      }
      if (!options.holdStdin) channel.end();
    });
  });
}

/**
 * A Transport over one ssh2 connection to the node (opened now, verified host key, TCP_NODELAY);
 * each exec is one channel on that connection.
 * @example const transport = await sshTransport(node); await transport.exec('id -u', { onStdout })
 */
export async function sshTransport(node: NodeRecord, options: SshConnectOptions = {}): Promise<Transport> {
  const client = await connectSsh(node, options);
  let closed = false;
  const closedPromise = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.on('error', () => undefined);
  client.once('close', () => (closed = true));
  const transport: Transport = {
    exec(command, execOptions = {}) {
      if (closed) return Promise.reject(new Error(`connection to ${node.address}:${node.port} is closed`));
      return execOnChannel(client, command, execOptions);
    },
    async close() {
      if (closed) return;
      client.end();
      await Promise.race([closedPromise, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    },
  };
  return transport;
}
