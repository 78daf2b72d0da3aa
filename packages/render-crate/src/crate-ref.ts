// JSON5 specs use a crate of @forklift/crates by name: `extends: [{ crate: 'zookeeper', options: { heapMiB: 256 } }]`.
import { InputError, UnavailableError } from '@forklift/contract/lite';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ServerSpec } from '@forklift/spec';

/** The package crate names resolve in. */
export const CRATES_PACKAGE = '@forklift/crates';

/** What render-crate needs of a crate of @forklift/crates (structural: no build-time dependency on that package). */
interface NamedCrate {
  readonly crateName: string;
  fromOptions(options: unknown): ServerSpec;
}

interface CratesModule {
  crates: Readonly<Record<string, NamedCrate>>;
}

function isInputError(error: unknown): error is Error & { code?: string } {
  return error instanceof Error && (error as { exitCode?: unknown }).exitCode === 65;
}

const loaded = new Map<string, Promise<CratesModule | undefined>>();

/** Import @forklift/crates as the spec's project sees it (its own node_modules), else as render-crate does; undefined when neither has it. */
function cratesModule(projectDir: string): Promise<CratesModule | undefined> {
  let module = loaded.get(projectDir);
  if (!module) {
    module = (async () => {
      let resolved: string | undefined;
      try {
        resolved = createRequire(join(projectDir, 'spec.js')).resolve(CRATES_PACKAGE);
      } catch {
        try {
          resolved = createRequire(import.meta.url).resolve(CRATES_PACKAGE);
        } catch {
          return undefined;
        }
      }
      return (await import(pathToFileURL(resolved).href)) as CratesModule;
    })();
    loaded.set(projectDir, module);
  }
  return module;
}

/**
 * Turn `{ crate: NAME, options }` into the crate's server spec. Errors name `label` (the spec file and the
 * extends index) and the crate: `groups/zk.json5 extends[0] (zookeeper): options.heapMiB: expected number, received string`.
 * @example await resolveCrateRef({ crate: 'node-exporter', options: { port: 9100 } }, 'groups/m.json5 extends[0]', '/project')
 */
export async function resolveCrateRef(entry: { crate: unknown; options?: unknown }, label: string, projectDir: string): Promise<ServerSpec> {
  const extra = Object.keys(entry).filter((key) => key !== 'crate' && key !== 'options');
  if (extra.length > 0)
    throw new InputError(`${label}: unknown key ${extra.map((key) => JSON.stringify(key)).join(', ')} (a crate entry is { crate: NAME, options: {...} })`, {
      code: 'bad-spec',
    });
  if (typeof entry.crate !== 'string' || entry.crate === '')
    throw new InputError(`${label}.crate: must be the name of a crate of ${CRATES_PACKAGE}`, { code: 'bad-spec' });
  const name = entry.crate;
  const module = await cratesModule(projectDir);
  if (!module) throw new UnavailableError(`${label}: crate "${name}" comes from ${CRATES_PACKAGE}, which is not installed: npm install ${CRATES_PACKAGE}`);
  const crate = Object.hasOwn(module.crates, name) ? module.crates[name] : undefined;
  if (!crate)
    throw new InputError(`${label}.crate: unknown crate "${name}" (${CRATES_PACKAGE} has ${Object.keys(module.crates).sort().join(', ')})`, {
      code: 'unknown-crate',
    });
  const where = `${label} (${name})`;
  let spec: ServerSpec;
  try {
    spec = crate.fromOptions(entry.options);
  } catch (error) {
    if (isInputError(error)) throw new InputError(`${where}: ${error.message}`, { code: error.code, cause: error });
    throw error;
  }
  return { ...spec, source: where };
}
