import type { NodeRecord } from '@forklift/contract/lite';

/** Options of one command run through a transport. */
export interface ExecOptions {
  /** Bytes written to the command's stdin. */
  stdin?: string | Uint8Array;
  /** A stream piped to the command's stdin after `stdin` (large uploads); stdin closes when it ends (unless holdStdin). */
  stdinStream?: NodeJS.ReadableStream;
  /**
   * Keep stdin open after writing `stdin`, until the command exits or `signal` aborts: its EOF is how
   * run-actions' remote wrapper learns that the caller went away. Default: close stdin after writing.
   */
  holdStdin?: boolean;
  /** Called with each chunk of the command's stdout as it arrives. */
  onStdout?(chunk: Buffer): void;
  /** Called with each chunk of the command's stderr as it arrives. */
  onStderr?(chunk: Buffer): void;
  /** Aborting ends the command: stdin is closed and the channel (or process) is ended. */
  signal?: AbortSignal;
}

/** How a command ended: its exit code (null when it was killed or the channel closed without one). */
export interface ExecResult {
  exitCode: number | null;
  /** The signal name that ended the command, when one did. */
  signal?: string;
}

/**
 * A way to run shell commands on one node: ssh2 for remote nodes, a local shell for `localhost`.
 * `runActions` takes a transport factory, so tests can pass a real sshd or a recording fake.
 * @example const { exitCode } = await transport.exec('uname -a', { onStdout: (b) => process.stderr.write(b) })
 */
export interface Transport {
  /** Run one command line through the login user's shell. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Close the connection; running commands are ended. */
  close(): Promise<void>;
}

/** Opens the transport of one node (default: localTransport for `localhost`, else sshTransport). */
export type TransportFactory = (node: NodeRecord, signal: AbortSignal) => Promise<Transport>;
