import type { Writable } from 'node:stream';
import { parseArgv } from './argv.js';
import { positiveIntegerFlag } from './flag-values.js';
import { describeError, errorCodeFor, exitCodeFor, ExitCode, UsageError } from './errors.js';
import { RECORD_VERSION, type KnownKind } from './kinds.js';
import { DEFAULT_MAX_LINE_BYTES, readAllRecords, RecordWriter, type InputRecord } from './ndjson.js';
import { colorsFor, type Colors, type Verbosity } from './terminal.js';
import type { NodeRecord, RecordFields } from './records.js';
import { buildRecord } from './validate.js';

/** The process surface a tool runs against; tests pass their own streams. */
export interface ToolIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  /** Working directory for spec references (default process.cwd()). */
  cwd?: string;
  /** Aborted with reason 'SIGINT' or 'SIGTERM' to stop the tool. */
  signal?: AbortSignal;
}

/** The flags a tool takes beyond the common ones (see parseArgv), plus which flags may repeat. */
export interface FlagSpec {
  string?: string[];
  boolean?: string[];
  /** Flags that may be given several times; always arrays in ctx.flags. */
  multiple?: string[];
  alias?: Record<string, string>;
  default?: Record<string, unknown>;
}

/** What a tool's run function returns. */
export interface ToolOutcome {
  ok: boolean;
  /** Something changed (exit 2 with --detailed-exitcode when ok). */
  changed?: boolean;
  counts?: Record<string, number>;
  /** Override the exit code (e.g. 130 after SIGINT). */
  exitCode?: number;
}

/** Everything a tool's run function gets. */
export interface ToolContext {
  /** Positional arguments. */
  args: string[];
  /** Parsed flags (kebab-case keys as given). */
  flags: Record<string, unknown>;
  env: Record<string, string | undefined>;
  cwd: string;
  stderr: Writable & { isTTY?: boolean };
  /** Node records read from stdin, in order (replace one with updateNode). */
  nodes: NodeRecord[];
  /** Records of the kinds the tool consumes, in order. */
  consumed: InputRecord[];
  /** True when stdin was read (not a TTY, not disabled). */
  hadInput: boolean;
  /** Aborted on SIGINT/SIGTERM or when stdout's reader went away. */
  signal: AbortSignal;
  debug: boolean;
  /** How much to say on stderr (`-q`, `-v`). */
  verbosity: Verbosity;
  /** Colours for stderr: on only on a terminal (NO_COLOR / FORCE_COLOR honoured). */
  colors: Colors;
  /** Replace a node record (matched by id) before it is re-emitted. */
  updateNode(node: NodeRecord): void;
  /** Write the pass-through records and (updated) nodes now; done automatically before the first own record. */
  flushInput(): Promise<void>;
  /** Write one of the tool's own records. */
  emit<K extends KnownKind>(kind: K, fields: RecordFields<K>): Promise<void>;
  /** A human line on stderr (not with -q). */
  log(line: string): void;
  /** A warning on stderr: shown even with -q. */
  warn(line: string): void;
  /** A detail on stderr, only with -v. */
  detail(line: string): void;
}

/** A forklift binary: its name, help, flags and run function. */
export interface ToolDefinition {
  name: string;
  version: string;
  /** The tool's own part of --help (usage, options); helpText adds the common options and exit codes. */
  usage: string;
  /** What exit 1 means for this tool, for --help (`an action failed or a node was unreachable`). */
  failure?: string;
  /** What the positional arguments are called in "missing ..." (default `argument`). */
  argsName?: string;
  flags?: FlagSpec;
  /** `required`: a TTY stdin is a usage error; `optional`: read when piped; `none`: never read. */
  stdin: 'required' | 'optional' | 'none';
  /** Record kinds taken out of the stream instead of passed through. */
  consumes?: string[];
  /** Bounds on the number of positional arguments. */
  minArgs?: number;
  maxArgs?: number;
  /** Whether the tool takes --detailed-exitcode. */
  detailedExitcode?: boolean;
  /** Default bound on one stdin line in bytes (16 MiB); `--max-line-bytes N` overrides it. */
  maxLineBytes?: number;
  run(ctx: ToolContext): Promise<ToolOutcome>;
}

const COMMON_BOOLEAN = ['help', 'version', 'debug', 'quiet', 'verbose'];
const COMMON_ALIAS: Record<string, string> = { h: 'help', q: 'quiet', v: 'verbose' };

