import type { NodeRecord } from '@forklift/contract/lite';

/** Why a test or expectation did not pass: the fields of a test record's `failure`, plus the trimmed stack. */
export interface FailureInfo {
  message: string;
  expected?: unknown;
  actual?: unknown;
  diff?: string;
  location?: string;
  /** The stack trace cut to the user's frames (stderr only). */
  stack?: string;
}

/** How one expectation or test ended. */
export interface Outcome {
  status: 'passed' | 'failed' | 'errored';
  failure?: FailureInfo;
  durationMs: number;
  assertions: number;
}

/** A bare top-level `expect(...)` of a test file: it runs while the file loads. */
export interface ExpectationEntry {
  kind: 'expectation';
  name: string;
  outcome: Promise<Outcome>;
}

/** Options of a named test. */
export interface TestOptions {
  /** Time limit of this test in ms (default: the runner's --timeout). */
  timeoutMs?: number;
}

/** What a test body receives: an AbortSignal aborted on timeout or Ctrl-C. */
export interface TestContext {
  signal: AbortSignal;
}

/** A named `test('name', async () => ...)` of a test file: it runs after the file loaded. */
export interface TestEntry {
  kind: 'test';
  name: string;
  fn: (context: TestContext) => unknown;
  options: TestOptions;
  /** Stack at the test() call: where a timeout points. */
  site?: string;
}

/** Something registered by a test file. */
export type Entry = ExpectationEntry | TestEntry;

/** The test file being run. */
export interface FileState {
  /** Absolute path. */
  file: string;
  cwd: string;
  entries: Entry[];
  /** Run when the file is done (SSH connections, browser sessions), last registered first. */
  cleanups: Array<() => unknown>;
  timeoutMs: number;
  /** Cache of the file's source lines, for expectation names. */
  lines?: string[];
}

/** The named test being run. */
export interface TestState {
  assertions: number;
  /** Expectations with async actual values, awaited before the test ends. */
  pending: Array<Promise<unknown>>;
  timeoutMs: number;
}

/** Everything the runner shares with the test files (kept on globalThis so every copy of this package sees it). */
export interface RunnerState {
  nodes: NodeRecord[];
  defaultTimeoutMs: number;
  file?: FileState;
  test?: TestState;
  /** Errors thrown or rejected outside any awaited code while a test ran. */
  stray: unknown[];
}

const KEY = Symbol.for('forklift.expect-run.state');

/** The runner state of this process (created on first use). */
export function runnerState(): RunnerState {
  const holder = globalThis as unknown as Record<symbol, RunnerState | undefined>;
  return (holder[KEY] ??= { nodes: [], defaultTimeoutMs: 30_000, stray: [] });
}

/**
 * Run `fn` when the current test file is done (or now-ish, at process exit, outside the runner).
 * Used for SSH connections and browser sessions.
 * @example onFileEnd(() => session.close())
 */
export function onFileEnd(fn: () => unknown): void {
  const file = runnerState().file;
  if (file) file.cleanups.push(fn);
  else process.once('beforeExit', () => void fn());
}
