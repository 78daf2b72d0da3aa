import type { ExecResult, Transport } from './transport.js';

const ABORT_GRACE_MS = 2000;

/**
 * A Transport that runs commands on this machine with `sh -c` (execa), for `localhost` nodes.
 * @example const { exitCode } = await localTransport().exec('true')
 */
export function localTransport(): Transport {
  const transport: Transport = {
    async exec(command, options = {}): Promise<ExecResult> {
      if (options.signal?.aborted) return { exitCode: null, signal: 'ABORTED' };
      // loaded on first use: most runs have no localhost node
      const { execa } = await import('execa');
      const child = execa('sh', ['-c', command], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: false, reject: false });
      child.stdout!.on('data', (chunk: Buffer) => options.onStdout?.(chunk));
      child.stderr!.on('data', (chunk: Buffer) => options.onStderr?.(chunk));
      child.stdin!.on('error', () => undefined);
      let graceTimer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        child.stdin!.end();
        graceTimer = setTimeout(() => child.kill('SIGTERM'), ABORT_GRACE_MS);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.stdin !== undefined) child.stdin!.write(options.stdin);
      if (options.stdinStream) {
        options.stdinStream.on('error', () => child.kill('SIGTERM'));
        options.stdinStream.pipe(child.stdin!, { end: !options.holdStdin });
      } else if (!options.holdStdin) child.stdin!.end();
      const result = await child;
      clearTimeout(graceTimer);
      options.signal?.removeEventListener('abort', onAbort);
      child.stdin!.end();
      return { exitCode: result.exitCode ?? null, signal: result.signal ?? undefined };
    },
    async close() {
      // nothing held open
    },
  };
  return transport;
}
