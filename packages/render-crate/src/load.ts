import { InputError } from '@forklift/contract';
import JSON5 from 'json5';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeIssue } from '@forklift/actions';
import { isCrateRef, resolveCrateRef } from './crate-ref.js';
import { specSchema } from './spec-schema.js';
import type { Spec } from './spec.js';

/** Extensions tried, in order, for a spec reference without one. */
export const SPEC_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.json5', '.json'] as const;

/** Options of loadSpec. */
export interface LoadSpecOptions {
  /** Directory references resolve against (default process.cwd()). */
  cwd?: string;
}

/** Find the file a reference like `groups/monitoring` names; InputError listing what was tried. */
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
 * else the file's own folder. References inside the spec (extends) resolve against it first.
 * @example projectRootOf('/p/examples/monitoring/groups/monitoring.json5') // '/p/examples/monitoring'
 */
export function projectRootOf(path: string): string {
  const folder = dirname(path);
  return PROJECT_FOLDERS.has(basename(folder)) ? dirname(folder) : folder;
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

async function importModule(path: string): Promise<unknown> {
  if (path.endsWith('.ts') || path.endsWith('.mts')) {
    const { tsImport } = await import('tsx/esm/api');
    return tsImport(pathToFileURL(path).href, import.meta.url);
  }
  return import(pathToFileURL(path).href);
}

async function readSpecFile(path: string, label: string): Promise<unknown> {
  if (path.endsWith('.json5') || path.endsWith('.json')) {
    try {
      return JSON5.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new InputError(`${label}: not valid JSON5 (${(error as Error).message})`, { code: 'bad-spec', cause: error });
    }
  }
  let module: Record<string, unknown>;
  try {
    module = (await importModule(path)) as Record<string, unknown>;
  } catch (error) {
    // a crate called with a bad option while the module loads says which crate and field: keep its words
    if ((error as { exitCode?: unknown }).exitCode === 65) throw new InputError(`${label}: ${(error as Error).message.split('\n')[0]}`, { code: (error as { code?: string }).code, cause: error });
    throw new InputError(`${label}: cannot load (${(error as Error).message.split('\n')[0]})`, { code: 'bad-spec', cause: error });
  }
  let value = module.default ?? module.spec;
  // tsx may wrap a CommonJS-looking default export once more
  if (value && typeof value === 'object' && 'default' in value && Object.keys(value).length === 1) value = (value as { default: unknown }).default;
  if (value === undefined) throw new InputError(`${label}: exports no spec (export default serverSpec({...}) or groupSpec({...}))`, { code: 'bad-spec' });
  return value;
}

/** Check a spec object's structure (not yet its actions), naming `label` and the path. */
export function checkSpecShape(value: unknown, label: string): Spec {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InputError(`${label}: a spec must be an object`, { code: 'bad-spec' });
  const parsed = specSchema.safeParse(value);
  if (!parsed.success) throw new InputError(describeIssue(parsed.error, `${label}:`, value), { code: 'bad-spec' });
  return value as Spec;
}

/**
 * Load a spec reference (`groups/monitoring`) relative to cwd: .ts/.mts (via tsx), .js/.mjs, .json5/.json.
 * String references in `extends` are loaded too: relative to the referencing file's project (the parent of
 * its `groups/`, `servers/` or `nodes/` folder), else to cwd. Actions are validated later by renderPlans.
 * @example const spec = await loadSpec('groups/monitoring', { cwd: process.cwd() })
 */
export async function loadSpec(ref: string, options: LoadSpecOptions = {}): Promise<Spec> {
  const cwd = options.cwd ?? process.cwd();
  return loadRef(ref, cwd, []);
}

async function loadRef(ref: string, cwd: string, stack: string[]): Promise<Spec> {
  const path = resolveInnerRef(ref, stack.at(-1), cwd);
  const label = relative(cwd, path) || path;
  if (stack.includes(path)) throw new InputError(`${label}: extends itself (${[...stack, path].map((p) => relative(cwd, p)).join(' -> ')})`, { code: 'bad-spec' });
  const spec = checkSpecShape(await readSpecFile(path, label), label);
  // local files of the spec resolve against its project (which is cwd when run from the project)
  return resolveExtends({ ...spec, source: label, cwd: projectRootOf(path) }, cwd, [...stack, path]);
}

async function resolveExtends(spec: Spec, cwd: string, stack: string[]): Promise<Spec> {
  if (!spec.extends) return spec;
  const resolved: Spec[] = [];
  for (const [index, entry] of spec.extends.entries()) {
    if (typeof entry === 'string') {
      try {
        resolved.push(await loadRef(entry, cwd, stack));
      } catch (error) {
        if (error instanceof InputError && error.code === 'spec-not-found') {
          throw new InputError(`${spec.source ?? 'spec'}: extends[${index}]: ${error.message}`, { code: 'spec-not-found', cause: error });
        }
        throw error;
      }
    }
    else if (isCrateRef(entry)) {
      // JSON5's way to use a crate: { crate: 'zookeeper', options: {...} }
      const crate = await resolveCrateRef(entry, `${spec.source ?? 'spec'} extends[${index}]`, spec.cwd ?? cwd);
      resolved.push(await resolveExtends(checkSpecShape(crate, crate.source!), cwd, stack));
    }
    else {
      const label = `${spec.source ?? "spec"} extends[${index}]${typeof entry.name === "string" ? ` (${entry.name})` : ""}`;
      const child = checkSpecShape(entry, label);
      resolved.push(await resolveExtends({ ...child, source: child.source ?? label }, cwd, stack));
    }
  }
  return { ...spec, extends: resolved };
}