const EXIT_CODE_LINES = [
  ['0', 'everything succeeded'],
  ['1', 'ran to the end but something failed'],
  ['2', 'succeeded and changed something (only with --detailed-exitcode)'],
  ['64', 'usage error: a bad option or argument (nothing was read or written)'],
  ['65', 'bad input data: records, specs, scripts (stderr names the line or file and the field)'],
  ['69', 'a prerequisite is unavailable (the message says how to get it)'],
  ['70', 'internal error (a bug: run again with --debug and report it)'],
  ['130', 'interrupted by SIGINT (Ctrl-C)'],
  ['143', 'terminated by SIGTERM'],
] as const;

/**
 * The full --help of a tool: its own usage text, then the options and exit codes every forklift
 * binary shares (so every help lists them the same way).
 * @example helpText(renderCrateTool).includes('130  interrupted by SIGINT') // true
 */
export function helpText(tool: ToolDefinition): string {
  const common: Array<[string, string]> = [
    ['-h, --help', 'show this help and exit'],
    ['--version', `print "${tool.name} VERSION" and exit`],
    ['-q, --quiet', 'only warnings and errors on stderr'],
    ['-v, --verbose', 'more detail on stderr'],
    ['--debug', 'stack traces with errors'],
  ];
  if (tool.detailedExitcode) common.push(['--detailed-exitcode', 'exit 2 when everything succeeded and something changed']);
  if (tool.stdin !== 'none')
    common.push(['--max-line-bytes N', `longest stdin line accepted (default ${Math.round((tool.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES) / 1048576)} MiB)`]);
  const exitLines = EXIT_CODE_LINES.map(([code, text]) => `  ${code.padEnd(5)}${code === '1' && tool.failure ? `${text}: ${tool.failure}` : text}`);
  return [
    tool.usage.trimEnd(),
    '',
    'Common options (every forklift binary):',
    ...common.map(([flag, text]) => `  ${flag.padEnd(21)}${text}`),
    '',
    'Human output goes to stderr, records to stdout. Colours only on a terminal;',
    'NO_COLOR=1 turns them off, FORCE_COLOR=1 forces them on.',
    '',
    'Exit codes (the same for every forklift binary):',
    ...exitLines,
  ].join('\n');
}

function parseFlags(tool: ToolDefinition, argv: string[]): { args: string[]; flags: Record<string, unknown> } {
  const spec = tool.flags ?? {};
  const booleans = [...COMMON_BOOLEAN, ...(spec.boolean ?? []), ...(tool.detailedExitcode ? ['detailed-exitcode'] : [])];
  const strings = [...(tool.stdin === 'none' ? [] : ['max-line-bytes']), ...(spec.string ?? [])];
  const { args, flags } = parseArgv(argv, {
    boolean: booleans,
    string: strings,
    multiple: spec.multiple,
    alias: { ...COMMON_ALIAS, ...spec.alias },
    default: spec.default,
  });
  if (flags.help || flags.version) return { args, flags };
  if (flags.quiet && flags.verbose) throw new UsageError('-q/--quiet and -v/--verbose cannot be used together');
  if (flags['max-line-bytes'] !== undefined) flags['max-line-bytes'] = positiveIntegerFlag('max-line-bytes', flags['max-line-bytes']);
  if (tool.minArgs !== undefined && args.length < tool.minArgs) throw new UsageError(`missing ${tool.argsName ?? 'argument'}`);
  if (tool.maxArgs !== undefined && args.length > tool.maxArgs) throw new UsageError(`unexpected argument "${args[tool.maxArgs]}"`);
  return { args, flags };
}

/**
 * Why the input says an upstream tool failed: a `summary` with `ok: false` or an `error` record (undefined when
 * none did). @example upstreamFailures(input) // 'upstream render-crate failed (its summary says ok:false)'
 */
export function upstreamFailures(input: readonly InputRecord[]): string | undefined {
  const failed = input
    .filter((item) => item.kind === 'summary' && (item.record as { ok?: unknown }).ok === false)
    .map((item) => String((item.record as { tool?: unknown }).tool ?? '?'));
  const errors = input.filter((item) => item.kind === 'error').length;
  if (failed.length === 0 && errors === 0) return undefined;
  const parts = [];
  if (failed.length > 0) parts.push(`upstream ${[...new Set(failed)].join(', ')} failed (its summary says ok:false)`);
  if (errors > 0) parts.push(`${errors} error record${errors === 1 ? '' : 's'} upstream`);
  return parts.join('; ');
}

function writeText(stream: Writable, text: string): void {
  try {
    stream.write(text.endsWith('\n') ? text : text + '\n');
  } catch {
    // stderr gone: nothing else to tell
  }
}

/** Forward the caller's abort (the bin's SIGINT/SIGTERM) to the run's controller; returns the unhooking. */
function forwardAbort(signal: AbortSignal | undefined, controller: AbortController): () => void {
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal) {
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  return () => signal?.removeEventListener('abort', onAbort);
}

