import { AsyncLocalStorage } from 'node:async_hooks';
import { execa, type Options } from 'execa';

/** Result of a host command run with `run`. */
export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Where host commands are traced during one provisionNodes/listNodes call (set from that call's injected
 * env, `FORKLIFT_TRACE=1`): a per-call context, not a global flag and not a read of process.env.
 * @example await commandTrace.run((line) => log(line), () => converge(provider, ctx, target))
 */
export const commandTrace = new AsyncLocalStorage<(line: string) => void>();

/**
 * Run a host command without a shell (arguments are an array: no quoting needed); throws with its
 * stderr when it fails unless `reject: false`.
 * @example await run('ip', ['link', 'del', 'flbr-1a2b3c'], { reject: false })
 */
export async function run(command: string, args: string[], options: Options & { reject?: boolean } = {}): Promise<RunResult> {
  const started = performance.now();
  const result = await execa(command, args, { ...(options.input === undefined ? { stdin: 'ignore' as const } : {}), ...options, reject: false });
  // FORKLIFT_TRACE=1 shows every host command and its duration
  commandTrace.getStore()?.(`trace: ${Math.round(performance.now() - started)} ms ${[command, ...args].join(' ')}`);
  const out: RunResult = {
    exitCode: result.exitCode ?? (result.failed ? 1 : 0),
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
  };
  if (options.reject !== false && out.exitCode !== 0) {
    const detail = (out.stderr || out.stdout).trim().split('\n').slice(-3).join(' / ');
    throw new Error(`${command} ${args.join(' ')} failed (exit ${out.exitCode}): ${detail || String(result.message ?? '')}`);
  }
  return out;
}
