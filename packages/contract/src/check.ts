// The quick record check: accepts a record when it is certainly valid, without loading zod.
//
// It interprets the committed JSON Schemas (schema/<kind>.schema.json, generated from the zod schemas
// in records.ts and kept in step by a test) with zod's semantics, and it is conservative: every
// record it accepts is one zod accepts and returns unchanged. Anything it is unsure about (a keyword
// it does not know, an extra key on a stripping object, a missing schema file) makes it answer
// false, and the caller then asks zod, which decides and words the error exactly as before.
import { readFileSync } from 'node:fs';
import type { KnownKind } from './kinds.js';

type Check = (value: unknown) => boolean;

/** The JSON Schema keywords the check understands; any other keyword makes a schema "unsure". */
interface JsonSchema {
  type?: unknown;
  const?: unknown;
  enum?: unknown;
  minLength?: unknown;
  maxLength?: unknown;
  pattern?: unknown;
  minimum?: unknown;
  maximum?: unknown;
  exclusiveMinimum?: unknown;
  exclusiveMaximum?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: unknown;
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  anyOf?: unknown;
}

const ANNOTATIONS = new Set(['$id', '$schema', 'title', 'description']);
const KEYWORDS = new Set([
  'type', 'const', 'enum', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum',
  'exclusiveMaximum', 'properties', 'required', 'additionalProperties', 'propertyNames', 'items', 'anyOf',
]);
const never: Check = () => false;
const always: Check = () => true;
const isPrimitive = (value: unknown): boolean => value === null || (typeof value !== 'object' && typeof value !== 'function');
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** A plain object (zod takes other objects in places, records not): class instances are left to zod. */
const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (!isObject(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};
const isNumber = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value);

/** zod's meaning of each JSON Schema type (z.number() refuses NaN and ±Infinity; .int() is a safe integer). */
const TYPES: Record<string, Check> = {
  string: (value) => typeof value === 'string',
  number: isNumber,
  integer: (value) => Number.isSafeInteger(value),
  boolean: (value) => typeof value === 'boolean',
  array: Array.isArray,
  object: isPlainObject,
};

function objectCheck(schema: JsonSchema): Check {
  const properties = Object.entries(schema.properties ?? {}).map(([key, sub]) => [key, compile(sub)] as const);
  const known = new Set(properties.map(([key]) => key));
  if (schema.required !== undefined && !Array.isArray(schema.required)) return never;
  const required = new Set((schema.required as unknown[] | undefined) ?? []);
  for (const key of required) if (typeof key !== 'string' || !known.has(key)) return never;
  const extra = schema.additionalProperties;
  // `{}`: a loose object, extra keys kept as they are; a schema: a record's values; false or absent:
  // zod strips extra keys (its output would differ), so a record with any is left to zod
  const extraCheck = extra === undefined || extra === false ? undefined : extra === true ? always : compile(extra);
  const names = schema.propertyNames;
  if (names !== undefined && !(Object.keys(names).length === 1 && names.type === 'string')) return never;
  return (value) => {
    if (!isPlainObject(value)) return false;
    // keys zod would treat differently from a plain own property: leave those records to zod
    if (Object.hasOwn(value, '__proto__') || Object.getOwnPropertySymbols(value).length > 0) return false;
    for (const [key, check] of properties) {
      const field = value[key];
      if (field === undefined) {
        // absent or undefined: fine for a field zod made optional (not in `required`), which takes undefined
        if (required.has(key)) return false;
        continue;
      }
      if (!Object.hasOwn(value, key) || !check(field)) return false;
    }
    for (const key of Object.keys(value)) {
      if (known.has(key)) continue;
      if (!extraCheck || !extraCheck(value[key])) return false;
    }
    return true;
  };
}

