import type { Writable } from 'node:stream';
import { colorDiff, type ToolContext } from '@forklift/contract/lite';
import type { TestResult } from './run-file.js';
import type { FailureInfo } from './state.js';

/** Where results go: records on stdout (default) or TAP 14; focused failures always on stderr. */
export interface Reporter {
  result(result: TestResult, run: number): Promise<void>;
  loadError(file: string, failure: FailureInfo, run: number): Promise<void>;
  /** The end of one run (TAP closes its plan here). */
  runEnd(): Promise<void>;
}

function relativeTo(cwd: string, file: string): string {
  return file.startsWith(cwd + '/') ? file.slice(cwd.length + 1) : file;
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((line) => by + line)
    .join('\n');
}

/** A failure for the person at the terminal (kept with -q: it is an error): what, where, and the whole diff when the message shows only part of it. */
function stderrFailure(ctx: ToolContext, label: string, failure: FailureInfo): void {
  const text = failure.stack ?? failure.message + (failure.location ? `\n    at ${failure.location}` : '');
  const rest = failure.diff?.startsWith(failure.message + '\n') ? failure.diff.slice(failure.message.length + 1) : failure.diff;
  const diff = rest && rest !== failure.message ? `\n${indent(colorDiff(rest, ctx.colors), '    ')}` : '';
  ctx.warn(`${ctx.colors.red(label)}\n${indent(text, '  ')}${diff}`);
}

function recordFailure(failure: FailureInfo): Omit<FailureInfo, 'stack'> {
  const { stack: _stack, ...fields } = failure;
  return fields;
}

/** A duration in whole milliseconds, as every record has it. */
function roundMs(ms: number): number {
  return Math.round(ms);
}

/**
 * The reporter writing one `test` record per result (and an `error` record per file that failed to
 * load); with `watch`, records carry the run number.
 */
export function recordReporter(ctx: ToolContext, cwd: string, watch: boolean): Reporter {
  return {
    async result(result, run) {
      const file = relativeTo(cwd, result.file);
      if (result.failure) stderrFailure(ctx, `${result.status === 'failed' ? 'FAIL' : 'ERROR'} ${file} > ${result.name}`, result.failure);
      else ctx.detail(`${ctx.colors.green('PASS')} ${file} > ${result.name} ${ctx.colors.dim(`(${Math.round(result.durationMs)} ms)`)}`);
      await ctx.emit('test', {
        file,
        name: result.name,
        status: result.status,
        durationMs: roundMs(result.durationMs),
        ...(result.failure ? { failure: recordFailure(result.failure) } : {}),
        assertions: result.assertions,
        ...(watch ? { run } : {}),
      });
    },
    async loadError(path, failure, run) {
      const file = relativeTo(cwd, path);
      stderrFailure(ctx, `ERROR ${file} (loading)`, failure);
      await ctx.emit('error', {
        code: 'load-failed',
        message: `${file}: ${failure.message}`,
        file,
        ...(failure.location ? { location: failure.location } : {}),
        ...(watch ? { run } : {}),
      });
    },
    async runEnd() {},
  };
}

function tapEscape(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/#/g, '\\#').replace(/\n/g, ' ');
}

function yamlBlock(fields: Record<string, unknown>): string {
  const lines = ['  ---'];
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) lines.push(`  ${key}: ${JSON.stringify(value)}`);
  lines.push('  ...');
  return lines.join('\n') + '\n';
}

/** The reporter writing TAP 14 (for tap's reporters) instead of records. */
export function tapReporter(ctx: ToolContext, cwd: string, out: Writable): Reporter {
  let count = 0;
  let started = false;
  const write = (text: string): Promise<void> =>
    new Promise((resolve) => {
      if (!started) {
        started = true;
        text = 'TAP version 14\n' + text;
      }
      if (out.write(text)) resolve();
      else out.once('drain', () => resolve());
    });
  return {
    async result(result) {
      count += 1;
      const file = relativeTo(cwd, result.file);
      const title = tapEscape(`${file} > ${result.name}`);
      if (!result.failure) return write(`ok ${count} - ${title} # time=${result.durationMs.toFixed(2)}ms\n`);
      stderrFailure(ctx, `${result.status === 'failed' ? 'FAIL' : 'ERROR'} ${file} > ${result.name}`, result.failure);
      const { message, location, expected, actual, diff } = result.failure;
      return write(`not ok ${count} - ${title}\n${yamlBlock({ message, status: result.status, at: location, expected, actual, diff })}`);
    },
    async loadError(path, failure) {
      count += 1;
      const file = relativeTo(cwd, path);
      stderrFailure(ctx, `ERROR ${file} (loading)`, failure);
      return write(`not ok ${count} - ${tapEscape(file)} (loading)\n${yamlBlock({ message: failure.message, at: failure.location })}`);
    },
    async runEnd() {
      await write(`1..${count}\n`);
    },
  };
}
