import { InputError, issueLine } from '@forklift/contract/lite';
import { getAction } from './registry.js';

/**
 * Validate raw arguments of action `name` against its schema; InputError naming `where` and the path inside it.
 * @example validateArgs('file', { path: '/etc/motd', content: 'hi\n' }, 'web.json5: phases.configure[0]')
 */
export function validateArgs(name: string, args: unknown, where = name): unknown {
  const definition = getAction(name, where);
  const parsed = definition.schema.safeParse(args);
  if (!parsed.success) throw new InputError(issueLine(parsed.error, { where, input: args, unknownKey: 'option' }), { code: 'bad-action-args' });
  return parsed.data;
}
