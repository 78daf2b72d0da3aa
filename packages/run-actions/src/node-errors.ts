import { ForkliftError, ExitCode } from '@forklift/contract/lite';

/**
 * An error that stops one node while the others go on; it becomes an `error` record with this code
 * and makes the run exit 1 (or `exitCode` when given, e.g. 69 for a missing key).
 * @example throw new NodeError('host-key-mismatch', 'web-1: host key does not match the pinned hostKey')
 */
export class NodeError extends ForkliftError {
  /** Whether connecting again may help (network trouble, not keys or host keys). */
  readonly retryable: boolean;
  constructor(code: string, message: string, options: { retryable?: boolean; exitCode?: number; cause?: unknown } = {}) {
    super(code, message, { exitCode: options.exitCode ?? ExitCode.failed, cause: options.cause });
    this.name = 'NodeError';
    this.retryable = options.retryable ?? false;
  }
}
