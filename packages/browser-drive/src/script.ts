import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import JSON5 from 'json5';
import { z } from 'zod';
import { InputError, issueLine } from '@forklift/contract';
import { UrlSchema } from './address.js';
import { FinderSchema } from './finder.js';
import { TextMatchSchema } from './text-match.js';

const finder = FinderSchema;
const textMatch = z.union([TextMatchSchema], { error: 'expected text: a string (contained), { equals }, { contains } or { matches, flags? }' });
const flag = z.literal(true, { error: 'expected true' });
const common = {
  /** A human name for the step, used as the record's `step`. */
  name: z.string().min(1).optional(),
  /** Seconds this step may wait (overrides the script's and --timeout). */
  timeout: z.number().positive().optional(),
};

const selectOption = z.union(
  [z.string(), z.strictObject({ text: z.string() }), z.strictObject({ value: z.string() }), z.strictObject({ index: z.number().int().nonnegative() })],
  { error: 'expected an option: its text (a string), { text }, { value } or { index }' },
);
const waitCondition = z.union(
  [
    z.strictObject({ present: finder }),
    z.strictObject({ visible: finder }),
    z.strictObject({ gone: finder }),
    z.strictObject({ text: textMatch, in: finder.optional() }),
    z.strictObject({ url: textMatch }),
    z.strictObject({ title: textMatch }),
  ],
  { error: 'expected one of { present }, { visible }, { gone }, { text, in? }, { url }, { title }' },
);
const frameTarget = z.union([z.literal('top'), z.literal('parent'), z.number().int().nonnegative(), finder], {
  error: "expected 'top', 'parent', a frame index or a finder of the frame element",
});
const windowTarget = z.union([z.number().int().nonnegative(), z.strictObject({ title: textMatch }), z.strictObject({ url: textMatch })], {
  error: 'expected a window index, { title } or { url }',
});
const cookie = z.strictObject({
  name: z.string().min(1),
  value: z.string(),
  path: z.string().optional(),
  domain: z.string().optional(),
  secure: z.boolean().optional(),
  httpOnly: z.boolean().optional(),
  expiry: z.number().int().optional(),
  sameSite: z.enum(['Lax', 'Strict', 'None']).optional(),
});
const keys = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'expected keys: a string or a list of strings' });

/** Every step verb with the schema of its whole step object (the verb key, its extra keys, name, timeout). */
export const STEP_SCHEMAS = {
  open: z.strictObject({ open: UrlSchema, ...common }),
  click: z.strictObject({ click: finder, ...common }),
  fill: z.strictObject({ fill: finder, with: z.string({ error: 'expected the text to type (a string)' }), ...common }),
  clear: z.strictObject({ clear: finder, ...common }),
  select: z.strictObject({ select: finder, option: selectOption, ...common }),
  check: z.strictObject({ check: finder, ...common }),
  uncheck: z.strictObject({ uncheck: finder, ...common }),
  submit: z.strictObject({ submit: finder, ...common }),
  press: z.strictObject({ press: keys, on: finder.optional(), ...common }),
  waitFor: z.strictObject({ waitFor: waitCondition, ...common }),
  expectText: z.strictObject({ expectText: textMatch, in: finder.optional(), ...common }),
  expectTitle: z.strictObject({ expectTitle: textMatch, ...common }),
  expectUrl: z.strictObject({ expectUrl: textMatch, ...common }),
  expectVisible: z.strictObject({ expectVisible: finder, ...common }),
  expectCount: z.strictObject({ expectCount: finder, count: z.number({ error: 'expected a number' }).int().nonnegative(), ...common }),
  screenshot: z.strictObject({ screenshot: z.union([flag, z.string().regex(/^[\w.-]+$/, 'a file name: letters, digits, . _ -')]), ...common }),
  execute: z.strictObject({ execute: z.string().min(1), args: z.array(z.unknown()).optional(), expect: z.unknown().optional(), ...common }),
  back: z.strictObject({ back: flag, ...common }),
  forward: z.strictObject({ forward: flag, ...common }),
  refresh: z.strictObject({ refresh: flag, ...common }),
  frame: z.strictObject({ frame: frameTarget, ...common }),
  window: z.strictObject({ window: windowTarget, ...common }),
  setCookie: z.strictObject({ setCookie: cookie, ...common }),
  deleteCookie: z.strictObject({ deleteCookie: z.string().min(1), ...common }),
  deleteCookies: z.strictObject({ deleteCookies: flag, ...common }),
  expectCookie: z.strictObject({ expectCookie: z.strictObject({ name: z.string().min(1), value: textMatch.optional() }), ...common }),
  acceptAlert: z.strictObject({ acceptAlert: z.union([flag, z.strictObject({ text: textMatch.optional(), answer: z.string().optional() })]), ...common }),
  dismissAlert: z.strictObject({ dismissAlert: z.union([flag, z.strictObject({ text: textMatch.optional() })]), ...common }),
} as const;

/** A step verb. */
export type StepVerb = keyof typeof STEP_SCHEMAS;
/** Every step verb, in documentation order. */
export const STEP_VERBS = Object.keys(STEP_SCHEMAS) as StepVerb[];
/** A validated step of a given verb. */
export type StepOf<V extends StepVerb> = z.infer<(typeof STEP_SCHEMAS)[V]>;
/** A validated step: its verb, its position and its fields. */
export type Step = { [V in StepVerb]: { verb: V; index: number; fields: StepOf<V> } }[StepVerb];