function compile(input: unknown): Check {
  if (!isObject(input)) return never;
  const schema = input as JsonSchema;
  for (const key of Object.keys(schema)) if (!ANNOTATIONS.has(key) && !KEYWORDS.has(key)) return never;
  const checks: Check[] = [];
  if (Array.isArray(schema.type)) {
    // a union of plain types (z.union([z.number(), z.string()])); with other keywords it is left to zod
    const types = schema.type.map((type) => (typeof type === 'string' ? TYPES[type] : undefined));
    if (types.length === 0 || types.some((type) => !type) || Object.keys(schema).some((key) => KEYWORDS.has(key) && key !== 'type')) return never;
    return (value) => types.some((type) => type!(value));
  }
  if (schema.type !== undefined) {
    const type = typeof schema.type === 'string' ? TYPES[schema.type] : undefined;
    if (!type) return never;
    checks.push(type);
  }
  if (schema.const !== undefined) {
    if (!isPrimitive(schema.const)) return never;
    const expected = schema.const;
    checks.push((value) => value === expected);
  }
  if (schema.enum !== undefined) {
    if (!Array.isArray(schema.enum) || !schema.enum.every(isPrimitive)) return never;
    const allowed = new Set(schema.enum);
    checks.push((value) => allowed.has(value));
  }
  for (const [keyword, test] of [
    ['minLength', (length: number, bound: number) => length >= bound],
    ['maxLength', (length: number, bound: number) => length <= bound],
  ] as const) {
    const bound = schema[keyword];
    if (bound === undefined) continue;
    if (!Number.isSafeInteger(bound)) return never;
    checks.push((value) => typeof value === 'string' && test(value.length, bound as number));
  }
  if (schema.pattern !== undefined) {
    if (typeof schema.pattern !== 'string') return never;
    let pattern: RegExp;
    try {
      pattern = new RegExp(schema.pattern);
    } catch {
      return never;
    }
    checks.push((value) => typeof value === 'string' && pattern.test(value));
  }
  for (const [keyword, test] of [
    ['minimum', (value: number, bound: number) => value >= bound],
    ['maximum', (value: number, bound: number) => value <= bound],
    ['exclusiveMinimum', (value: number, bound: number) => value > bound],
    ['exclusiveMaximum', (value: number, bound: number) => value < bound],
  ] as const) {
    const bound = schema[keyword];
    if (bound === undefined) continue;
    if (!isNumber(bound)) return never;
    checks.push((value) => isNumber(value) && test(value as number, bound as number));
  }
  if (schema.properties !== undefined || schema.required !== undefined || schema.additionalProperties !== undefined || schema.propertyNames !== undefined) {
    if (schema.type !== 'object') return never;
    checks.push(objectCheck(schema));
  }
  if (schema.items !== undefined) {
    if (schema.type !== 'array') return never;
    const item = compile(schema.items);
    checks.push((value) => {
      if (!Array.isArray(value)) return false;
      for (let index = 0; index < value.length; index++) if (!Object.hasOwn(value, index) || !item(value[index])) return false;
      return true;
    });
  }
  if (schema.anyOf !== undefined) {
    if (!Array.isArray(schema.anyOf) || schema.anyOf.length === 0) return never;
    const branches = (schema.anyOf as unknown[]).map(compile);
    checks.push((value) => branches.some((branch) => branch(value)));
  }
  if (checks.length === 0) return always;
  if (checks.length === 1) return checks[0]!;
  return (value) => {
    for (const check of checks) if (!check(value)) return false;
    return true;
  };
}

const compiled = new Map<string, Check>();

/**
 * Compile a JSON Schema (as generated from zod) into a conservative check: true only when zod would
 * accept the value and return it unchanged; false when it would not, or when the check is unsure.
 * @example compileQuickCheck({ type: 'string', minLength: 1 })('web-1') // true
 */
export function compileQuickCheck(schema: unknown): (value: unknown) => boolean {
  return compile(schema);
}

function checkFor(kind: KnownKind): Check {
  let check = compiled.get(kind);
  if (!check) {
    try {
      check = compile(JSON.parse(readFileSync(new URL(`../schema/${kind}.schema.json`, import.meta.url), 'utf8')));
    } catch {
      check = never; // no schema file next to the code: zod decides every record
    }
    compiled.set(kind, check);
  }
  return check;
}

/**
 * Whether a record of a known kind is certainly valid (zod would accept it unchanged). False means
 * "ask zod": the record may still be valid (a stripped extra key), or it is not.
 * @example quickCheckRecord('error', { v: 1, kind: 'error', code: 'x', message: 'y' }) // true
 */
export function quickCheckRecord(kind: KnownKind, record: unknown): boolean {
  return checkFor(kind)(record);
}
