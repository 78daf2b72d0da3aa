import { InputError } from '@forklift/contract/lite';
import { builtinActions } from './builtin.js';
import { defineAction } from './define.js';
import type { AnyActionDefinition } from './types.js';

// The built-in actions are in the registry from the start: it is built from their list, not filled as a
// side effect of some other module's import. registerAction adds custom ones explicitly.
const registry = new Map<string, AnyActionDefinition>(builtinActions.map((action) => [action.name, action]));

/** Define an action (its argument types inferred from its schema); re-exported from define.ts. */
export { defineAction };

/** Add an action to the registry; a second action with the same name is a bug. @example registerAction(fileAction) */
export function registerAction(definition: AnyActionDefinition): void {
  const existing = registry.get(definition.name);
  if (existing && existing !== definition) throw new Error(`action "${definition.name}" is registered twice`);
  registry.set(definition.name, definition);
}

/** The action registered under `name`, or undefined. @example findAction('file')?.summary */
export function findAction(name: string): AnyActionDefinition | undefined {
  return registry.get(name);
}

/** The action registered under `name`; InputError naming the known actions otherwise. @example getAction('file') */
export function getAction(name: string, where = 'action'): AnyActionDefinition {
  const definition = registry.get(name);
  if (!definition) {
    throw new InputError(
      `${where}: unknown action ${JSON.stringify(name)} (known: ${listActions()
        .map((a) => a.name)
        .join(', ')})`,
      { code: 'unknown-action' },
    );
  }
  return definition;
}

/** Every registered action, sorted by name. */
export function listActions(): AnyActionDefinition[] {
  return [...registry.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
