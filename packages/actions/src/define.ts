import type { z } from 'zod';
import type { ActionDefinition } from './types.js';

/**
 * Define an action with its argument types inferred from its schema (identity at run time).
 * @example export const fileAction = defineAction({ name: 'file', schema, summary, label, render })
 */
export function defineAction<S extends z.ZodType>(definition: ActionDefinition<S>): ActionDefinition<S> {
  return definition;
}
