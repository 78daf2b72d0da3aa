import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { errorFailure, ExpectationError } from './failure.js';
import { locationIn } from './stack.js';
import type { TestLoader } from './loader.js';
import { runnerState, type Entry, type FailureInfo, type FileState, type Outcome, type TestEntry } from './state.js';

/** The result of one expectation or named test of a file. */
export interface TestResult extends Outcome {
  /** Absolute path of the test file. */
  file: string;
  name: string;
}

/** Options of running one test file. */
export interface RunFileOptions {
  cwd: string;
  loader: TestLoader;
  /** Run number (fresh module graph per run). */
  run: number;
  /** Only tests whose name (or file) matches are run and reported. */
  grep?: RegExp;
  timeoutMs: number;
  signal: AbortSignal;
  /** Called with each result as soon as it is known, in the file's order. */
  onResult(result: TestResult): Promise<void> | void;
}

/** What running one file gave: its results and, when it threw while loading, the load failure. */
export interface FileReport {
  file: string;
  results: TestResult[];
  loadError?: FailureInfo;
}

/** A test or expectation that ran out of time or was interrupted by Ctrl-C. */
class RunnerStop extends Error {
  override name = 'RunnerStop';
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new RunnerStop(`timed out after ${timeoutMs} ms`)), timeoutMs);
    const onAbort = (): void => reject(new RunnerStop(`interrupted by ${String(signal.reason)}`));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}

function takeStray(file: FileState): FailureInfo | undefined {
  const state = runnerState();
  if (state.stray.length === 0) return undefined;
  const [first] = state.stray.splice(0);
  return errorFailure(first, file.file, file.cwd, 'uncaught outside the test: ');
}

async function runTest(entry: TestEntry, file: FileState, options: RunFileOptions): Promise<Outcome> {
  const state = runnerState();
  const timeoutMs = entry.options.timeoutMs ?? options.timeoutMs;
  const test = { assertions: 0, pending: [] as Array<Promise<unknown>>, timeoutMs };
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal.reason);
  options.signal.addEventListener('abort', onAbort, { once: true });
  const started = performance.now();
  state.test = test;
  let failure: FailureInfo | undefined;
  let status: Outcome['status'] = 'passed';
  try {
    const body = Promise.resolve().then(() => entry.fn({ signal: controller.signal }));
    await raceAbort(
      body.then(() => Promise.all(test.pending)),
      options.signal,
      timeoutMs,
    );
  } catch (error) {
    if (error instanceof RunnerStop) {
      controller.abort('timeout');
      failure = { message: error.message, location: locationIn(entry.site, file.file, file.cwd) };
    } else failure = errorFailure(error, file.file, file.cwd);
    status = error instanceof ExpectationError ? error.status : 'errored';
  } finally {
    state.test = undefined;
    options.signal.removeEventListener('abort', onAbort);
  }
  const stray = takeStray(file);
  if (!failure && stray) {
    failure = stray;
    status = 'errored';
  }
  return { status, failure, durationMs: performance.now() - started, assertions: test.assertions };
}

async function outcomeOf(entry: Entry, file: FileState, options: RunFileOptions): Promise<Outcome> {
  if (entry.kind === 'test') return runTest(entry, file, options);
  try {
    return await raceAbort(entry.outcome, options.signal, options.timeoutMs + 1000);
  } catch (error) {
    return { status: 'errored', failure: { message: (error as Error).message }, durationMs: 0, assertions: 1 };
  }
}

async function runCleanups(file: FileState): Promise<void> {
  for (const cleanup of file.cleanups.reverse()) {
    try {
      await Promise.race([Promise.resolve().then(cleanup), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    } catch {
      // a failing cleanup (a session already gone) must not stop the others
    }
  }
}

/**
 * Load one test file (its top-level expectations run while it loads), then run its named tests one
 * after another, reporting each result; a file that throws while loading gives `loadError`.
 * SSH connections and browser sessions opened by the file are closed at the end.
 * @example await runFile('/abs/web.expect.ts', { cwd, loader, run: 1, timeoutMs: 30000, signal, onResult: console.log })
 */
export async function runFile(path: string, options: RunFileOptions): Promise<FileReport> {
  const state = runnerState();
  const file: FileState = { file: path, cwd: options.cwd, entries: [], cleanups: [], timeoutMs: options.timeoutMs };
  state.file = file;
  state.stray.length = 0;
  const report: FileReport = { file: path, results: [] };
  try {
    try {
      // top-level awaits count against the time limit too: a file that never finishes loading is an error
      await raceAbort(options.loader.load(path, options.run), options.signal, options.timeoutMs);
    } catch (error) {
      const missing = error instanceof RunnerStop ? undefined : missingLibrary(path);
      report.loadError =
        error instanceof RunnerStop
          ? { message: `did not finish loading: ${error.message}`, location: undefined }
          : missing
            ? { message: missing, location: undefined }
            : errorFailure(error, path, options.cwd, 'threw while loading: ');
    }
    const relative = path.startsWith(options.cwd + '/') ? path.slice(options.cwd.length + 1) : path;
    for (let index = 0; index < file.entries.length; index++) {
      const entry = file.entries[index]!;
      const selected = !options.grep || options.grep.test(entry.name) || options.grep.test(relative);
      if (!selected) {
        if (entry.kind === 'expectation') await entry.outcome;
        continue;
      }
      if (options.signal.aborted) break;
      if (report.loadError && entry.kind === 'test') continue;
      const outcome = await outcomeOf(entry, file, options);
      const result: TestResult = { file: path, name: entry.name, ...outcome };
      report.results.push(result);
      await options.onResult(result);
    }
  } finally {
    await runCleanups(file);
    state.file = undefined;
  }
  return report;
}

/** The package test files import `expect`, `test` and `nodes` from. */
export const LIBRARY = '@forklift/expect-run';

/**
 * When a test file failed to load and it imports @forklift/expect-run, which cannot be resolved from
 * where the file is: the message saying how to install it (node's own error names neither the fix nor,
 * for a CommonJS TypeScript file, even the package).
 * @example missingLibrary('/tmp/x/web.expect.ts') // 'cannot import @forklift/expect-run from /tmp/x: ...'
 */
export function missingLibrary(file: string): string | undefined {
  try {
    if (!readFileSync(file, 'utf8').includes(LIBRARY)) return undefined;
  } catch {
    return undefined;
  }
  try {
    createRequire(file).resolve(LIBRARY);
    return undefined;
  } catch {
    return `cannot import ${LIBRARY} from ${dirname(file)}: install it in the project of the tests (npm install --save-dev ${LIBRARY}) and run that project's runner (npx expect-run)`;
  }
}
