import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { InputError } from '@forklift/contract';
import { readJson5File } from './services.js';
import type { NodeSpecOptions } from './provider.js';

/** Extensions a spec reference resolves to, in order (DESIGN §1). */
export const SPEC_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.json5', '.json'];

const NodeSpecSchema = z.looseObject({
  image: z.union([z.string(), z.looseObject({ osFamily: z.string().optional(), osVersion: z.string().optional() })]).optional(),
  hardware: z
    .looseObject({
      minCores: z.number().positive().optional(),
      minRam: z.number().positive().optional(),
      cpus: z.number().positive().optional(),
      memoryMiB: z.number().positive().optional(),
    })
    .optional(),
  network: z.looseObject({ inboundPorts: z.array(z.number().int().min(1).max(65535)).optional() }).optional(),
});

/**
 * The parts of a group spec provision-node reads: the group name (`group`, or `name`), `count` and
 * the node spec (`node` as render-crate's groupSpec() has it, or `nodeSpec`); the rest (phases,
 * extends, settings) is render-crate's.
 */
export const GroupSpecSchema = z.looseObject({
  group: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  count: z.number().int().min(0).optional(),
  node: NodeSpecSchema.optional(),
  nodeSpec: NodeSpecSchema.optional(),
});

/** What provision-node takes from a group spec. */
export interface GroupSpec {
  /** The group name, when the spec names one. */
  group?: string;
  count?: number;
  nodeSpec: NodeSpecOptions;
}

function normalize(value: z.infer<typeof GroupSpecSchema>): GroupSpec {
  const node = { ...(value.node ?? value.nodeSpec ?? {}) } as NodeSpecOptions & Record<string, unknown>;
  if (node.hardware) {
    const hardware = { ...node.hardware } as Record<string, unknown>;
    // render-crate's cpus/memoryMiB are the minimums Pallet calls min-cores/min-ram
    hardware.minCores ??= hardware.cpus;
    hardware.minRam ??= hardware.memoryMiB;
    node.hardware = hardware as NodeSpecOptions['hardware'];
  }
  return { group: value.group ?? value.name, count: value.count, nodeSpec: node };
}

/**
 * Load `groups/x` relative to cwd (`.ts`/`.mts` through tsx, `.js`/`.mjs` by import, `.json5`/`.json`),
 * validating group, count and node spec (errors name the file and field, exit 65).
 * @example const spec = await loadGroupSpec('groups/monitoring', process.cwd())
 */
export async function loadGroupSpec(ref: string, cwd: string): Promise<GroupSpec> {
  const base = resolve(cwd, ref);
  const file = [base, ...SPEC_EXTENSIONS.map((extension) => base + extension)].find((candidate) => existsSync(candidate) && /\.[a-z0-9]+$/.test(candidate));
  if (!file) throw new InputError(`${base}: group spec not found (tried ${SPEC_EXTENSIONS.join(', ')})`);
  if (file.endsWith('.json5') || file.endsWith('.json')) return normalize(await readJson5File(file, GroupSpecSchema, 'group spec'));
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
  let exported: unknown = module.default;
  // a .ts file outside a "type": "module" package comes back as CommonJS: { default: { default: spec } }
  if (exported && typeof exported === 'object' && 'default' in exported && !('group' in exported) && !('name' in exported)) exported = (exported as { default: unknown }).default;
  const value = typeof exported === 'function' ? await (exported as () => unknown)() : exported;
  const parsed = GroupSpecSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${file}: group spec field "${issue.path.join('.') || 'default export'}": ${issue.message}`);
  }
  return normalize(parsed.data);
}
