// One way to turn a validation issue (zod's, or any with the same fields) into the one line a user
// reads. Every package words its validation errors through issueLine.
import { formatFieldPath, valueAtPath } from './paths.js';

/** The fields of a validation issue the line needs (a zod issue has them). */
export interface ValidationIssue {
  path: ReadonlyArray<PropertyKey>;
  code: string;
  message: string;
  /** The value at the path (zod sets it; `undefined` there means missing). */
  input?: unknown;
  /** unrecognized_keys: the unknown keys. */
  keys?: readonly string[];
  /** invalid_key and unions: the inner issues. */
  issues?: ReadonlyArray<{ message: string }>;
}

/** Options of issueLine. */
export interface IssueLineOptions {
  /** Where the value came from: `stdin line 3`, `services/web.json5`, `groups/web.json5: phases.configure[0]`. */
  where: string;
  /**
   * What the value is, when the line should name the field: with it the line reads
   * `WHERE: WHAT field "PATH": DETAIL` (`what` may be ''); without it the path follows WHERE:
   * `WHERE.PATH: DETAIL` (`WHERE: PATH: DETAIL` when WHERE ends with `:`).
   */
  what?: string;
  /** The validated value: tells a missing field from a wrong one when the issue has no `input`. */
  input?: unknown;
  /** What an unknown key is called (default `field`; actions say `option`). */
  unknownKey?: string;
  /** The field name shown for an issue about the whole value (default `(top level)`). */
  root?: string;
  /** Where the validated value sits in what WHERE names (`['options']` for a service file's options): prefixed to the path. */
  within?: ReadonlyArray<PropertyKey>;
}

// zod's own wording for a value of the wrong type; a schema's custom message says more and is kept
const GENERIC_TYPE_MESSAGE = /^Invalid input/;

function isMissing(issue: ValidationIssue, options: IssueLineOptions): boolean {
  if ('input' in issue) return issue.input === undefined;
  if ('input' in options) return valueAtPath(options.input, issue.path) === undefined;
  // without the value, zod's own wording still tells
  return /received undefined$/.test(issue.message);
}

function firstIssue(issue: ValidationIssue | { issues: readonly ValidationIssue[] }): ValidationIssue {
  return 'path' in issue ? issue : issue.issues[0]!;
}

/**
 * The one line for a validation issue (or a zod error: its first issue). A missing field says
 * `missing` (plus the schema's own message when it has one); an unknown key is `unknown field` — in a
 * line that names a field the key is the field (`field "options.sweet": unknown field`), in a located
 * line the detail names it (`options: unknown option "prot"`); anything else keeps the schema's message.
 * @example issueLine({ path: ['port'], code: 'invalid_type', message: 'Invalid input: expected number, received undefined' }, { where: 'stdin line 1', what: 'node record', input: {} }) // 'stdin line 1: node record field "port": missing'
 * @example issueLine(zodError, { where: 'groups/web.json5: phases.configure[0]', unknownKey: 'option' }) // 'groups/web.json5: phases.configure[0]: unknown option "contnet"'
 */
export function issueLine(issueOrError: ValidationIssue | { issues: readonly ValidationIssue[] }, options: IssueLineOptions): string {
  const issue = firstIssue(issueOrError);
  const keys = issue.code === 'unrecognized_keys' ? [...(issue.keys ?? [])] : [];
  const named = options.what !== undefined;
  const unknown = `unknown ${options.unknownKey ?? 'field'}`;
  const quoted = (list: string[]): string => list.map((key) => JSON.stringify(key)).join(', ');
  const path = [...(options.within ?? []), ...issue.path, ...(named && keys.length > 0 ? [keys[0]!] : [])];
  let detail: string;
  if (keys.length > 0) {
    detail = named ? `${unknown}${keys.length > 1 ? ` (also ${quoted(keys.slice(1))})` : ''}` : `${unknown} ${quoted(keys)}`;
  } else if (issue.code === 'invalid_key' && issue.issues?.[0]) {
    detail = `invalid key: ${issue.issues[0].message}`;
  } else {
    const missing = issue.code === 'invalid_type' && isMissing(issue, options);
    detail = missing ? (GENERIC_TYPE_MESSAGE.test(issue.message) ? 'missing' : `missing, ${issue.message}`) : issue.message;
  }
  const field = formatFieldPath(path);
  if (named) {
    const what = options.what ? `${options.what} ` : '';
    return `${options.where}: ${what}field "${field || (options.root ?? '(top level)')}": ${detail}`;
  }
  if (!field) return `${options.where.replace(/:$/, '')}: ${detail}`;
  if (options.where.endsWith(':')) return `${options.where} ${field}: ${detail}`;
  return `${options.where}${field.startsWith('[') ? '' : '.'}${field}: ${detail}`;
}
