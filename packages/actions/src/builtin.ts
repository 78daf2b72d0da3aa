import { fileAction } from './actions/file.js';
import { registerAction } from './registry.js';
import type { AnyActionDefinition } from './types.js';

/**
 * Every built-in action, registered when this module loads. To add one: import it and append it here
 * (one line each; actions-2 adds user, group, package, package-source, cron, service the same way).
 */
export const builtinActions: readonly AnyActionDefinition[] = [fileAction];

for (const action of builtinActions) registerAction(action);
