import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '@forklift/contract';
import type { InventoryNode } from '../services.js';
import type { ListedNode, Provider, ProviderContext } from '../provider.js';

/** The local machine as a node: 127.0.0.1:22 as the current user, host key from /etc/ssh, key from ~/.ssh. */
export function localhostNode(): InventoryNode {
  const hostKeyFile = '/etc/ssh/ssh_host_ed25519_key.pub';
  const hostKey = existsSync(hostKeyFile) ? readFileSync(hostKeyFile, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ') : undefined;
  const privateKey = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => join(homedir(), '.ssh', name)).find((file) => existsSync(file));
  const os = readFileSync('/etc/os-release', 'utf8');
  const field = (key: string): string | undefined => os.match(new RegExp(`^${key}="?([^"\\n]*)"?`, 'm'))?.[1];
  return {
    id: 'localhost',
    address: '127.0.0.1',
    port: 22,
    user: userInfo().username,
    privateKey,
    hostKey,
    os: { family: field('ID') ?? 'linux', release: field('VERSION_ID') ?? '' },
  };
}

function inventory(ctx: ProviderContext): InventoryNode[] {
  if (ctx.service.options.localhost === true) return [localhostNode()];
  return (ctx.service.options.nodes as InventoryNode[] | undefined) ?? [];
}

function refuse(ctx: ProviderContext): never {
  throw new UsageError(
    `service "${ctx.service.name}" is a node-list (existing servers): it cannot create or destroy nodes; edit ${ctx.service.file ?? 'its inventory'}`,
  );
}

/** node-list: existing servers from an inventory (or `localhost`); listing only, no create or destroy. */
export const provider: Provider = {
  name: 'node-list',
  canCreate: false,
  async prerequisites() {
    // nothing to install: the servers exist already
  },
  async list(ctx, group) {
    const nodes: ListedNode[] = [];
    inventory(ctx).forEach((item, index) => {
      const nodeGroup = item.group ?? group ?? ctx.service.name;
      if (group !== undefined && nodeGroup !== group) return;
      nodes.push({
        node: {
          id: item.id,
          group: nodeGroup,
          service: ctx.service.name,
          provider: 'node-list',
          address: item.address,
          port: item.port,
          user: item.user,
          privateKey: item.privateKey,
          hostKey: item.hostKey,
          os: item.os,
          roles: item.roles,
          tags: item.tags,
        },
        createdMs: index,
        status: 'running',
      });
    });
    return nodes;
  },
  async create(ctx) {
    refuse(ctx);
  },
  async destroy(ctx) {
    refuse(ctx);
  },
};
