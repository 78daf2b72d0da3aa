// The machinery every recipe shares: strict arguments and --help, one stderr line per step with its
// duration, pipelines of forklift binaries whose records are kept (--records FILE) and checked (a
// failing stage or an upstream summary with ok:false fails the step), cleanups that run whatever
// happens, a final summary (stderr line + summary record on stdout) and the contract's exit codes.
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgv } from '@forklift/contract/lite';
import { $ } from 'zx';

/** The folder holding the recipes (recipes/). */
export const RECIPES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Exit codes (the contract's, shared by every forklift binary). */
export const EXIT = { ok: 0, failed: 1, usage: 64, input: 65, unavailable: 69, internal: 70, sigint: 130, sigterm: 143 };

/** An error that ends the recipe with an exit code and one stderr line. */
export class RecipeError extends Error {
  constructor(message, exitCode = EXIT.failed) {
    super(message);
    this.exitCode = exitCode;
  }
}
/** Bad command line (exit 64). */
export const usageError = (message) => new RecipeError(message, EXIT.usage);
/** Bad input, and a refusal to repeat work that is already finished (exit 65). */
export const refusal = (message) => new RecipeError(message, EXIT.input);
/** A prerequisite is missing: the message says how to get it (exit 69). */
export const unavailable = (message) => new RecipeError(message, EXIT.unavailable);

/** The folders where forklift's binaries are installed, nearest first. */
function binDirs() {
  const out = [];
  for (let dir = RECIPES_DIR; ; dir = dirname(dir)) {
    const bin = join(dir, 'node_modules', '.bin');
    if (existsSync(bin)) out.push(bin);
    if (dirname(dir) === dir) return out;
  }
}

/** Milliseconds as people read them: `850 ms`, `4.2 s`, `1 min 52 s`. */
export function formatDuration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** A record as forklift writes it: v and kind first, the other keys sorted. */
export function formatRecord(record) {
  const { v, kind, ...rest } = record;
  const sorted = { v, kind };
  for (const key of Object.keys(rest).sort()) sorted[key] = rest[key];
  return JSON.stringify(sorted);
}

const COMMON_HELP = `Common options:
  --records FILE   save every record of the run (NDJSON) to FILE
  -v, --verbose    show the tools' own stderr as they run (else only when a step fails)
  -q, --quiet      only failures and the final summary on stderr
  -h, --help       this help;  --version  the recipes' version

Exit codes: 0 done · 1 a step failed (a tool failed, a test failed, a summary said ok:false, a gate
rolled back) · 64 usage · 65 bad input, or work already finished (refused) · 69 a prerequisite is
missing (the message says how to get it) · 70 internal error · 130/143 interrupted (SIGINT/SIGTERM).`;

/**
 * Run a recipe: parse argv against `definition`, call `body(recipe)`, print the summary, exit.
 * @example await runRecipe({ name: 'dev-qa', usage, flags: { string: ['service'] }, args: [1, 1] }, async (r) => { await r.pipe('nodes', r.$`provision-node local --list`); })
 */
export async function runRecipe(definition, body) {
  const argv = process.argv.slice(2);
  let parsed;
  try {
    parsed = parseArgv(argv, {
      boolean: ['help', 'version', 'verbose', 'quiet', ...(definition.flags?.boolean ?? [])],
      string: ['records', ...(definition.flags?.string ?? [])],
      multiple: definition.flags?.multiple ?? [],
      alias: { h: 'help', v: 'verbose', q: 'quiet', ...(definition.flags?.alias ?? {}) },
      default: definition.flags?.default ?? {},
    });
  } catch (error) {
    process.stderr.write(`${definition.name}: ${error.message} (see ${definition.name} --help)\n`);
    process.exit(EXIT.usage);
  }
  if (parsed.flags.version) {
    const { version } = JSON.parse(readFileSync(join(RECIPES_DIR, 'package.json'), 'utf8'));
    process.stdout.write(`${definition.name} ${version}\n`);
    process.exit(EXIT.ok);
  }
  if (parsed.flags.help) {
    process.stdout.write(`${definition.usage.trimEnd()}\n\n${COMMON_HELP}\n`);
    process.exit(EXIT.ok);
  }
  const [min, max] = definition.args ?? [0, 0];
  if (parsed.args.length < min || parsed.args.length > max) {
    const what = parsed.args.length < min ? `missing ${definition.argsName ?? 'argument'}` : `unexpected argument ${JSON.stringify(parsed.args[max])}`;
    process.stderr.write(`${definition.name}: ${what} (see ${definition.name} --help)\n`);
    process.exit(EXIT.usage);
  }
  // a reader of our output that went away (`make dev-qa 2>&1 | tee log` interrupted, a parent that
  // died) must not end the recipe before its cleanups (tearing nodes down): EPIPE is ignored, the
  // lines are lost, the run goes on to its end
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  const recipe = new Recipe(definition.name, parsed);
  const code = await recipe.execute(body);
  process.exit(code);
}

/** One run of a recipe: its steps, records, cleanups and summary. */
export class Recipe {
  constructor(name, { args, flags }) {
    this.name = name;
    this.args = args;
    this.flags = flags;
    this.verbose = flags.verbose === true;
    this.quiet = flags.quiet === true && !this.verbose;
    this.started = performance.now();
    this.steps = [];
    this.cleanups = [];
    this.running = new Set();
    this.recordCount = 0;
    this.env = { ...process.env, PATH: [...binDirs(), process.env.PATH ?? '/usr/bin:/bin'].join(':') };
    this.cwd = process.cwd();
    this.recordsFile = typeof flags.records === 'string' ? resolve(flags.records) : undefined;
    if (this.recordsFile) {
      mkdirSync(dirname(this.recordsFile), { recursive: true });
      this.recordsStream = createWriteStream(this.recordsFile, { flags: 'w' });
    }
    this.interrupted = undefined;
  }

  /**
   * zx's `$` for this run: the recipe's environment (forklift's binaries first on PATH), working
   * directory, never throwing (steps decide), halted until a step starts it.
   */
  get $() {
    return $({ cwd: this.cwd, env: this.env, nothrow: true, quiet: true, halt: true });
  }

  /** The same `$`, with other options (`cwd`, `env` additions, `input`). */
  with({ cwd, env, input } = {}) {
    return $({ cwd: cwd ?? this.cwd, env: { ...this.env, ...(env ?? {}) }, nothrow: true, quiet: true, halt: true, ...(input !== undefined ? { input } : {}) });
  }

  /** A human line on stderr (silent with -q). */
  log(line) {
    if (!this.quiet) process.stderr.write(`${line}\n`);
  }

  /** A line on stderr even with -q. */
  warn(line) {
    process.stderr.write(`${line}\n`);
  }

  /** Keep one record (the --records file). */
  keep(record) {
    this.recordCount += 1;
    this.recordsStream?.write(`${typeof record === 'string' ? record : formatRecord(record)}\n`);
  }

  /**
   * A step: runs `fn`, then prints its line with the duration. A throw fails the step (and the
   * recipe, unless the caller catches it).
   */
  async step(name, fn) {
    if (this.interrupted) throw new RecipeError('interrupted', this.interrupted);
    const started = performance.now();
    const entry = { name, ok: false, durationMs: 0 };
    this.steps.push(entry);
    if (process.stderr.isTTY && !this.quiet) process.stderr.write(`${this.name}: … ${name}\n`);
    try {
      const value = await fn();
      entry.ok = true;
      return value;
    } catch (error) {
      entry.error = error.message;
      throw error;
    } finally {
      entry.durationMs = Math.round(performance.now() - started);
      const line = `${this.name}: ${entry.ok ? '✓' : '✗'} ${name} (${formatDuration(entry.durationMs)})${entry.ok ? '' : ` — ${entry.error}`}`;
      if (entry.ok) this.log(line);
      else this.warn(line);
    }
  }

  /**
   * Run one pipeline (a halted zx process from `r.$`) as a step. Every record it writes is kept;
   * the step fails when any stage exits non-zero (bash's pipefail) or any summary record says
   * ok:false. Returns the records. `onRecord(record)` sees them as they come.
   */
  async pipe(name, process_, { onRecord, onStderr } = {}) {
    return this.step(name, async () => {
      const { records, exitCode, stderrTail } = await this.runPipeline(process_, { onRecord, onStderr });
      const problem = pipelineProblem(records, exitCode);
      if (problem) {
        if (!this.verbose && stderrTail.length > 0) this.warn(stderrTail.map((line) => `    ${line}`).join('\n'));
        throw new RecipeError(problem.message, problem.exitCode);
      }
      return records;
    });
  }

  /** Start a halted zx process, stream its records into the records file, wait for it. */
  async runPipeline(process_, { onRecord, onStderr } = {}) {
    const records = [];
    const stderrTail = [];
    let pending = '';
    let errPending = '';
    const take = (line) => {
      if (line.trim() === '') return;
      let record;
      try {
        record = JSON.parse(line);
      } catch {
        record = { v: 1, kind: 'error', code: 'not-a-record', message: `a tool wrote a line that is not a record: ${line.slice(0, 200)}` };
      }
      records.push(record);
      this.keep(line.startsWith('{') ? line : record);
      onRecord?.(record);
    };
    const takeErr = (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 40) stderrTail.shift();
      if (this.verbose) process.stderr.write(`    ${line}\n`);
      onStderr?.(line);
    };
    process_.run();
    this.running.add(process_);
    process_.stdout.setEncoding('utf8').on('data', (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) take(line);
    });
    process_.stderr.setEncoding('utf8').on('data', (chunk) => {
      errPending += chunk;
      const lines = errPending.split('\n');
      errPending = lines.pop();
      for (const line of lines) takeErr(line);
    });
    const output = await process_;
    this.running.delete(process_);
    if (pending) take(pending);
    if (errPending) takeErr(errPending);
    return { records, exitCode: output.exitCode ?? (output.signal ? 128 : 70), stderrTail };
  }

  /** Run `fn` at the end of the recipe, whatever happened (last registered first). */
  finally(name, fn) {
    const cleanup = { name, fn };
    this.cleanups.push(cleanup);
    return () => {
      this.cleanups = this.cleanups.filter((c) => c !== cleanup);
    };
  }

  /** Run the body, the cleanups, print the summary; the exit code. */
  async execute(body) {
    let code = EXIT.ok;
    let failure;
    const onSignal = (signal) => {
      if (this.interrupted) return;
      this.interrupted = signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
      this.warn(`${this.name}: ${signal}: stopping the running step`);
      for (const child of this.running) child.kill(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await body(this);
    } catch (error) {
      failure = error;
      code = error instanceof RecipeError ? error.exitCode : EXIT.internal;
      if (!(error instanceof RecipeError) || !this.steps.some((s) => s.error === error.message)) {
        this.warn(`${this.name}: ${error instanceof RecipeError ? error.message : (error.stack ?? error.message)}`);
      }
    }
    if (this.interrupted) code = this.interrupted;
    const stillRunning = this.interrupted;
    this.interrupted = undefined; // cleanups must run even after Ctrl-C
    for (const cleanup of [...this.cleanups].reverse()) {
      try {
        await this.step(cleanup.name, cleanup.fn);
      } catch (error) {
        if (code === EXIT.ok) code = error instanceof RecipeError ? error.exitCode : EXIT.internal;
      }
    }
    this.interrupted = stillRunning;
    const durationMs = Math.round(performance.now() - this.started);
    const failed = this.steps.filter((s) => !s.ok);
    const ok = code === EXIT.ok;
    const summary = {
      v: 1,
      kind: 'summary',
      tool: this.name,
      ok,
      counts: { steps: this.steps.length, failed: failed.length, records: this.recordCount },
      durationMs,
      exitCode: code,
      steps: this.steps.map(({ name, ok: stepOk, durationMs: ms }) => ({ name, ok: stepOk, durationMs: ms })),
    };
    if (!ok && failure) summary.reason = failure.message;
    this.keep(summary);
    const where = this.recordsFile ? `; records in ${this.recordsFile}` : '';
    if (ok) this.log(`${this.name}: done — ${this.steps.length} step${this.steps.length === 1 ? '' : 's'} in ${formatDuration(durationMs)}${where}`);
    else if (code === EXIT.sigint || code === EXIT.sigterm) this.warn(`${this.name}: interrupted (exit ${code}) after ${formatDuration(durationMs)}${where}`);
    else this.warn(`${this.name}: FAILED (exit ${code})${failed[0] ? ` at "${failed[0].name}"` : ''} after ${formatDuration(durationMs)}${where}`);
    process.stdout.write(`${formatRecord(summary)}\n`);
    if (this.recordsStream) await new Promise((done) => this.recordsStream.end(done));
    return code;
  }
}

