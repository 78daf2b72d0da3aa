import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';
import { LOCAL_FILE_LIMIT_BYTES, localTooBig, type ResolvedUpload, type UploadResolver } from '@forklift/actions';
import { InputError } from '@forklift/contract/lite';

/** Where a spec's controller-side files (`local`, `contentFrom`, `upload`, `passwordFrom`, `envFrom`) may come from. */
export interface FileRoots {
  /** The spec's project: relative paths resolve against it. */
  project: string;
  /** More folders whose files specs may name (render-crate --allow-files DIR); the project is always allowed. */
  allowed?: readonly string[];
}

function realOrThrow(path: string, what: string, shown = path): string {
  try {
    return realpathSync(path);
  } catch (error) {
    throw new InputError(`${what} ${JSON.stringify(shown)} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { code: 'local-file', cause: error });
  }
}

/**
 * What a render reads of the controller's files: `local` contents and the uploads' sizes and hashes.
 * renderPlans takes one (`options.files`), so rendering itself does no IO; ProjectFiles reads the disk.
 */
export interface ControllerFiles {
  /** The bytes of a `local` file named by a spec (at `where`, for messages). */
  read(ref: string, where: string): Uint8Array;
  /** How uploads are resolved for one phase's script. */
  resolver(where: string): UploadResolver;
}

/**
 * The controller files of one render: paths confined to the project (symlinks resolved: a link inside the project
 * pointing out of it is refused too), read or hashed once per render.
 * @example const files = projectFiles({ project: '/p/examples/wine-cellar' }); files.read('files/motd', 'groups/web.json5: phases.configure[0]')
 */
export class ProjectFiles implements ControllerFiles {
  readonly #project: string;
  readonly #allowed: readonly string[];
  #roots: string[] | undefined;
  readonly #read = new Map<string, Buffer>();
  readonly #resolved = new Map<string, ResolvedUpload>();

  constructor(roots: FileRoots) {
    this.#project = roots.project;
    this.#allowed = roots.allowed ?? [];
  }

  #realRoots(): string[] {
    this.#roots ??= [this.#project, ...this.#allowed].map((root) => realOrThrow(root, 'cannot read the folder'));
    return this.#roots;
  }

  /**
   * The real path of a controller file named by a spec; InputError when it is missing, not a regular file, or
   * outside the project and the allowed folders.
   */
  locate(ref: string, where: string, kind = 'controller file'): string {
    const wanted = isAbsolute(ref) ? ref : resolve(this.#project, ref);
    const real = realOrThrow(wanted, `${where}: cannot read ${kind}`, ref);
    const roots = this.#realRoots();
    if (!roots.some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep))) {
      throw new InputError(
        `${where}: ${kind} ${JSON.stringify(ref)} is ${real}, outside the spec's project ${roots[0]}: specs may only name files inside their project (allow another folder with --allow-files DIR)`,
        { code: 'file-outside-project' },
      );
    }
    if (!statSync(real).isFile()) throw new InputError(`${where}: ${kind} ${JSON.stringify(ref)} (${real}) is not a regular file`, { code: 'local-file' });
    return real;
  }

  /** The bytes of a `local` file (at most 1 MiB: bigger ones must use upload). */
  read(ref: string, where: string): Buffer {
    const real = this.locate(ref, where, 'local file');
    let bytes = this.#read.get(real);
    if (!bytes) {
      const size = statSync(real).size;
      if (size > LOCAL_FILE_LIMIT_BYTES) throw localTooBig(where, ref, size);
      bytes = readFileSync(real);
      this.#read.set(real, bytes);
    }
    return bytes;
  }

  /** An UploadResolver for renderPhaseScript: size always, sha256 only for non-sensitive files (never for secrets). */
  resolver(where: string): UploadResolver {
    return (ref, { sensitive, action }) => {
      const real = this.locate(ref, action === undefined ? where : `${where}, action ${action}`);
      const key = `${sensitive ? 's' : 'p'}:${real}`;
      let resolved = this.#resolved.get(key);
      if (!resolved) {
        resolved = sensitive ? { source: real, bytes: statSync(real).size } : { source: real, ...hashFile(real) };
        this.#resolved.set(key, resolved);
      }
      return resolved;
    };
  }
}

function hashFile(path: string): { bytes: number; sha256: string } {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, 'r');
  let bytes = 0;
  try {
    for (;;) {
      const got = readSync(fd, buffer, 0, buffer.length, null);
      if (got === 0) break;
      hash.update(buffer.subarray(0, got));
      bytes += got;
    }
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: hash.digest('hex') };
}
