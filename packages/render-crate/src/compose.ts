import { InputError, STANDARD_PHASES } from '@forklift/contract/lite';
import type { PhaseBody, Settings, SettingsBody, Spec, SpecContext } from '@forklift/spec';

/** The specs a spec stands for, inherited ones first in `extends` order (each object once). */
export function flattenSpec(spec: Spec): Spec[] {
  const out: Spec[] = [];
  const seen = new Set<Spec>();
  const visit = (current: Spec): void => {
    if (seen.has(current)) return;
    seen.add(current);
    for (const parent of current.extends ?? []) {
      if (typeof parent === 'string' || 'crate' in parent) {
        const what = typeof parent === 'string' ? `"${parent}"` : `crate "${String(parent.crate)}"`;
        throw new InputError(`${current.source ?? 'spec'}: extends ${what} was not loaded (use loadSpec, which resolves references)`, { code: 'bad-spec' });
      }
      visit(parent);
    }
    out.push(current);
  };
  visit(spec);
  return out;
}

/** An error meant as bad input (exit 65), whichever copy of the contract package threw it. */
function isInputError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && (error as { exitCode?: unknown }).exitCode === 65;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** Deep-merge plain objects (later wins; arrays and scalars are replaced). @example mergeSettings({ a: { x: 1 } }, { a: { y: 2 } }) // { a: { x: 1, y: 2 } } */
export function mergeSettings(base: Settings, extra: Settings): Settings {
  const out: Settings = { ...base };
  for (const [key, value] of Object.entries(extra))
    out[key] = isPlainObject(out[key]) && isPlainObject(value) ? mergeSettings(out[key] as Settings, value) : value;
  return out;
}

/** Evaluate every spec's settings in order, each seeing what came before. */
export function evaluateSettings(specs: readonly Spec[], ctx: Omit<SpecContext, 'settings'>): Settings {
  let settings: Settings = {};
  for (const spec of specs) {
    const bodies: Array<[SettingsBody | PhaseBody | undefined, string]> = [
      [spec.settings, 'settings'],
      [spec.phases?.settings, 'phases.settings'],
    ];
    for (const [body, where] of bodies) {
      if (body === undefined) continue;
      let value: unknown = body;
      if (typeof body === 'function') {
        try {
          value = (body as (c: SpecContext) => unknown)({ ...ctx, settings });
        } catch (error) {
          // a crate's own input error (a missing peer, a bad color) names its field: the spec's label goes in front
          if (isInputError(error)) throw new InputError(`${spec.source ?? 'spec'}: ${error.message}`, { code: error.code, cause: error });
          throw new InputError(`${spec.source ?? 'spec'}: ${where}: threw ${(error as Error).message}`, { code: 'bad-spec', cause: error });
        }
      }
      if (!isPlainObject(value))
        throw new InputError(`${spec.source ?? 'spec'}: ${where}: must be an object (or a function returning one)`, { code: 'bad-spec' });
      settings = mergeSettings(settings, value);
    }
  }
  return settings;
}

/** An action entry with where it was written, for messages. */
export interface LocatedEntry {
  entry: unknown;
  where: string;
}

/** The entries of one phase over all specs, in order (functions called with the final settings). */
export function phaseEntries(specs: readonly Spec[], phase: string, ctx: SpecContext): LocatedEntry[] {
  const out: LocatedEntry[] = [];
  for (const spec of specs) {
    const body = spec.phases?.[phase];
    if (body === undefined) continue;
    const source = spec.source ?? 'spec';
    let entries: unknown = body;
    let where = `${source}: phases.${phase}`;
    if (typeof body === 'function') {
      try {
        entries = (body as (c: SpecContext) => unknown)(ctx);
      } catch (error) {
        if (isInputError(error)) throw new InputError(`${source}: ${error.message}`, { code: error.code, cause: error });
        throw new InputError(`${where}: threw ${(error as Error).message}`, { code: 'bad-spec', cause: error });
      }
      where = `${where}()`;
    }
    if (!Array.isArray(entries)) throw new InputError(`${where}: must be a list of actions (or a function returning one)`, { code: 'bad-spec' });
    entries.forEach((entry, index) => out.push({ entry, where: `${where}[${index}]` }));
  }
  return out;
}

/** Phase names the specs define (besides settings): bootstrap, configure, install first, then others as they appear. */
export function definedPhases(specs: readonly Spec[]): string[] {
  const names: string[] = [];
  for (const spec of specs) for (const name of Object.keys(spec.phases ?? {})) if (name !== 'settings' && !names.includes(name)) names.push(name);
  const known = STANDARD_PHASES.filter((name) => name !== 'settings');
  return [...known.filter((name) => names.includes(name)), ...names.filter((name) => !known.includes(name))];
}