/**
 * Why a pipeline's output means failure, or undefined: a stage that exited non-zero (its code kept
 * when it says more than "failed": usage, bad input, unavailable, internal, interrupted), or a
 * summary record with ok:false from any tool of the pipeline.
 * @example pipelineProblem([{ kind: 'summary', tool: 'run-actions', ok: false, counts: { failed: 1 } }], 0) // { exitCode: 1, message: 'run-actions reported ok:false (failed 1)' }
 */
export function pipelineProblem(records, exitCode) {
  const bad = records.filter((r) => r && r.kind === 'summary' && r.ok === false);
  const counts = (r) =>
    Object.entries(r.counts ?? {})
      .filter(([key, value]) => value > 0 && /fail|error|unreach|rolled/i.test(key))
      .map(([key, value]) => `${key} ${value}`)
      .join(', ');
  const summaries = bad.map((r) => `${r.tool} reported ok:false${counts(r) ? ` (${counts(r)})` : ''}`).join('; ');
  const errors = records.filter((r) => r && r.kind === 'error').map((r) => `${r.node ? `${r.node}: ` : ''}${r.message}`);
  if (exitCode !== 0) {
    const kept = [EXIT.usage, EXIT.input, EXIT.unavailable, EXIT.internal, EXIT.sigint, EXIT.sigterm].includes(exitCode) ? exitCode : EXIT.failed;
    const detail = summaries || errors[0] || '';
    return { exitCode: kept, message: `a stage exited ${exitCode}${detail ? `: ${detail}` : ''}` };
  }
  if (bad.length > 0) return { exitCode: EXIT.failed, message: summaries };
  return undefined;
}

/** The records of one kind (and optional predicate). */
export function recordsOf(records, kind, where = () => true) {
  return records.filter((r) => r && r.kind === kind && where(r));
}
