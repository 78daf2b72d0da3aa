import { spawn, type ChildProcess } from 'node:child_process';
import { UnavailableError } from '@forklift/contract';
import { APT_HINT } from './binaries.js';
import { ProcessSet, waitGone } from './processes.js';

/** Spawn a child in its own process group (so everything it starts stays findable), not keeping this process alive. */
function spawnDetached(path: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * The processes one launch started (chromium, chromedriver) and everything they start, tracked by PID
 * and start time so that stopping them never signals a process that is not ours.
 */
export class LaunchedProcesses {
  readonly #known = new ProcessSet();
  readonly #children: ChildProcess[] = [];
  readonly #env: NodeJS.ProcessEnv;
  readonly #prefix: readonly string[];

  /**
   * `env` is the whole environment the children get (nothing is read past it); `prefix` a command the
   * children run through (setpriv, which execs the program: the pid and process group stay the same).
   */
  constructor(env: NodeJS.ProcessEnv, prefix: readonly string[] = []) {
    this.#env = env;
    this.#prefix = prefix;
  }

  /** Start one child, detached in its own process group, and track it and its group. */
  start(path: string, args: string[]): ChildProcess {
    const prefix = this.#prefix;
    const child = prefix.length ? spawnDetached(prefix[0]!, [...prefix.slice(1), path, ...args], this.#env) : spawnDetached(path, args, this.#env);
    this.#children.push(child);
    if (child.pid !== undefined) {
      this.#known.add(child.pid);
      // chromium and everything it starts stay in its group, even when orphaned
      this.#known.trackGroup(child.pid, () => child.exitCode === null && child.signalCode === null);
    }
    return child;
  }

  /** Remember every process the children have started so far. */
  addDescendants(): void {
    this.#known.addDescendants();
  }

  /** Every PID ever tracked (some may have exited). */
  pids(): number[] {
    return this.#known.pids();
  }

  /** At exit: kill everything and wait synchronously for the kills to land (at most `timeoutMs`). */
  killAllAndWait(timeoutMs: number): void {
    this.#known.killAllAndWait(timeoutMs);
  }

  /**
   * Kill the whole tree and wait until the children have exited and every tracked process is gone
   * (at most 3 s for the latter); returns the PIDs still alive.
   */
  async stop(): Promise<number[]> {
    this.#known.killAll();
    // unref'd while running; waiting for their exit must keep the process alive
    for (const child of this.#children) child.ref();
    await Promise.all(this.#children.map(exited));
    return waitGone(this.#known.alive(), 3000);
  }
}

/** Keep the last few KiB a child wrote on a stream, for error messages; keeps draining so it never blocks. */
export function tail(stream: NodeJS.ReadableStream | null): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-4096);
  });
  return () => text.trim();
}

function lastLines(text: string): string {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  return lines.slice(-3).join(' | ') || 'no output';
}

/**
 * Rejects with UnavailableError (naming the child and its last output) when the child exits or fails
 * to start; never resolves. The rejection is marked handled: race it against what waits for the child.
 */
export function exitedEarly(child: ChildProcess, what: string, output: () => string): Promise<never> {
  const died = new Promise<never>((_, reject) => {
    const onExit = (code: number | null, signal: string | null): void =>
      reject(new UnavailableError(`${what} exited early (${signal ?? `status ${code}`}): ${lastLines(output())}`, { code: 'no-browser' }));
    const onError = (error: Error): void =>
      reject(new UnavailableError(`${what} could not start: ${error.message}; ${APT_HINT}`, { code: 'no-browser', cause: error }));
    child.once('exit', onExit);
    child.once('error', onError);
  });
  died.catch(() => undefined);
  return died;
}
