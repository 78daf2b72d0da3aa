// Reading one spec file: JSON5 as data, modules through import (TypeScript through tsx), with one
// rule for what a module's spec is.
import { InputError } from '@forklift/contract/lite';
import JSON5 from 'json5';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

/** An error meant as bad input (exit 65), whichever copy of the contract package threw it. */
function isInputError(error: unknown): error is Error & { code?: string } {
  return error instanceof Error && (error as { exitCode?: unknown }).exitCode === 65;
}

async function importModule(path: string): Promise<Record<string, unknown>> {
  if (path.endsWith('.ts') || path.endsWith('.mts')) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
}

// A .ts file outside a "type": "module" package is compiled as CommonJS; its namespace then holds the
// module.exports object as `default`: `{ default: { __esModule: true, default: spec } }`.
function unwrapCommonJs(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && (value as { __esModule?: unknown }).__esModule === true && 'default' in value) {
    return (value as { default: unknown }).default;
  }
  return value;
}

/**
 * The spec a module exports: its default export (else a named `spec` export). A function there is a
 * spec factory: it is called once, with no arguments, and may return a promise.
 * @example await specOfModule({ default: () => ({ group: 'web' }) }, 'groups/web.ts') // { group: 'web' }
 */
export async function specOfModule(module: Record<string, unknown>, label: string): Promise<unknown> {
  let value = unwrapCommonJs(module.default ?? module.spec);
  if (value === undefined) throw new InputError(`${label}: exports no spec (export default serverSpec({...}) or groupSpec({...}))`, { code: 'bad-spec' });
  if (typeof value === 'function') {
    try {
      value = await (value as () => unknown)();
    } catch (error) {
      if (isInputError(error)) throw new InputError(`${label}: ${error.message}`, { code: error.code, cause: error });
      throw new InputError(`${label}: default export: threw ${(error as Error).message}`, { code: 'bad-spec', cause: error });
    }
  }
  return value;
}

/** The value a spec file holds: JSON5 data, or a module's spec (see specOfModule). */
export async function readSpecFile(path: string, label: string): Promise<unknown> {
  if (path.endsWith('.json5') || path.endsWith('.json')) {
    try {
      return JSON5.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new InputError(`${label}: not valid JSON5 (${(error as Error).message})`, { code: 'bad-spec', cause: error });
    }
  }
  let module: Record<string, unknown>;
  try {
    module = await importModule(path);
  } catch (error) {
    // a crate called with a bad option while the module loads says which crate and field: keep its words
    if (isInputError(error)) throw new InputError(`${label}: ${error.message.split('\n')[0]}`, { code: error.code, cause: error });
    throw new InputError(`${label}: cannot load (${(error as Error).message.split('\n')[0]})`, { code: 'bad-spec', cause: error });
  }
  return specOfModule(module, label);
}
