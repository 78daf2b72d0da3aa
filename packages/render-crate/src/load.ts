// The spec loader of @forklift/spec with the crates of @forklift/crates known by name.
import { loadSpec as loadSpecWith, type LoadSpecOptions, type Spec } from '@forklift/spec';
import { resolveCrateRef } from './crate-ref.js';

/**
 * `@forklift/spec`'s loadSpec, resolving `extends: [{ crate: NAME, options }]` through `@forklift/crates`
 * (an optional peer, found from the spec's project first) unless the caller gives its own resolveCrate.
 * @example const spec = await loadSpec('groups/monitoring', { cwd: process.cwd() })
 */
export function loadSpec(ref: string, options: LoadSpecOptions = {}): Promise<Spec> {
  return loadSpecWith(ref, { resolveCrate: resolveCrateRef, ...options });
}
