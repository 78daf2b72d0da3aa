import { z } from 'zod';
import { listActions } from './registry.js';
import type { AnyActionDefinition } from './types.js';

interface JsonSchemaProperty {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  items?: JsonSchemaProperty;
  anyOf?: JsonSchemaProperty[];
  const?: unknown;
}

function typeOf(property: JsonSchemaProperty): string {
  if (property.enum) return property.enum.map((value) => JSON.stringify(value)).join(' \\| ');
  if (property.anyOf) return [...new Set(property.anyOf.map(typeOf))].join(' \\| ');
  if (property.type === 'array') return `${property.items ? typeOf(property.items) : 'any'}[]`;
  if (Array.isArray(property.type)) return property.type.join(' \\| ');
  return property.type ?? 'any';
}

/** The markdown reference of one action (options table from its schema). */
export function actionReferenceOf(action: AnyActionDefinition): string {
  const schema = z.toJSONSchema(action.schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, JsonSchemaProperty>;
    required?: string[];
  };
  const required = new Set(schema.required ?? []);
  const rows = Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const note = required.has(name) ? 'required' : property.default !== undefined ? `default ${JSON.stringify(property.default)}` : 'optional';
    return `| \`${name}\` | ${typeOf(property)} | ${note} | ${(property.description ?? '').replace(/\|/g, '\\|')} |`;
  });
  return [
    `#### ${action.name}`,
    '',
    action.summary,
    '',
    ...(action.doc ? [action.doc, ''] : []),
    '| option | type | | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/**
 * The markdown reference of every registered action, generated from their schemas (the README embeds it).
 * @example console.log(actionReference())
 */
export function actionReference(): string {
  return listActions().map(actionReferenceOf).join('\n');
}
