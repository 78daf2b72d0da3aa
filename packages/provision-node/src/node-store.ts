import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OsFacts } from '@forklift/contract';
import type { ListedNode, ProviderContext } from './provider.js';

/** What a provider writes about a node when it starts making it (before any host resource exists). */
export interface NodeMeta {
  id: string;
  group: string;
  /** Host-unique short name (cgroups, machine name, interface names): `f` + 10 hex. */
  machine: string;
  createdMs: number;
  address?: string;
  mac?: string;
  hostKey?: string;
  os?: OsFacts;
}

/** One node directory under `<stateDir>/nodes/<id>`, as found on disk. */
export interface StoredNode {
  id: string;
  dir: string;
  /** Missing when the maker died before writing it. */
  meta?: NodeMeta;
  /** The node answered SSH once (written after the wait). */
  ready: boolean;
  createdMs: number;
}

/** The host-unique short name of a node: `f` + 10 hex of sha256(home, service, id). */
export function machineName(ctx: ProviderContext, id: string): string {
  return 'f' + createHash('sha256').update(`${ctx.home}\0${ctx.service.name}\0${id}`).digest('hex').slice(0, 10);
}

/** The directory of one node. */
export function nodeDir(ctx: ProviderContext, id: string): string {
  return join(ctx.stateDir, 'nodes', id);
}

/** Create a node's directory and write its meta first: every resource made later is found through it. */
export async function startNode(ctx: ProviderContext, meta: NodeMeta): Promise<string> {
  const dir = nodeDir(ctx, meta.id);
  await mkdir(dir, { recursive: true });
  await writeMeta(dir, meta);
  return dir;
}

/** (Re)write a node's meta.json. */
export async function writeMeta(dir: string, meta: NodeMeta): Promise<void> {
  await writeFile(join(dir, 'meta.json.tmp'), JSON.stringify(meta) + '\n');
  await rename(join(dir, 'meta.json.tmp'), join(dir, 'meta.json'));
}

/** Mark a node as having answered SSH. */
export async function markReady(dir: string): Promise<void> {
  await writeFile(join(dir, 'ready'), `${Date.now()}\n`);
}

/** Every node directory of the service (of one group when given). Directories without meta belong to no group and are always listed. */
export async function storedNodes(ctx: ProviderContext, group?: string): Promise<StoredNode[]> {
  const root = join(ctx.stateDir, 'nodes');
  if (!existsSync(root)) return [];
  const out: StoredNode[] = [];
  for (const id of await readdir(root)) {
    const dir = join(root, id);
    let meta: NodeMeta | undefined;
    try {
      meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as NodeMeta;
    } catch {
      meta = undefined;
    }
    if (group !== undefined && meta && meta.group !== group) continue;
    const createdMs = meta?.createdMs ?? (await stat(dir)).mtimeMs;
    out.push({ id, dir, meta, ready: existsSync(join(dir, 'ready')), createdMs });
  }
  return out;
}

/** Remove a node's directory (the last step of destroying it). */
export async function removeNodeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** OS facts from a root filesystem's /etc/os-release. */
export async function osFactsOf(root: string): Promise<OsFacts> {
  const text = await readFile(join(root, 'etc', 'os-release'), 'utf8').catch(() => '');
  const field = (key: string): string | undefined => text.match(new RegExp(`^${key}="?([^"\\n]*)"?`, 'm'))?.[1];
  return { family: field('ID') ?? 'linux', release: field('VERSION_ID') ?? '', packageManager: 'apt', arch: process.arch === 'x64' ? 'x86_64' : process.arch };
}

/**
 * A stored node as its provider lists it — the one `toListed` of every provider that keeps nodes under
 * `<stateDir>/nodes`: `running` only when its processes run and it answered SSH once (else `broken`, for
 * the core to clean). `tags` adds provider facts to the node's tags (`machine` and `createdAt` always).
 * @example listedFromStored(ctx, stored, 'qemu', findQemuPid(stored.dir) !== undefined, (meta) => ({ accel: String(meta.accel) }))
 */
export function listedFromStored<M extends NodeMeta>(
  ctx: ProviderContext,
  stored: StoredNode,
  provider: string,
  running: boolean,
  tags?: (meta: M) => Record<string, string>,
): ListedNode {
  const meta = stored.meta as (M & { port?: number }) | undefined;
  return {
    node: {
      id: stored.id,
      group: meta?.group ?? '?',
      service: ctx.service.name,
      provider,
      address: meta?.address ?? '0.0.0.0',
      port: meta?.port ?? 22,
      user: 'root',
      privateKey: join(ctx.keysDir, 'id_ed25519'),
      hostKey: meta?.hostKey,
      os: meta?.os,
      tags: meta ? { machine: meta.machine, ...(tags?.(meta) ?? {}), createdAt: new Date(meta.createdMs).toISOString() } : undefined,
    },
    createdMs: stored.createdMs,
    status: running && stored.ready ? 'running' : 'broken',
    handle: { dir: stored.dir },
  };
}
