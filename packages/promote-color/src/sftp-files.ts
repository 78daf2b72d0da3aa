// Atomic file writes on a node over SFTP (root logins): each file into a fresh temporary name created
// with O_EXCL (never through a symlink), flushed, then renamed over the old name with OpenSSH's
// posix-rename. No process is started on the node, which keeps a stage's overhead small.
import { randomBytes } from 'node:crypto';
import type { SFTPWrapper } from 'ssh2';

const call = <T>(run: (done: (error: Error | undefined | null, value?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value as T))));

/** Refuse a directory that is a symlink; create it (0755) when missing. */
export async function ensureDirectory(sftp: SFTPWrapper, dir: string): Promise<void> {
  try {
    const stats = await call<{ isSymbolicLink(): boolean; isDirectory(): boolean }>((done) => sftp.lstat(dir, done));
    if (stats.isSymbolicLink()) throw new Error(`${dir} is a symlink: refusing to write state through it`);
    if (!stats.isDirectory()) throw new Error(`${dir} is not a directory`);
  } catch (error) {
    if ((error as { code?: number }).code !== 2) throw error;
    await call((done) => sftp.mkdir(dir, { mode: 0o755 }, done));
  }
}

/** Write one file atomically: temporary file (O_EXCL, mode), content, fsync, rename. */
export async function writeAtomically(sftp: SFTPWrapper, path: string, content: string, mode = 0o644): Promise<void> {
  const temporary = `${path}.tmp.${randomBytes(6).toString('hex')}`;
  const data = Buffer.from(content, 'utf8');
  const handle = await call<Buffer>((done) => sftp.open(temporary, 'wx', { mode }, done));
  try {
    let offset = 0;
    while (offset < data.length) {
      const length = Math.min(32_768, data.length - offset);
      await call((done) => sftp.write(handle, data, offset, length, offset, done));
      offset += length;
    }
    await call((done) => sftp.ext_openssh_fsync(handle, done));
  } finally {
    await call((done) => sftp.close(handle, done)).catch(() => undefined);
  }
  try {
    await call((done) => sftp.ext_openssh_rename(temporary, path, done));
  } catch (error) {
    await call((done) => sftp.unlink(temporary, done)).catch(() => undefined);
    throw error;
  }
}
