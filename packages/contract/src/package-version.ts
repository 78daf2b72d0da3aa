import { readFileSync } from 'node:fs';

/**
 * The version in the package.json one folder above a module (`dist/x.js` or `src/x.ts`): each binary's
 * `--version` comes from its own package.json, so a release bumps it in one place.
 * @example export const RUN_ACTIONS_VERSION = packageVersion(import.meta.url)
 */
export function packageVersion(moduleUrl: string): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', moduleUrl), 'utf8')) as { version?: unknown };
  if (typeof manifest.version !== 'string') throw new Error(`${new URL('../package.json', moduleUrl).pathname}: no version`);
  return manifest.version;
}
