import { z } from 'zod';
import type { NodeRecord } from '@forklift/contract';

/** Which node: `{ group, index? }` (the index-th running node of the group, default 0) or `{ id }`. */
export const NodeRefSchema = z.union(
  [z.strictObject({ group: z.string().min(1), index: z.number().int().nonnegative().optional() }), z.strictObject({ id: z.string().min(1) })],
  { error: 'expected { group, index? } or { id }' },
);

/** An address on a node from the input records: scheme (default http), port (default 80) and path (default /). */
export const NodeAddressSchema = z.strictObject({
  node: NodeRefSchema,
  port: z.number().int().min(1).max(65535).optional(),
  path: z.string().optional(),
  scheme: z.enum(['http', 'https']).optional(),
});

/** A URL given directly or as a node address. */
export const UrlSchema = z.union([z.string().min(1), z.strictObject({ url: z.string().min(1) }), NodeAddressSchema], {
  error: 'expected a URL string, { url } or { node: { group, index? } | { id }, port?, path?, scheme? }',
});

export type NodeRef = z.infer<typeof NodeRefSchema>;
export type NodeAddress = z.infer<typeof NodeAddressSchema>;
export type UrlInput = z.infer<typeof UrlSchema>;

/** Why a node address could not be resolved; `field` names the part of the step at fault. */
export class AddressError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'AddressError';
  }
}

/** Host part of a URL for an address (IPv6 in brackets). */
function urlHost(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/**
 * The node a reference names, among the running nodes read from stdin.
 * @example findNode({ group: 'web', index: 0 }, nodes)
 */
export function findNode(ref: NodeRef, nodes: readonly NodeRecord[]): NodeRecord {
  const running = nodes.filter((node) => node.state === 'running');
  if ('id' in ref) {
    const node = running.find((candidate) => candidate.id === ref.id);
    if (!node) throw new AddressError(`no running node with id "${ref.id}" in the input (${running.length} running nodes read)`, 'node.id');
    return node;
  }
  const group = running.filter((node) => node.group === ref.group);
  const index = ref.index ?? 0;
  const node = group[index];
  if (!node) {
    throw new AddressError(`no running node number ${index} in group "${ref.group}" in the input (that group has ${group.length})`, 'node');
  }
  return node;
}

/**
 * An absolute URL (or a relative one, left for the base URL) for a URL input.
 * @example resolveUrlInput({ node: { group: 'web' }, port: 8080, path: '/health' }, nodes) // http://10.0.0.2:8080/health
 */
export function resolveUrlInput(input: UrlInput, nodes: readonly NodeRecord[]): string {
  if (typeof input === 'string') return input;
  if ('url' in input) return input.url;
  const node = findNode(input.node, nodes);
  const scheme = input.scheme ?? 'http';
  const port = input.port ?? (scheme === 'https' ? 443 : 80);
  const path = input.path ?? '/';
  return `${scheme}://${urlHost(node.address)}:${port}${path.startsWith('/') ? path : `/${path}`}`;
}
