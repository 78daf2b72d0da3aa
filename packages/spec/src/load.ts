// The one spec loader: references to files, extends resolved recursively, every spec checked.
import { InputError, issueLine } from '@forklift/contract/lite';
import { isAbsolute, relative } from 'node:path';
import { readSpecFile } from './module.js';
import { projectRootOf, resolveSpecPath } from './paths.js';
import { specSchema } from './schema.js';
import type { CrateReference, ServerSpec, Spec } from './types.js';

/**
 * Turns an `extends` entry naming a crate (`{ crate: 'nginx', options }`) into its server spec: `where`
 * names the entry for messages (`groups/web.json5 extends[0]`), `projectDir` is the spec's project.
 * render-crate passes the one of `@forklift/crates`.
 */
export type CrateResolver = (entry: CrateReference, where: string, projectDir: string) => ServerSpec | Promise<ServerSpec>;

/** Options of loadSpec. */
export interface LoadSpecOptions {
  /** Directory the reference resolves against (default process.cwd()). */
  cwd?: string;
  /** Resolves `extends` entries that name a crate (`{ crate, options }`); without it such entries are an error. */
  resolveCrate?: CrateResolver;
  /** Read only the spec file itself, leaving `extends` unresolved (provision-node needs only the group's fields). */
  shallow?: boolean;
}

/**
 * Check a spec object's structure (not yet its actions), naming `label` and the path; InputError (exit 65).
 * @example checkSpecShape({ group: 'web', count: 2 }, 'groups/web.json5')
 */
export function checkSpecShape(value: unknown, label: string): Spec {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InputError(`${label}: a spec must be an object`, { code: 'bad-spec' });
  const parsed = specSchema.safeParse(value);
  if (!parsed.success) throw new InputError(issueLine(parsed.error, { where: `${label}:`, input: value }), { code: 'bad-spec' });
  return value as Spec;
}

/**
 * Load a spec reference (`groups/monitoring`) relative to cwd: .ts/.mts (via tsx), .js/.mjs, .json5/.json.
 * References in `extends` are loaded too, relative to the referencing file's project (the parent of its
 * `groups/`, `servers/` or `nodes/` folder), else to cwd; crates named in `extends` go to `resolveCrate`.
 * Each loaded spec gets `source` (its path relative to cwd, for messages) and `cwd` (its project: local
 * files resolve there). Actions are validated later, by render-crate.
 * @example const spec = await loadSpec('groups/monitoring', { cwd: process.cwd() })
 */
export async function loadSpec(ref: string, options: LoadSpecOptions = {}): Promise<Spec> {
  return loadRef(ref, { cwd: options.cwd ?? process.cwd(), resolveCrate: options.resolveCrate, shallow: options.shallow ?? false }, []);
}

interface Loading {
  cwd: string;
  resolveCrate?: CrateResolver;
  shallow: boolean;
}

/** Resolve a reference made inside a spec file: against that file's project first, then cwd. */
function resolveInnerRef(ref: string, fromFile: string | undefined, cwd: string): string {
  if (fromFile && !isAbsolute(ref)) {
    try {
      return resolveSpecPath(ref, projectRootOf(fromFile));
    } catch (error) {
      if (!(error instanceof InputError && error.code === 'spec-not-found')) throw error;
    }
  }
  return resolveSpecPath(ref, cwd);
}

async function loadRef(ref: string, loading: Loading, stack: string[]): Promise<Spec> {
  const { cwd } = loading;
  const path = resolveInnerRef(ref, stack.at(-1), cwd);
  const label = relative(cwd, path) || path;
  if (stack.includes(path))
    throw new InputError(`${label}: extends itself (${[...stack, path].map((p) => relative(cwd, p)).join(' -> ')})`, { code: 'bad-spec' });
  const spec = checkSpecShape(await readSpecFile(path, label), label);
  const placed = { ...spec, source: label, cwd: projectRootOf(path) };
  return loading.shallow ? placed : resolveExtends(placed, loading, [...stack, path]);
}

function isCrateReference(entry: object): entry is CrateReference {
  return Object.prototype.hasOwnProperty.call(entry, 'crate');
}

async function resolveCrateEntry(entry: CrateReference, where: string, projectDir: string, loading: Loading): Promise<Spec> {
  if (!loading.resolveCrate)
    throw new InputError(
      `${where}: crate ${JSON.stringify(entry.crate)}: no crate resolver given (crates by name are resolved by render-crate through @forklift/crates)`,
      { code: 'unknown-crate' },
    );
  const spec = await loading.resolveCrate(entry, where, projectDir);
  return checkSpecShape(spec, spec.source ?? `${where} (${String(entry.crate)})`);
}

async function resolveExtends(spec: Spec, loading: Loading, stack: string[]): Promise<Spec> {
  if (!spec.extends) return spec;
  const resolved: Spec[] = [];
  const source = spec.source ?? 'spec';
  for (const [index, entry] of spec.extends.entries()) {
    if (typeof entry === 'string') {
      try {
        resolved.push(await loadRef(entry, loading, stack));
      } catch (error) {
        if (error instanceof InputError && error.code === 'spec-not-found') {
          throw new InputError(`${source}: extends[${index}]: ${error.message}`, { code: 'spec-not-found', cause: error });
        }
        throw error;
      }
      continue;
    }
    const where = `${source} extends[${index}]`;
    if (isCrateReference(entry)) {
      const crate = await resolveCrateEntry(entry, where, spec.cwd ?? loading.cwd, loading);
      resolved.push(await resolveExtends({ ...crate, source: crate.source ?? `${where} (${String(entry.crate)})` }, loading, stack));
      continue;
    }
    const name = (entry as ServerSpec).name;
    const label = `${where}${typeof name === 'string' ? ` (${name})` : ''}`;
    const child = checkSpecShape(entry, label);
    resolved.push(await resolveExtends({ ...child, source: child.source ?? label }, loading, stack));
  }
  return { ...spec, extends: resolved };
}