/** Tell a failure in one line on stderr (its stack with --debug; a usage error names --help) and give its exit code. */
function failureReporter(tool: ToolDefinition, io: ToolIo, debug: boolean): (error: unknown) => number {
  return (error) => {
    const code = exitCodeFor(error);
    let text = debug && error instanceof Error && error.stack ? error.stack : `${tool.name}: ${describeError(error)}`;
    if (code === ExitCode.usage && !text.includes('--help')) text += ` (see ${tool.name} --help)`;
    writeText(io.stderr, text);
    return code;
  };
}

/** stdin's records, read and validated whole before the tool runs; none for a tool without input or from a terminal. */
async function readInput(tool: ToolDefinition, flags: Record<string, unknown>, io: ToolIo): Promise<{ input: InputRecord[]; hadInput: boolean }> {
  if (tool.stdin === 'none') return { input: [], hadInput: false };
  if (io.stdin.isTTY) {
    if (tool.stdin === 'required') throw new UsageError('no input: pipe node records into stdin');
    return { input: [], hadInput: false };
  }
  const maxLineBytes = (flags['max-line-bytes'] as number | undefined) ?? tool.maxLineBytes;
  return { input: await readAllRecords(io.stdin as AsyncIterable<Buffer>, { maxLineBytes }), hadInput: true };
}

/** What the context of one run is made of. */
interface ContextParts {
  tool: ToolDefinition;
  parsed: { args: string[]; flags: Record<string, unknown> };
  io: ToolIo;
  input: InputRecord[];
  hadInput: boolean;
  writer: RecordWriter;
  signal: AbortSignal;
  debug: boolean;
}

/**
 * The context a tool runs with: its arguments, the input's node records (updatable) and consumed records,
 * the pass-through of every other input record before the tool's first own record, and the human output
 * at the run's verbosity. `passedThrough()` tells whether the input has been written.
 */
function toolContext({ tool, parsed, io, input, hadInput, writer, signal, debug }: ContextParts): { ctx: ToolContext; passedThrough(): boolean } {
  const verbosity: Verbosity = parsed.flags.quiet ? 'quiet' : parsed.flags.verbose ? 'verbose' : 'normal';
  const consumes = new Set(tool.consumes ?? []);
  const nodes = input.filter((item) => item.kind === 'node').map((item) => item.record as NodeRecord);
  const nodeIndex = new Map<string, number>();
  nodes.forEach((node, index) => nodeIndex.set(node.id, index));
  const consumed = input.filter((item) => consumes.has(item.kind));
  let flushed = false;
  let nodeCursor = 0;

  const ctx: ToolContext = {
    args: parsed.args,
    flags: parsed.flags,
    env: io.env,
    cwd: io.cwd ?? process.cwd(),
    stderr: io.stderr,
    nodes,
    consumed,
    hadInput,
    signal,
    debug,
    verbosity,
    colors: colorsFor(io.stderr, io.env),
    updateNode(node) {
      const index = nodeIndex.get(node.id);
      if (index === undefined) throw new Error(`updateNode: no input node with id ${node.id}`);
      nodes[index] = node;
    },
    async flushInput() {
      if (flushed) return;
      flushed = true;
      for (const item of input) {
        if (item.kind === 'node') {
          await writer.write(nodes[nodeCursor++] as Record<string, unknown>);
        } else if (!consumes.has(item.kind)) {
          await writer.writeLine(item.raw);
        }
      }
    },
    async emit(kind, fields) {
      await ctx.flushInput();
      await writer.write((await buildRecord(kind, fields)) as Record<string, unknown>);
    },
    log(line) {
      if (verbosity !== 'quiet') writeText(io.stderr, line);
    },
    warn(line) {
      writeText(io.stderr, line);
    },
    detail(line) {
      if (verbosity === 'verbose') writeText(io.stderr, line);
    },
  };
  return { ctx, passedThrough: () => flushed };
}

/** The exit code of a run that ended: the tool's own, else the interrupting signal's, else failed, changed or ok. */
function exitCodeOf(outcome: ToolOutcome, upstream: string | undefined, reason: unknown, detailedExitcode: boolean): number {
  if (outcome.exitCode !== undefined && (outcome.exitCode !== ExitCode.ok || !upstream)) return outcome.exitCode;
  if (reason === 'SIGINT') return ExitCode.sigint;
  if (reason === 'SIGTERM') return ExitCode.sigterm;
  if (!outcome.ok || upstream) return ExitCode.failed;
  if (outcome.changed && detailedExitcode) return ExitCode.changed;
  return ExitCode.ok;
}

