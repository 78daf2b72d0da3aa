import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import JSON5 from 'json5';
import { z } from 'zod';
import { InputError, issueLine, UsageError } from '@forklift/contract';
import { PROVIDER_NAMES } from './registry.js';
import type { Service } from './provider.js';

/** A node of a node-list inventory (an existing server). */
export const InventoryNodeSchema = z.strictObject({
  id: z.string().min(1),
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1).default('root'),
  group: z.string().min(1).optional(),
  privateKey: z.string().min(1).optional(),
  hostKey: z.string().min(1).optional(),
  os: z.looseObject({ family: z.string().min(1), release: z.string() }).optional(),
  roles: z.array(z.string()).optional(),
  tags: z.record(z.string(), z.string()).optional(),
});

/** A node of a node-list inventory. */
export type InventoryNode = z.infer<typeof InventoryNodeSchema>;

/** Schema of a service file: `{ provider, options? }` (node-list: `nodes` or `inventory`). */
export const ServiceFileSchema = z.strictObject({
  provider: z.enum(PROVIDER_NAMES),
  description: z.string().optional(),
  options: z.record(z.string(), z.unknown()).optional(),
  /** node-list: the nodes inline. */
  nodes: z.array(InventoryNodeSchema).optional(),
  /** node-list: path of a JSON5 inventory file (a list of nodes), relative to the service file. */
  inventory: z.string().min(1).optional(),
});

/** The services that work with no file at all. */
export const BUILTIN_SERVICES: Record<string, Omit<Service, 'name'>> = {
  local: { provider: 'nspawn', options: {} },
  vmfest: { provider: 'qemu', options: {} },
  netns: { provider: 'netns', options: {} },
  localhost: { provider: 'node-list', options: { localhost: true } },
};

const SERVICE_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Parse and validate a JSON5 file with a zod schema; errors name the file and the field (exit 65). */
export async function readJson5File<T extends z.ZodType>(file: string, schema: T, what: string): Promise<z.infer<T>> {
  let value: unknown;
  try {
    value = JSON5.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${file}: ${what} file not found`);
    throw new InputError(`${file}: not valid JSON5 (${(error as Error).message})`, { cause: error });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InputError(issueLine(parsed.error, { where: file, what, input: value }));
  return parsed.data;
}

/**
 * Find a service by name: `services/<name>.json5|.json` of the group spec's project (`projectDir`,
 * when given), of the working directory, then of `$FORKLIFT_HOME/services`, then the built-ins
 * (`local`, `vmfest`, `netns`, `localhost`).
 * @example const service = await resolveService('local', { cwd: process.cwd(), home: '/root/.forklift' })
 */
export async function resolveService(name: string, where: { cwd: string; home: string; projectDir?: string }): Promise<Service> {
  if (!SERVICE_NAME.test(name)) throw new UsageError(`bad service name "${name}": use lowercase letters, digits, "-" and "_"`);
  const dirs = [...new Set([...(where.projectDir ? [join(where.projectDir, 'services')] : []), join(where.cwd, 'services'), join(where.home, 'services')])];
  for (const dir of dirs) {
    for (const extension of ['.json5', '.json']) {
      const file = join(dir, name + extension);
      if (!existsSync(file)) continue;
      const data = await readJson5File(file, ServiceFileSchema, 'service');
      const options: Record<string, unknown> = { ...(data.options ?? {}) };
      if (data.provider === 'node-list') {
        if (!data.nodes && !data.inventory) throw new InputError(`${file}: service field "nodes": missing (a node-list service needs "nodes" or "inventory")`);
        if (data.nodes) options.nodes = data.nodes;
        if (data.inventory) {
          const inventory = join(dir, data.inventory);
          options.nodes = [...((options.nodes as InventoryNode[]) ?? []), ...(await readJson5File(inventory, z.array(InventoryNodeSchema), 'inventory'))];
        }
      } else if (data.nodes || data.inventory) {
        throw new InputError(`${file}: service field "${data.nodes ? 'nodes' : 'inventory'}": only a node-list service lists nodes`);
      }
      return { name, provider: data.provider, options, file };
    }
  }
  const builtin = BUILTIN_SERVICES[name];
  if (builtin) return { name, ...builtin };
  throw new InputError(
    `${join(dirs[0]!, name + '.json5')}: service file not found (nor in ${dirs.slice(1).join(', ')}); built-in services: ${Object.keys(BUILTIN_SERVICES).join(', ')}`,
    { code: 'unknown-service' },
  );
}
