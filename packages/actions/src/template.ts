import { InputError } from '@forklift/contract/lite';

/** Values a template may reference: scalars, or nested objects reached with dotted names. */
export type TemplateValues = { [key: string]: string | number | boolean | TemplateValues };

/**
 * Substitute `{{ name }}` (dotted names reach nested values) in a template; an unknown name is an InputError.
 * Pure, done at render time, so the node only ever sees the final bytes.
 * @example renderTemplate('listen {{ port }};', { port: 80 }) // 'listen 80;'
 */
export function renderTemplate(template: string, values: TemplateValues, where = 'template'): string {
  return template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g, (_match, name: string) => {
    let value: unknown = values;
    for (const part of name.split('.')) {
      value =
        value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, part) ? (value as Record<string, unknown>)[part] : undefined;
    }
    if (value === undefined || (typeof value === 'object' && value !== null)) {
      throw new InputError(`${where}: no value for {{ ${name} }} (give it in values)`, { code: 'template-value' });
    }
    return String(value);
  });
}
