// Schema drift: fields a binary writes that the published JSON Schemas (packages/contract/schema) do
// not declare. The record schemas accept extra fields (so newer streams still read), which is why a
// field can slip into a record without anyone declaring it; this check finds every such field.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './repo-root.js';

type Schema = Record<string, unknown> | boolean;

const schemas = new Map<string, Schema | undefined>();

function schemaOf(kind: string): Schema | undefined {
  if (!schemas.has(kind)) {
    try {
      schemas.set(kind, JSON.parse(readFileSync(join(REPO_ROOT, 'packages', 'contract', 'schema', `${kind}.schema.json`), 'utf8')) as Schema);
    } catch {
      schemas.set(kind, undefined); // not a known kind: a tool's own records are its own business
    }
  }
  return schemas.get(kind);
}

function resolve(schema: Schema, root: Schema): Schema {
  if (typeof schema !== 'object' || typeof schema.$ref !== 'string') return schema;
  const path = schema.$ref.replace(/^#\//, '').split('/');
  let target: unknown = root;
  for (const part of path) target = (target as Record<string, unknown>)[part];
  return (target as Schema) ?? true;
}

function matchesConst(value: unknown, schema: Schema): boolean {
  if (typeof schema !== 'object') return schema;
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(properties).every(([key, sub]) => !('const' in sub) || (value as Record<string, unknown>)?.[key] === sub.const);
}

function undeclaredIn(value: unknown, schema: Schema, root: Schema, path: string): string[] {
  schema = resolve(schema, root);
  if (typeof schema !== 'object') return [];
  const options = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (options) {
    const found = options.map((option) => undeclaredIn(value, option, root, path));
    return found.reduce((best, next) => (next.length < best.length ? next : best));
  }
  if (Array.isArray(value)) return schema.items ? value.flatMap((item, index) => undeclaredIn(item, schema.items as Schema, root, `${path}[${index}]`)) : [];
  if (value === null || typeof value !== 'object') return [];
  let properties = schema.properties as Record<string, Schema> | undefined;
  // if/then (the summary's counts per tool): the `then` of every `if` the value matches adds to its properties
  for (const part of (schema.allOf ?? []) as Array<Record<string, Schema>>) {
    if (part.if && part.then && matchesConst(value, part.if) && typeof part.then === 'object') {
      const extra = part.then.properties as Record<string, Schema> | undefined;
      if (extra) properties = { ...properties, ...extra };
    }
  }
  const out: string[] = [];
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    const at = path ? `${path}.${key}` : key;
    if (properties && key in properties) out.push(...undeclaredIn(field, properties[key]!, root, at));
    else if (!properties && typeof schema.additionalProperties === 'object') out.push(...undeclaredIn(field, schema.additionalProperties as Schema, root, at));
    else if (properties || schema.additionalProperties === false) out.push(at);
  }
  return out;
}

/**
 * The fields of a record (dotted paths, `kind.path`) that its kind's published JSON Schema does not
 * declare; [] for a record of a kind forklift does not define.
 * @example undeclaredFields({ v: 1, kind: 'plan', ..., uploads: [] }) // ['plan.uploads']
 */
export function undeclaredFields(record: Record<string, unknown>): string[] {
  const kind = typeof record.kind === 'string' ? record.kind : undefined;
  const schema = kind ? schemaOf(kind) : undefined;
  if (!kind || !schema) return [];
  return undeclaredIn(record, schema, schema, '').map((path) => `${kind}.${path}`);
}
