import { InputError, valueAtPath } from '@forklift/contract';
import type { z } from 'zod';
import { getAction } from './registry.js';

/** Format a zod issue path like `phases.configure[0].path` after a prefix (`file.json5:` gets a space). @example formatIssuePath(['a', 0, 'b']) // 'a[0].b' */
export function formatIssuePath(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (out.endsWith(':')) out += ` ${String(part)}`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** One line for the first zod issue, naming the path under `prefix` (`input` tells a missing value from a wrong one). */
export function describeIssue(error: z.ZodError, prefix: string, input?: unknown): string {
  const issue = error.issues[0]!;
  const at = formatIssuePath(issue.path, prefix).replace(/:$/, '');
  const keys = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : undefined;
  if (keys) return `${at}: unknown option ${keys.map((k) => JSON.stringify(k)).join(', ')}`;
  const inner = (issue as { issues?: Array<{ message: string }> }).issues?.[0];
  if (issue.code === 'invalid_key' && inner) return `${at}: invalid key: ${inner.message}`;
  const missing = issue.code === 'invalid_type' && (input === undefined ? issue.input === undefined : valueAtPath(input, issue.path) === undefined);
  return `${at}: ${missing ? 'missing' : issue.message}`;
}

/**
 * Validate raw arguments of action `name` against its schema; InputError naming `where` and the path inside it.
 * @example validateArgs('file', { path: '/etc/motd', content: 'hi\n' }, 'web.json5: phases.configure[0]')
 */
export function validateArgs(name: string, args: unknown, where = name): unknown {
  const definition = getAction(name, where);
  const parsed = definition.schema.safeParse(args);
  if (!parsed.success) throw new InputError(describeIssue(parsed.error, where, args), { code: 'bad-action-args' });
  return parsed.data;
}
