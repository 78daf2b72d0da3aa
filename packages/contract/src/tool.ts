import mri from 'mri';
import type { Writable } from 'node:stream';
import { describeError, errorCodeFor, exitCodeFor, ExitCode, UsageError } from './errors.js';
import { RECORD_VERSION, type KnownKind } from './kinds.js';
import { readAllRecords, RecordWriter, type InputRecord } from './ndjson.js';
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

/** How mri should parse a tool's flags, plus which flags may repeat. */
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
  /** Replace a node record (matched by id) before it is re-emitted. */
  updateNode(node: NodeRecord): void;
  /** Write the pass-through records and (updated) nodes now; done automatically before the first own record. */
  flushInput(): Promise<void>;
  /** Write one of the tool's own records. */
  emit<K extends KnownKind>(kind: K, fields: RecordFields<K>): Promise<void>;
  /** A human line on stderr. */
  log(line: string): void;
}

/** A forklift binary: its name, help, flags and run function. */
export interface ToolDefinition {
  name: string;
  version: string;
  /** Full --help text. */
  usage: string;
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

const COMMON_BOOLEAN = ['help', 'version', 'debug'];

function parseFlags(tool: ToolDefinition, argv: string[]): { args: string[]; flags: Record<string, unknown> } {
  const spec = tool.flags ?? {};
  const booleans = [...COMMON_BOOLEAN, ...(spec.boolean ?? []), ...(tool.detailedExitcode ? ['detailed-exitcode'] : [])];
  const strings = [...(tool.stdin === 'none' ? [] : ['max-line-bytes']), ...(spec.string ?? []), ...(spec.multiple ?? [])];
  const parsed = mri(argv, { boolean: booleans, string: strings, alias: spec.alias, default: spec.default });
  const known = new Set<string>([...booleans, ...strings, ...Object.keys(spec.alias ?? {}), ...Object.values(spec.alias ?? {})]);
  const flags: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key === '_') continue;
    if (!known.has(key)) throw new UsageError(`unknown option --${key} (see ${tool.name} --help)`);
    if ((spec.multiple ?? []).includes(key)) flags[key] = (Array.isArray(value) ? value : [value]).map(String);
    else if (Array.isArray(value)) throw new UsageError(`option --${key} given more than once`);
    else if (strings.includes(key) && value === '' && !(spec.default && key in spec.default)) throw new UsageError(`option --${key} needs a value`);
    else flags[key] = value;
  }
  for (const key of spec.multiple ?? []) flags[key] ??= [];
  const args = parsed._.map(String);
  if (flags.help || flags.version) return { args, flags };
  if (tool.minArgs !== undefined && args.length < tool.minArgs) throw new UsageError(`missing argument (see ${tool.name} --help)`);
  if (tool.maxArgs !== undefined && args.length > tool.maxArgs) throw new UsageError(`unexpected argument "${args[tool.maxArgs]}" (see ${tool.name} --help)`);
  return { args, flags };
}

function writeText(stream: Writable, text: string): void {
  try {
    stream.write(text.endsWith('\n') ? text : text + '\n');
  } catch {
    // stderr gone: nothing else to tell
  }
}

/**
 * Run a tool in-process: parse argv with mri, read and validate stdin, run, pass records through,
 * write the summary, and return the exit code. Only bin/ sets process.exitCode.
 * @example const code = await main(tool, ['--help'], { stdin, stdout, stderr, env: {} })
 */
export async function main(tool: ToolDefinition, argv: string[], io: ToolIo): Promise<number> {
  const started = performance.now();
  const debug = argv.includes('--debug') || io.env.FORKLIFT_DEBUG === '1';
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(io.signal?.reason);
  if (io.signal) {
    if (io.signal.aborted) onAbort();
    else io.signal.addEventListener('abort', onAbort, { once: true });
  }
  let brokenPipe = false;
  const writer = new RecordWriter(io.stdout, {
    onBrokenPipe: () => {
      brokenPipe = true;
      controller.abort('EPIPE');
    },
  });
  const fail = (error: unknown): number => {
    const code = exitCodeFor(error);
    const text = debug && error instanceof Error && error.stack ? error.stack : `${tool.name}: ${describeError(error)}`;
    writeText(io.stderr, text);
    return code;
  };

  let parsed: { args: string[]; flags: Record<string, unknown> };
  try {
    parsed = parseFlags(tool, argv);
  } catch (error) {
    return fail(error);
  }
  if (parsed.flags.help) {
    writeText(io.stdout, tool.usage);
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

  let input: InputRecord[] = [];
  let hadInput = false;
  try {
    if (tool.stdin !== 'none') {
      if (io.stdin.isTTY) {
        if (tool.stdin === 'required') {
          writeText(io.stderr, tool.usage);
          writeText(io.stderr, `${tool.name}: no input: pipe node records into stdin`);
          return ExitCode.usage;
        }
      } else {
        hadInput = true;
        const limit = parsed.flags['max-line-bytes'];
        let maxLineBytes = tool.maxLineBytes;
        if (limit !== undefined) {
          maxLineBytes = Number(limit);
          if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) throw new UsageError(`--max-line-bytes must be a positive integer, got "${String(limit)}"`);
        }
        input = await readAllRecords(io.stdin as AsyncIterable<Buffer>, { maxLineBytes });
      }
    }
  } catch (error) {
    return fail(error);
  }

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
    signal: controller.signal,
    debug,
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
      writeText(io.stderr, line);
    },
  };

  let outcome: ToolOutcome;
  try {
    outcome = await tool.run(ctx);
    await ctx.flushInput();
  } catch (error) {
    if (brokenPipe) return ExitCode.ok;
    const code = fail(error);
    await ctx.flushInput().catch(() => undefined);
    await writer.write({ v: RECORD_VERSION, kind: 'error', code: errorCodeFor(error), message: describeError(error) }).catch(() => undefined);
    await writeSummary(false, {}).catch(() => undefined);
    return code;
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
  }
  if (brokenPipe) return ExitCode.ok;
  await writeSummary(outcome.ok, outcome.counts ?? {});
  if (outcome.exitCode !== undefined) return outcome.exitCode;
  const reason = controller.signal.aborted ? controller.signal.reason : undefined;
  if (reason === 'SIGINT') return ExitCode.sigint;
  if (reason === 'SIGTERM') return ExitCode.sigterm;
  if (!outcome.ok) return ExitCode.failed;
  if (outcome.changed && parsed.flags['detailed-exitcode']) return ExitCode.changed;
  return ExitCode.ok;
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
