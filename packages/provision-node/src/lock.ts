import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UnavailableError } from '@forklift/contract';

/** A held lock; release() frees it (the kernel frees it too when this process dies, even by kill -9). */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Take an exclusive kernel lock (flock(2) through util-linux `flock`) on `file`, waiting for it.
 * The lock is held by a small child whose stdin is a pipe from this process: when this process
 * dies for any reason the pipe closes, the child exits and the kernel drops the lock, so there is
 * no stale lock to guess about.
 * @example const lock = await acquireLock('/root/.forklift/state/local/lock'); try { ... } finally { await lock.release() }
 */
export async function acquireLock(file: string, options: { signal?: AbortSignal; onWait?: () => void } = {}): Promise<HeldLock> {
  await mkdir(dirname(file), { recursive: true });
  const child = spawn('flock', ['--exclusive', file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let onEarlyExit: ((code: number | null) => void) | undefined;
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    const waitTimer = setTimeout(() => options.onWait?.(), 1000);
    const onAbort = (): void => {
      child.kill('SIGTERM');
      reject(new Error(`waiting for lock ${file}: aborted`));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      clearTimeout(waitTimer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.once('data', () => {
      done();
      resolve();
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      done();
      reject(error.code === 'ENOENT' ? new UnavailableError('flock not found: apt-get install util-linux') : error);
    });
    onEarlyExit = (code: number | null): void => {
      done();
      reject(new Error(`flock ${file} exited ${code}: ${stderr.trim()}`));
    };
    child.once('exit', onEarlyExit);
  });
  child.stdout!.resume();
  // the lock must not keep the event loop alive by itself
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  return {
    async release() {
      if (onEarlyExit) child.off('exit', onEarlyExit);
      // wait for the kernel to drop the lock, keeping the event loop alive meanwhile
      child.ref();
      child.stdin!.end();
      await exited;
    },
  };
}
