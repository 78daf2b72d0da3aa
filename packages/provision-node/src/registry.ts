import { UsageError } from '@forklift/contract';
import type { Provider } from './provider.js';

/** Provider names forklift knows; each lives in `src/providers/<name>.ts` and exports `provider`. */
export const PROVIDER_NAMES = ['nspawn', 'netns', 'node-list', 'qemu', 'podman', 'lxd'] as const;

/** One of the known provider names. */
export type ProviderName = (typeof PROVIDER_NAMES)[number];

const loaded = new Map<string, Provider>();

/** Whether `name` is a known provider. @example isProviderName('nspawn') // true */
export function isProviderName(name: string): name is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(name);
}

/**
 * Load a provider by name (lazily: a provider's module is only imported when a service uses it).
 * @example const nspawn = await loadProvider('nspawn')
 */
export async function loadProvider(name: string): Promise<Provider> {
  const cached = loaded.get(name);
  if (cached) return cached;
  if (!isProviderName(name)) throw new UsageError(`unknown provider "${name}" (known: ${PROVIDER_NAMES.join(', ')})`);
  const specifier = `./providers/${name}.js`;
  const module = (await import(specifier)) as { provider?: Provider };
  if (!module.provider) throw new Error(`src/providers/${name}.ts does not export "provider"`);
  loaded.set(name, module.provider);
  return module.provider;
}
