import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { InputError } from '@forklift/contract';
import { readJson5File } from './services.js';
import type { NodeSpecOptions } from './provider.js';

/** Extensions a spec reference resolves to, in order (DESIGN §1). */
export const SPEC_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.json5', '.json'];

/** The parts of a group spec provision-node reads: name, count and node spec (Pallet's keys). */
export const GroupSpecSchema = z.looseObject({
  name: z.string().min(1),
  count: z.number().int().min(0).optional(),
  nodeSpec: z
    .looseObject({
      image: z.looseObject({ osFamily: z.string().optional(), osVersion: z.string().optional() }).optional(),
      hardware: z.looseObject({ minCores: z.number().positive().optional(), minRam: z.number().positive().optional() }).optional(),
      network: z.looseObject({ inboundPorts: z.array(z.number().int().min(1).max(65535)).optional() }).optional(),
    })
    .optional(),
});

/** A group spec as provision-node sees it. */
export type GroupSpec = z.infer<typeof GroupSpecSchema> & { nodeSpec?: NodeSpecOptions };

/**
 * Load `groups/x` relative to cwd (`.ts`/`.mts` through tsx, `.js`/`.mjs` by import, `.json5`/`.json`),
 * validating name, count and nodeSpec (errors name the file and field, exit 65).
 * @example const spec = await loadGroupSpec('groups/monitoring', process.cwd())
 */
export async function loadGroupSpec(ref: string, cwd: string): Promise<GroupSpec> {
  const base = resolve(cwd, ref);
  const file = [base, ...SPEC_EXTENSIONS.map((extension) => base + extension)].find((candidate) => existsSync(candidate) && /\.[a-z0-9]+$/.test(candidate));
  if (!file) throw new InputError(`${base}: group spec not found (tried ${SPEC_EXTENSIONS.join(', ')})`);
  if (file.endsWith('.json5') || file.endsWith('.json')) return readJson5File(file, GroupSpecSchema, 'group spec') as Promise<GroupSpec>;
  let module: Record<string, unknown>;
  try {
    if (file.endsWith('.ts') || file.endsWith('.mts')) {
      const { tsImport } = await import('tsx/esm/api');
      module = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
    } else {
      module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    }
  } catch (error) {
    throw new InputError(`${file}: could not load group spec (${(error as Error).message.split('\n')[0]})`, { cause: error });
  }
  const value = typeof module.default === 'function' ? await (module.default as () => unknown)() : module.default;
  const parsed = GroupSpecSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${file}: group spec field "${issue.path.join('.') || 'default export'}": ${issue.message}`);
  }
  return parsed.data as GroupSpec;
}
