import type { Writable } from 'node:stream';
import { secondsFlag, UsageError, type ToolDefinition } from '@forklift/contract/lite';
import { closeOpenBrowsers } from './browser.js';
import { consoleToStderr } from './console.js';
import { discoverTests } from './discover.js';
import { testLoader, TYPESCRIPT_FILE } from './loader.js';
import { recordReporter, tapReporter } from './report.js';
import { runTests } from './run-tests.js';
import { runnerState } from './state.js';
import { summaryLine, type RunSummary } from './summary.js';
import { USAGE } from './usage.js';
import { EXPECT_RUN_VERSION } from './version.js';
import { watchTests } from './watch.js';

/** Default time limit of a test or async expectation: 30 s. */
export const DEFAULT_TIMEOUT_S = 30;

/** Flags of expect-run (shared with the --tap detection of the bin). */
export const EXPECT_RUN_FLAGS = { boolean: ['watch', 'tap'], string: ['grep', 'timeout'] };

function parseTimeout(value: unknown): number {
  return secondsFlag('timeout', value) ?? DEFAULT_TIMEOUT_S * 1000;
}

function parseGrep(value: unknown): RegExp | undefined {
  if (value === undefined) return undefined;
  try {
    return new RegExp(String(value));
  } catch (error) {
    throw new UsageError(`--grep: not a regular expression: ${(error as Error).message}`);
  }
}

function countsOf(summary: RunSummary, runs: number): Record<string, number> {
  return {
    files: summary.files,
    tests: summary.tests,
    assertions: summary.assertions,
    passed: summary.passed,
    failed: summary.failed,
    errors: summary.errors,
    runs,
  };
}

/**
 * The expect-run tool for contract's main(): with `tapOut`, TAP 14 goes there (and the caller
 * discards the record stream).
 * @example await main(createExpectRunTool(), ['test/'], io)
 */
export function createExpectRunTool(options: { tapOut?: Writable } = {}): ToolDefinition {
  return {
    name: 'expect-run',
    version: EXPECT_RUN_VERSION,
    usage: USAGE,
    failure: 'a test failed or errored',
    stdin: 'optional',
    flags: EXPECT_RUN_FLAGS,
    async run(ctx) {
      const watch = ctx.flags.watch === true;
      const tap = ctx.flags.tap === true;
      if (watch && tap) throw new UsageError('--tap cannot be used with --watch: TAP is one document per run');
      const timeoutMs = parseTimeout(ctx.flags.timeout);
      const grep = parseGrep(ctx.flags.grep);
      const discover = () => discoverTests(ctx.args, ctx.cwd);
      const discovery = discover();
      if (discovery.files.length === 0) throw new UsageError(`no test files (*.expect.ts, *.expect.js) in ${ctx.args.length ? ctx.args.join(' ') : ctx.cwd}`);

      const state = runnerState();
      state.nodes = ctx.nodes;
      state.defaultTimeoutMs = timeoutMs;
      const onStray = (error: unknown): void => {
        if (state.test || state.file) state.stray.push(error);
        else ctx.log(`expect-run: uncaught between tests: ${error instanceof Error ? error.message : String(error)}`);
      };
      process.on('uncaughtException', onStray);
      process.on('unhandledRejection', onStray);
      const restoreConsole = consoleToStderr(ctx.stderr);

      // the library test files import, loaded before the loader hooks exist: no hook round trips for it
      await import('./index.js');
      const loader = await testLoader({ watch, typescript: discovery.files.some((file) => TYPESCRIPT_FILE.test(file)) });
      const reporter = tap && options.tapOut ? tapReporter(ctx, ctx.cwd, options.tapOut) : recordReporter(ctx, ctx.cwd, watch);
      let last: RunSummary;
      const runFiles = async (files: readonly string[], run: number): Promise<void> => {
        last = await runTests(files, { cwd: ctx.cwd, loader, reporter, run, grep, timeoutMs, signal: ctx.signal });
        ctx.log(summaryLine(last));
      };
      try {
        await runFiles(discovery.files, 1);
        let runs = 1;
        if (watch && !ctx.signal.aborted) {
          runs = await watchTests(discovery, 1, {
            discover,
            dependencies: (file) => loader.dependencies(file),
            runFiles,
            log: (line) => ctx.log(line),
            signal: ctx.signal,
          });
        }
        const summary = last!;
        return { ok: summary.failed === 0 && summary.errors === 0, counts: countsOf(summary, runs) };
      } finally {
        await closeOpenBrowsers();
        restoreConsole();
        process.off('uncaughtException', onStray);
        process.off('unhandledRejection', onStray);
      }
    },
  };
}
