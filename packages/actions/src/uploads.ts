import { InputError, NONCE_PATTERN, shellQuote, UPLOAD_NAME_PATTERN } from '@forklift/contract/lite';
import type { PlanUploadEntry, UploadedFile, UploadOptions, UploadResolver } from './types.js';

/** The per-script registry behind `ctx.upload`: names, shell words and the plan's `uploads` entries. */
export interface UploadRegistry {
  /** `ctx.upload` and `ctx.uploadFile` for the action with this id. */
  forAction(id: string): { upload(path: string, options?: UploadOptions): string; uploadFile(path: string, options?: UploadOptions): UploadedFile };
  /** The `uploads` entries in the order they were first asked for. */
  entries(): PlanUploadEntry[];
  /** sh lines for the script header: fail clearly when the runner did not provide the upload directories. */
  checks(): string;
}

/** Upload names as they appear in the plan record and on the node (the contract's pattern). */
export { UPLOAD_NAME_PATTERN };

/**
 * One registry per rendered script: the same path (and sensitivity) asked twice is one upload. Names are
 * `u1`, `u2` ... in order of first use, so rendering stays byte-stable. Sensitive files live in the run's
 * private directory (`$fl_up`), the others in the node's content-addressed cache (`$fl_blobs/<sha256>`).
 */
export function uploadRegistry(resolve: UploadResolver | undefined): UploadRegistry {
  const byKey = new Map<string, { entry: PlanUploadEntry; word: string }>();
  const list: PlanUploadEntry[] = [];
  const uploadFile = (path: string, options: UploadOptions = {}, action?: string): UploadedFile => {
    const sensitive = options.sensitive === true;
    const key = `${sensitive ? 's' : 'p'}:${path}`;
    const known = byKey.get(key);
    if (known) return { word: known.word, bytes: known.entry.bytes, ...(known.entry.sha256 ? { sha256: known.entry.sha256 } : {}) };
    if (!resolve)
      throw new InputError(`upload ${JSON.stringify(path)}: nothing resolves controller files here (render-crate passes a resolver)`, {
        code: 'upload-unresolved',
      });
    const resolved = resolve(path, { sensitive, action });
    const name = `u${list.length + 1}`;
    let entry: PlanUploadEntry;
    let word: string;
    if (sensitive) {
      entry = { name, source: resolved.source, bytes: resolved.bytes, sensitive: true };
      word = `"$fl_up"/${name}`;
    } else {
      if (!resolved.sha256 || !/^[0-9a-f]{64}$/.test(resolved.sha256)) throw new Error(`upload resolver gave no sha256 for ${path}`);
      entry = { name, source: resolved.source, bytes: resolved.bytes, sha256: resolved.sha256 };
      word = `"$fl_blobs"/${resolved.sha256}`;
    }
    byKey.set(key, { entry, word });
    list.push(entry);
    return { word, bytes: entry.bytes, ...(entry.sha256 ? { sha256: entry.sha256 } : {}) };
  };
  return {
    forAction: (id) => ({ upload: (path, options) => uploadFile(path, options, id).word, uploadFile: (path, options) => uploadFile(path, options, id) }),
    entries: () => list.map((entry) => ({ ...entry })),
    checks() {
      let out = '';
      if (list.some((entry) => entry.sensitive))
        out += 'if [ ! -d "${fl_up:-}" ]; then echo "forklift: this plan needs its uploaded files (fl_up): run it with run-actions" >&2; exit 64; fi\n';
      if (list.some((entry) => !entry.sensitive))
        out += 'if [ ! -d "${fl_blobs:-}" ]; then echo "forklift: this plan needs its uploaded files (fl_blobs): run it with run-actions" >&2; exit 64; fi\n';
      return out;
    },
  };
}

/**
 * What goes on sh's stdin before a rendered script: the nonce (and the upload directories) as assignments,
 * so they never appear on a command line or in the environment of the commands the script runs.
 * @example spawn('sh', ['-s'], { input: scriptPreamble({ nonce }) + script })
 */
export function scriptPreamble(vars: { nonce: string; tmp?: string; up?: string; blobs?: string }): string {
  if (!NONCE_PATTERN.test(vars.nonce)) throw new Error('nonce must match [A-Za-z0-9_-]+');
  let out = `fl_nonce=${vars.nonce}\n`;
  if (vars.tmp !== undefined) out += `fl_tmp=${shellQuote(vars.tmp)}\n`;
  if (vars.up !== undefined) out += `fl_up=${shellQuote(vars.up)}\n`;
  if (vars.blobs !== undefined) out += `fl_blobs=${shellQuote(vars.blobs)}\n`;
  return out;
}