/** A validated step script. */
export interface StepScript {
  /** The script's name in step records (default: the file name). */
  name: string;
  /** Base for relative URLs (a URL or a node address, resolved later). */
  baseUrl?: z.infer<typeof UrlSchema>;
  /** Default seconds to wait for elements and conditions. */
  timeout?: number;
  steps: Step[];
}

const VERBS_WITHOUT_ARGUMENT = new Set<string>(['back', 'forward', 'refresh', 'acceptAlert', 'dismissAlert', 'deleteCookies', 'screenshot']);
const COMMON_KEYS = new Set(Object.keys(common));

/** `wait-for` and `expect-text` as written in the issue are accepted for `waitFor` and `expectText`. */
function camel(key: string): string {
  return key.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * How messages name a step: by its number as the script's author counts (from 1), with its place in
 * the `steps` list (from 0, as the step record's `index`) and its verb: `step 2 (steps[1], fill)`.
 * @example stepLabel(1, 'fill') // 'step 2 (steps[1], fill)'
 */
export function stepLabel(index: number, what?: string): string {
  return `step ${index + 1} (steps[${index}]${what ? `, ${what}` : ''})`;
}

/** Validate one step (object or bare verb string); throws InputError naming the step (counted from 1) and the field. */
export function parseStep(raw: unknown, index: number, where: string): Step {
  const at = `${where}: ${stepLabel(index)}`;
  let value = raw;
  if (typeof value === 'string') {
    const verb = camel(value);
    if (!VERBS_WITHOUT_ARGUMENT.has(verb)) {
      throw new InputError(
        STEP_VERBS.includes(verb as StepVerb) ? `${at}: step "${value}" needs an argument ({ ${verb}: ... })` : `${at}: unknown step "${value}"`,
        { code: 'bad-script' },
      );
    }
    value = { [verb]: true };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InputError(`${at}: expected a step object like { click: '#id' }`, { code: 'bad-script' });
  const object = Object.fromEntries(Object.entries(value).map(([key, field]) => [STEP_VERBS.includes(camel(key) as StepVerb) ? camel(key) : key, field]));
  const verbs = Object.keys(object).filter((key) => STEP_VERBS.includes(key as StepVerb)) as StepVerb[];
  if (verbs.length === 0) {
    const unknown = Object.keys(object).filter((key) => !COMMON_KEYS.has(key));
    const what = unknown.length > 0 ? `unknown step "${unknown[0]}"` : 'no step verb';
    throw new InputError(`${at}: ${what} (steps: ${STEP_VERBS.join(', ')})`, { code: 'bad-script' });
  }
  if (verbs.length > 1) throw new InputError(`${at}: one verb per step, found ${verbs.join(' and ')}`, { code: 'bad-script' });
  const verb = verbs[0];
  const parsed = STEP_SCHEMAS[verb].safeParse(object);
  if (!parsed.success) {
    throw new InputError(
      issueLine(parsed.error, { where: `${where}: ${stepLabel(index, verb)}`, what: '', input: object, root: verb, unknownKey: `field for ${verb}` }),
      { code: 'bad-script' },
    );
  }
  return { verb, index, fields: parsed.data } as Step;
}

const ScriptHeaderSchema = z.strictObject({
  name: z.string().min(1).optional(),
  baseUrl: UrlSchema.optional(),
  timeout: z.number().positive().optional(),
  steps: z.array(z.unknown(), { error: 'expected a list of steps' }),
});

/**
 * Validate a step script (an object with `steps`, or a bare list of steps); throws InputError (exit 65)
 * naming the step index and the field.
 * @example parseScript({ steps: [{ open: 'http://127.0.0.1:8080/' }, { expectTitle: 'Home' }] }, 'home.json5')
 */
export function parseScript(value: unknown, source: string): StepScript {
  const where = source;
  const object = Array.isArray(value) ? { steps: value } : value;
  const header = ScriptHeaderSchema.safeParse(object);
  if (!header.success) {
    throw new InputError(
      issueLine(header.error, { where, what: '', input: object, root: 'steps', unknownKey: 'field (a script has name, baseUrl, timeout, steps)' }),
      { code: 'bad-script' },
    );
  }
  if (header.data.steps.length === 0) throw new InputError(`${where}: field "steps": the script has no steps`, { code: 'bad-script' });
  const steps = header.data.steps.map((raw, index) => parseStep(raw, index, where));
  return {
    name: header.data.name ?? basename(source),
    baseUrl: header.data.baseUrl,
    timeout: header.data.timeout,
    steps,
  };
}

/** Read and validate a JSON5 step script file; unreadable or malformed files are InputError (exit 65). */
export function loadScript(path: string): StepScript {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`${path}: cannot read the script (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {
      code: 'bad-script',
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON5.parse(text);
  } catch (error) {
    throw new InputError(`${path}: not JSON5 (${(error as Error).message})`, { code: 'bad-script', cause: error });
  }
  return parseScript(value, path);
}
