import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateHostKey } from './keys.js';
import { mountOverlay } from './mounts.js';
import { machineName, osFactsOf, startNode, writeMeta, type NodeMeta } from './node-store.js';
import type { AddressLease, CreateRequest, ProviderContext } from './provider.js';

/** A node whose directory, meta and address exist, ready for its root filesystem. */
export interface BegunNode {
  request: CreateRequest;
  meta: NodeMeta;
  dir: string;
  lease: AddressLease;
}

/**
 * Start nodes the crash-safe way: every node directory and meta first (so anything made later is
 * found and cleaned through it), then all addresses under one network lock.
 */
export async function beginNodes(ctx: ProviderContext, requests: CreateRequest[]): Promise<BegunNode[]> {
  const started = [];
  for (const request of requests) {
    const meta: NodeMeta = { id: request.id, group: request.group, machine: machineName(ctx, request.id), createdMs: Date.now() };
    started.push({ request, meta, dir: await startNode(ctx, meta) });
  }
  const leases = await ctx.network.leaseAll(requests.map((request) => `${ctx.service.name}/${request.id}`));
  return Promise.all(
    started.map(async (node, index) => {
      const lease = leases[index]!;
      node.meta.address = lease.address;
      node.meta.mac = lease.mac;
      await writeMeta(node.dir, node.meta);
      return { ...node, lease };
    }),
  );
}

/** /etc/hosts of a node, as Debian's installer writes it: localhost, and the node's own name on 127.0.1.1. */
export function hostsFile(hostname: string): string {
  return `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n`;
}

/**
 * Give a begun node its own root: an overlay of the rootfs, its own host key (pinned in meta),
 * OS facts, hostname and the apt proxy line. Returns the mounted root.
 */
export async function prepareRoot(node: BegunNode, rootfs: string, options: { nfsExport?: boolean } = {}): Promise<string> {
  const root = await mountOverlay(rootfs, node.dir, options);
  node.meta.hostKey = await generateHostKey(root, `${node.request.id}@forklift`);
  node.meta.os = await osFactsOf(root);
  await writeMeta(node.dir, node.meta);
  await writeFile(join(root, 'etc', 'hostname'), `${node.request.id}\n`);
  // debootstrap's minbase has no /etc/hosts: the node's own name then goes to DNS, which nodes do not have, and
  // whatever resolves it waits for the timeout (Java's getLocalHost: ZooKeeper's CLI took 30 s per call)
  await writeFile(join(root, 'etc', 'hosts'), hostsFile(node.request.id));
  const proxy = node.lease.network.aptProxy;
  if (proxy) await writeFile(join(root, 'etc', 'apt', 'apt.conf.d', '01forklift-proxy'), `Acquire::http::Proxy "${proxy}";\n`);
  return root;
}
