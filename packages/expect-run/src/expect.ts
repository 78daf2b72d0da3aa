import { readFileSync } from 'node:fs';
import { errorFailure, ExpectationError, mismatchFailure, siteFailure } from './failure.js';
import { evaluate, type Verdict } from './evaluate.js';
import { locationIn, parseStack } from './stack.js';
import { runnerState, type FailureInfo, type FileState, type Outcome, type TestContext, type TestOptions } from './state.js';

/** Options of one expectation. */
export interface ExpectOptions {
  /** How long an async actual value may take, in ms (default: the test's or the runner's timeout). */
  timeoutMs?: number;
}

function failureOf(verdict: Verdict, expected: unknown, siteStack: string | undefined, file: FileState | undefined): FailureInfo | undefined {
  const cwd = file?.cwd ?? process.cwd();
  if (verdict.kind === 'checked') {
    return verdict.mismatches.length ? mismatchFailure(verdict.mismatches, expected, verdict.actual, siteStack, file?.file, cwd) : undefined;
  }
  if (verdict.kind === 'timeout') return siteFailure(verdict.message, siteStack, file?.file, cwd);
  const failure = errorFailure(verdict.error, file?.file, cwd, verdict.message);
  // the site of the expectation says more than where a remote library threw
  const location = locationIn(siteStack, file?.file, cwd);
  return { ...failure, location: failure.location?.startsWith(relativeOf(file)) ? failure.location : location };
}

function relativeOf(file: FileState | undefined): string {
  if (!file) return '\0';
  return file.file.startsWith(file.cwd + '/') ? file.file.slice(file.cwd.length + 1) : file.file;
}

function sourceLine(file: FileState, line: number): string {
  try {
    file.lines ??= readFileSync(file.file, 'utf8').split('\n');
  } catch {
    file.lines = [];
  }
  const text = (file.lines[line - 1] ?? '').trim().replace(/;$/, '');
  return text.length > 100 ? text.slice(0, 99) + '…' : text;
}

function expectationName(file: FileState, siteStack: string | undefined): string {
  const frame = parseStack(siteStack).find((candidate) => candidate.file === file.file);
  if (!frame) return `expect #${file.entries.length + 1}`;
  return `line ${frame.line}: ${sourceLine(file, frame.line)}`;
}

/**
 * `expect(expected, actual)`: the check is inferred from `expected` — a value: deep equality; a
 * RegExp: match; a class: instanceof; an Error class with a function: throws; a function: predicate;
 * `inObj`/`inArray`/`inSet`/`inside`/`more`/`moreOf`: what they say. A promise actual (or an async
 * function) is awaited within the timeout. At the top level of a test file each call is one test;
 * inside `test()` a failure throws (await it when the actual value is async).
 * @example expect(3306, config.db.port); await expect(inObj({ status: 200 }), http(web, 80, '/'))
 */
export function expect(expected: unknown, actual: unknown, options: ExpectOptions = {}): Promise<void> {
  const site: { stack?: string } = {};
  // deep enough to reach the test file's frame through helpers and async wrappers
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  Error.captureStackTrace(site, expect);
  Error.stackTraceLimit = limit;
  const state = runnerState();
  const file = state.file;
  const test = state.test;
  const timeoutMs = options.timeoutMs ?? test?.timeoutMs ?? file?.timeoutMs ?? state.defaultTimeoutMs;
  const started = performance.now();
  const verdict = evaluate(expected, actual, timeoutMs);

  if (file && !test) {
    // a bare top-level expectation: its own test, never throws
    const toOutcome = (settled: Verdict): Outcome => {
      const failure = failureOf(settled, expected, site.stack, file);
      const status = !failure ? 'passed' : settled.kind === 'error' ? 'errored' : 'failed';
      return { status, failure, durationMs: performance.now() - started, assertions: 1 };
    };
    const outcome = verdict instanceof Promise ? verdict.then(toOutcome) : Promise.resolve(toOutcome(verdict));
    file.entries.push({ kind: 'expectation', name: expectationName(file, site.stack), outcome });
    return outcome.then(() => undefined);
  }

  if (test) test.assertions += 1;
  const judge = (settled: Verdict): void => {
    const failure = failureOf(settled, expected, site.stack, file);
    if (!failure) return;
    throw new ExpectationError(failure, settled.kind === 'error' ? 'errored' : 'failed');
  };
  if (!(verdict instanceof Promise)) {
    judge(verdict);
    return Promise.resolve();
  }
  const done = verdict.then(judge);
  // an un-awaited async expectation is still awaited by the runner at the end of its test
  done.catch(() => undefined);
  test?.pending.push(done);
  return done;
}

/**
 * Declare a named test of a test file: its body may hold several expectations and awaits; the first
 * failing expectation ends it. Tests run one after another after the file has loaded.
 * @example test('web answers on port 80', async () => { await expect(inObj({ status: 200 }), http(web, 80, '/')) })
 */
export function test(name: string, fn: (context: TestContext) => unknown, options: TestOptions = {}): void {
  const state = runnerState();
  if (!state.file) throw new Error(`test("${name}"): tests run only in a test file loaded by expect-run`);
  if (state.test) throw new Error(`test("${name}"): a test cannot declare another test`);
  const site: { stack?: string } = {};
  Error.captureStackTrace(site, test);
  state.file.entries.push({ kind: 'test', name, fn, options, site: site.stack });
}
