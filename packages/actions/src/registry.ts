import { InputError } from '@forklift/contract';
import type { z } from 'zod';
import type { ActionDefinition, AnyActionDefinition } from './types.js';

const registry = new Map<string, AnyActionDefinition>();

/**
 * Define an action with its argument types inferred from its schema (identity at run time).
 * @example export const fileAction = defineAction({ name: 'file', schema, summary, label, render })
 */
export function defineAction<S extends z.ZodType>(definition: ActionDefinition<S>): ActionDefinition<S> {
  return definition;
}

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
    throw new InputError(`${where}: unknown action ${JSON.stringify(name)} (known: ${listActions().map((a) => a.name).join(', ')})`, { code: 'unknown-action' });
  }
  return definition;
}

/** Every registered action, sorted by name. */
export function listActions(): AnyActionDefinition[] {
  return [...registry.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
