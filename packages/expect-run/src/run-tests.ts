import type { TestLoader } from './loader.js';
import type { Reporter } from './report.js';
import { runFile } from './run-file.js';
import { countResult, emptySummary, type RunSummary } from './summary.js';

/** Options of one run over a set of test files. */
export interface RunTestsOptions {
  cwd: string;
  loader: TestLoader;
  reporter: Reporter;
  run: number;
  grep?: RegExp;
  timeoutMs: number;
  signal: AbortSignal;
}

/**
 * Run test files one after another, reporting every result, and total them up. A file that throws
 * while loading counts as one error; the others still run.
 * @example const summary = await runTests(files, { cwd, loader, reporter, run: 1, timeoutMs: 30000, signal })
 */
export async function runTests(files: readonly string[], options: RunTestsOptions): Promise<RunSummary> {
  const summary = emptySummary();
  const started = performance.now();
  for (const file of files) {
    if (options.signal.aborted) break;
    summary.files += 1;
    const report = await runFile(file, {
      cwd: options.cwd,
      loader: options.loader,
      run: options.run,
      grep: options.grep,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      onResult: async (result) => {
        countResult(summary, result);
        await options.reporter.result(result, options.run);
      },
    });
    if (report.loadError) {
      summary.errors += 1;
      await options.reporter.loadError(file, report.loadError, options.run);
    }
  }
  summary.durationMs = performance.now() - started;
  await options.reporter.runEnd();
  return summary;
}
