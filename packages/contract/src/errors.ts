/** Exit codes shared by every forklift binary (docs/cli.md). */
export const ExitCode = {
  /** Everything succeeded. */
  ok: 0,
  /** Ran to the end but something failed (an action, a node, a test, a step, a rolled-back promotion). */
  failed: 1,
  /** Only with --detailed-exitcode: succeeded and changed something. */
  changed: 2,
  /** Usage error: unknown flag, missing argument. */
  usage: 64,
  /** Bad input data: stdin records, specs, scripts. */
  dataErr: 65,
  /** A prerequisite is unavailable (no ssh key, no browser, provider tool missing). */
  unavailable: 69,
  /** Internal error: a bug. */
  internal: 70,
  /** Interrupted by SIGINT. */
  sigint: 130,
  /** Interrupted by SIGTERM. */
  sigterm: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Options of a ForkliftError: the exit code it maps to and the underlying cause. */
export interface ForkliftErrorOptions {
  exitCode?: number;
  cause?: unknown;
}

/**
 * A typed forklift error with a stable `code` (e.g. `bad-input`) and an exit code.
 * @example throw new ForkliftError('bad-spec', 'groups/web.json5: phases.configure[0].action: unknown action "pakage"', { exitCode: 65 })
 */
export class ForkliftError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, options: ForkliftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ForkliftError';
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.internal;
  }
}

/** A command-line usage error (exit 64). @example throw new UsageError('missing SPEC argument') */
export class UsageError extends ForkliftError {
  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(options.code ?? 'usage', message, { exitCode: ExitCode.usage, cause: options.cause });
    this.name = 'UsageError';
  }
}

/** Bad input data (exit 65): stdin records, specs, step scripts. @example throw new InputError('line 3: field "port": expected number') */
export class InputError extends ForkliftError {
  /** 1-based line number of stdin the error is about, when there is one. */
  readonly line?: number;
  constructor(message: string, options: { code?: string; cause?: unknown; line?: number } = {}) {
    super(options.code ?? 'bad-input', message, { exitCode: ExitCode.dataErr, cause: options.cause });
    this.name = 'InputError';
    this.line = options.line;
  }
}

/** A prerequisite is missing (exit 69); the message says how to get it. @example throw new UnavailableError('chromium not found: apt-get install chromium chromium-driver') */
export class UnavailableError extends ForkliftError {
  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(options.code ?? 'unavailable', message, { exitCode: ExitCode.unavailable, cause: options.cause });
    this.name = 'UnavailableError';
  }
}

/** The single mapping from any thrown value to an exit code. @example exitCodeFor(new UsageError('x')) // 64 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ForkliftError) return error.exitCode;
  return ExitCode.internal;
}

/** The stable code of any thrown value: a ForkliftError's own code, else `internal`. */
export function errorCodeFor(error: unknown): string {
  if (error instanceof ForkliftError) return error.code;
  return 'internal';
}

/** One line describing an error, for stderr and error records (no stack). */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
