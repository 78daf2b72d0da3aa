// Where a spec reference points: its file (by extension) and the project it belongs to.
import { InputError } from '@forklift/contract/lite';
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';

/** Extensions tried, in order, for a spec reference without one (the spec references of packages/spec/README.md). */
export const SPEC_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.json5', '.json'] as const;

/**
 * Find the file a reference like `groups/monitoring` names, relative to `cwd` (a reference that ends
 * in one of SPEC_EXTENSIONS names its file); InputError (code `spec-not-found`) listing what was tried.
 * @example resolveSpecPath('groups/monitoring', '/p/examples/monitoring') // '/p/examples/monitoring/groups/monitoring.json5'
 */
export function resolveSpecPath(ref: string, cwd: string): string {
  const base = isAbsolute(ref) ? ref : resolve(cwd, ref);
  const candidates = SPEC_EXTENSIONS.some((ext) => ref.endsWith(ext)) ? [base] : SPEC_EXTENSIONS.map((ext) => base + ext);
  for (const candidate of candidates) if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  throw new InputError(`spec ${JSON.stringify(ref)} not found (tried ${candidates.map((c) => relative(cwd, c) || c).join(', ')})`, { code: 'spec-not-found' });
}

/** Pallet's project folders: a spec file inside one of them belongs to the project one level up. */
const PROJECT_FOLDERS = new Set(['nodes', 'servers', 'groups']);

/**
 * The project a spec file belongs to: the parent of its `nodes/`, `servers/` or `groups/` folder,
 * else the file's own folder. References inside the spec, its local files and the project's
 * `services/` resolve against it.
 * @example projectRootOf('/p/examples/monitoring/groups/monitoring.json5') // '/p/examples/monitoring'
 */
export function projectRootOf(path: string): string {
  const folder = dirname(path);
  return PROJECT_FOLDERS.has(basename(folder)) ? dirname(folder) : folder;
}
