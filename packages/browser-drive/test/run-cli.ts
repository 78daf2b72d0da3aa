import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { descendantPids } from '../src/processes.js';

/** The repository root. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = join(REPO_ROOT, 'packages', 'browser-drive', 'src', 'cli.ts');

/** A finished CLI run: exit code, records, stderr, and every process that ever ran under it. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  records: Array<Record<string, unknown>>;
  stdout: string;
  stderr: string;
  /** PIDs of every descendant seen while it ran (polled every 50 ms). */
  descendants: number[];
}

/** A running CLI: the child, its stdout so far, and the result. */
export interface CliRun {
  child: ChildProcess;
  stdout(): string;
  result: Promise<CliResult>;
}

/** Start browser-drive from source (tsx) with stdin text and extra env. */
export function startCli(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(options.stdin ?? '');
  const seen = new Set<number>();
  const poll = setInterval(() => {
    if (child.pid !== undefined) for (const pid of descendantPids(child.pid)) seen.add(pid);
  }, 50);
  const killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const result = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(killer);
      const records = stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      resolve({ code, signal, records, stdout, stderr, descendants: [...seen] });
    });
  });
  return { child, stdout: () => stdout, result };
}

/** Run browser-drive to its end. */
export function runCli(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return startCli(args, options).result;
}

/** Run browser-drive in this process through the contract's main() (for fast usage and input checks). */
export async function runInProcess(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<Omit<CliResult, 'descendants' | 'signal'>> {
  const { main } = await import('@forklift/contract');
  const { browserDriveTool } = await import('../src/tool.js');
  const { PassThrough, Readable } = await import('node:stream');
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
  const code = await main(browserDriveTool, args, {
    stdin: Readable.from([Buffer.from(options.stdin ?? '')]),
    stdout,
    stderr,
    env: { ...process.env, ...options.env },
    cwd: REPO_ROOT,
  });
  const records = out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code, records, stdout: out, stderr: err };
}
