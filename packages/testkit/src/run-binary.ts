import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { undeclaredFields } from './record-drift.js';
import { REPO_ROOT } from './repo-root.js';

/** What a finished binary run gave: exit code, parsed stdout records, raw stdout and stderr. */
export interface BinaryResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Every stdout line parsed as JSON (lines that are not JSON make runBinary throw). */
  records: Array<Record<string, unknown>>;
  stdout: string;
  stderr: string;
}

/** Options of runBinary/spawnBinary. */
export interface BinaryOptions {
  /** Text written to stdin, then stdin is closed (default: empty stdin). */
  stdin?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Kill the process (SIGKILL) after this many ms (default 120000). */
  timeoutMs?: number;
  /** stdout is text (--help, --version), not records: leave `records` empty instead of parsing. */
  text?: boolean;
  /**
   * Accept records with fields their kind's JSON Schema does not declare (only for tests that feed such
   * records in on purpose): by default such a field fails the run (schema drift).
   */
  allowUndeclared?: boolean;
}

/** A spawned binary: the child process, its output so far and a promise of its result. */
export interface SpawnedBinary {
  child: ChildProcess;
  /** stdout and stderr collected so far. */
  output(): { stdout: string; stderr: string };
  result: Promise<BinaryResult>;
}

export { REPO_ROOT };

/** Path of a forklift package's bin shim: `binPath('run-actions')`, or a path as given when it contains a slash. */
export function binPath(name: string): string {
  if (name.includes('/')) return name;
  return join(REPO_ROOT, 'packages', name, 'bin', `${name}.js`);
}

function parseRecords(stdout: string, allowUndeclared = false): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`stdout line ${index + 1} is not JSON: ${line.slice(0, 200)}`);
      }
      const undeclared = allowUndeclared ? [] : undeclaredFields(record);
      if (undeclared.length) {
        throw new Error(
          `stdout line ${index + 1}: ${undeclared.join(', ')} not declared in the record schemas (packages/contract/src/records.ts, then npm run schema)`,
        );
      }
      return record;
    });
}

/**
 * Start a forklift binary (built dist) under this node, feeding `stdin`; use for signals mid-run.
 * @example const run = spawnBinary('run-actions', ['--plan'], { stdin }); run.child.kill('SIGINT'); await run.result
 */
export function spawnBinary(name: string, args: string[] = [], options: BinaryOptions = {}): SpawnedBinary {
  const child = spawn(process.execPath, [binPath(name), ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(options.stdin ?? '');
  const result = new Promise<BinaryResult>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      try {
        resolve({ exitCode, signal, records: options.text ? [] : parseRecords(stdout, options.allowUndeclared), stdout, stderr });
      } catch (error) {
        reject(error);
      }
    });
  });
  return { child, output: () => ({ stdout, stderr }), result };
}

/**
 * Run a forklift binary to its end with stdin text; returns exit code, stdout records and stderr.
 * @example const { exitCode, records, stderr } = await runBinary('run-actions', [], { stdin: nodeLines })
 */
export function runBinary(name: string, args: string[] = [], options: BinaryOptions = {}): Promise<BinaryResult> {
  return spawnBinary(name, args, options).result;
}

/** NDJSON text of records (one line each), for a binary's stdin. @example toNdjson([sshd.node]) */
export function toNdjson(records: ReadonlyArray<object>): string {
  return records.map((record) => JSON.stringify(record) + '\n').join('');
}