/**
 * Run a tool in-process: parse argv (parseArgv), read and validate stdin, run, pass records through,
 * write the summary, and return the exit code. Only bin/ sets process.exitCode.
 * @example const code = await main(tool, ['--help'], { stdin, stdout, stderr, env: {} })
 */
export async function main(tool: ToolDefinition, argv: string[], io: ToolIo): Promise<number> {
  const started = performance.now();
  const debug = argv.includes('--debug') || io.env.FORKLIFT_DEBUG === '1';
  const controller = new AbortController();
  const unhookAbort = forwardAbort(io.signal, controller);
  let brokenPipe = false;
  const writer = new RecordWriter(io.stdout, {
    onBrokenPipe: () => {
      brokenPipe = true;
      controller.abort('EPIPE');
    },
  });
  const fail = failureReporter(tool, io, debug);

  let parsed: { args: string[]; flags: Record<string, unknown> };
  try {
    parsed = parseFlags(tool, argv);
  } catch (error) {
    return fail(error);
  }
  if (parsed.flags.help) {
    writeText(io.stdout, helpText(tool));
    return ExitCode.ok;
  }
  if (parsed.flags.version) {
    writeText(io.stdout, `${tool.name} ${tool.version}`);
    return ExitCode.ok;
  }

  const writeSummary = async (ok: boolean, counts: Record<string, number>): Promise<void> => {
    const durationMs = Math.round(performance.now() - started);
    await writer.write({ v: RECORD_VERSION, kind: 'summary', tool: tool.name, ok, counts, durationMs });
  };

  let read: { input: InputRecord[]; hadInput: boolean };
  try {
    read = await readInput(tool, parsed.flags, io);
  } catch (error) {
    return fail(error);
  }

  // An upstream tool that failed (its summary says ok:false, or it wrote an error record) makes this run fail too,
  // after it did what it could: `a | b` never ends ok when `a` did not.
  const upstream = upstreamFailures(read.input);
  const { ctx, passedThrough } = toolContext({ tool, parsed, io, ...read, writer, signal: controller.signal, debug });

  let outcome: ToolOutcome;
  try {
    outcome = await tool.run(ctx);
    await ctx.flushInput();
  } catch (error) {
    if (brokenPipe) return ExitCode.ok;
    const code = fail(error);
    // a usage error writes no records: the tool checks its arguments before it writes anything
    if (code === ExitCode.usage && !passedThrough()) return code;
    await ctx.flushInput().catch(() => undefined);
    await writer.write({ v: RECORD_VERSION, kind: 'error', code: errorCodeFor(error), message: describeError(error) }).catch(() => undefined);
    await writeSummary(false, {}).catch(() => undefined);
    return code;
  } finally {
    unhookAbort();
  }
  if (brokenPipe) return ExitCode.ok;
  if (upstream) writeText(io.stderr, `${tool.name}: ${upstream}: this run ends ok:false`);
  await writeSummary(outcome.ok && !upstream, outcome.counts ?? {});
  return exitCodeOf(outcome, upstream, controller.signal.aborted ? controller.signal.reason : undefined, Boolean(parsed.flags['detailed-exitcode']));
}

/** A binary's in-process entry: argv and io in, exit code out (what `main` is for a ToolDefinition). */
export type MainEntry = (argv: string[], io: ToolIo) => Promise<number>;

/** Options of runBin. */
export interface RunBinOptions {
  /**
   * Exit the process once stdout and stderr have flushed (at most 2 s), instead of waiting for the
   * event loop to drain: for tools that run user code which may leave timers, sockets or loader threads.
   */
  exitWhenFlushed?: boolean;
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => (stream.writableEnded || stream.destroyed ? resolve() : stream.write('', () => resolve())));
}

/**
 * The whole of a bin/ shim: run the tool (or an in-process entry built on `main`) on the real process,
 * turning SIGINT/SIGTERM into an abort (a second signal exits at once), and set process.exitCode.
 * @example await runBin(renderCrateTool)
 */
export async function runBin(tool: ToolDefinition | MainEntry, options: RunBinOptions = {}): Promise<void> {
  const entry: MainEntry = typeof tool === 'function' ? tool : (argv, io) => main(tool, argv, io);
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) process.exit(signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.stdout.on('error', () => undefined);
  const code = await entry(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.exitCode = code;
  // stdin may still hold the event loop when it was never read
  if (process.stdin.readable) process.stdin.destroy();
  if (options.exitWhenFlushed) {
    await Promise.race([Promise.all([flushed(process.stdout), flushed(process.stderr)]), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    process.exit(code);
  }
}
