import { z } from 'zod';
import { InputError, issueLine } from '@forklift/contract';
import type { Service } from '../provider.js';
import { parseServiceOptions } from '../service-options.js';

/** Options of an nspawn (or netns) service file: which rootfs to build and how long to wait for SSH. */
export const RootfsServiceOptionsSchema = z.strictObject({
  /** Debian suite of the rootfs (default bookworm). */
  suite: z.string().min(1).optional(),
  /** Extra Debian packages baked into the rootfs. */
  include: z.array(z.string().min(1)).optional(),
  /** How long to wait for a node to answer SSH (default 90 s). */
  bootTimeoutMs: z.number().int().positive().optional(),
});

/** Parsed options of an nspawn or netns service. */
export type RootfsServiceOptions = z.infer<typeof RootfsServiceOptionsSchema>;

/** Validate a service's options; errors name the service file and the field (exit 65). */
export function parseRootfsOptions(service: Service): RootfsServiceOptions {
  return parseServiceOptions(RootfsServiceOptionsSchema, service);
}

/**
 * What a group spec may ask of its nspawn nodes (`node: { provider: { nspawn: { fuse: true } } }`):
 * - `fuse`: /dev/fuse inside the node (FUSE file systems such as sshfs);
 * - `nfsExport`: a user-space NFS server (nfs-ganesha) can export directories of the node's own file system:
 *   the open_by_handle_at system call allowed and the root overlay mounted with index=on,nfs_export=on.
 */
export const NspawnNodeExtrasSchema = z.strictObject({
  fuse: z.boolean().optional(),
  nfsExport: z.boolean().optional(),
});

/** Parsed nspawn extras of a node spec. */
export type NspawnNodeExtras = z.infer<typeof NspawnNodeExtrasSchema>;

/** The nspawn extras of a node spec (`provider.nspawn`); errors name the group and the field (exit 65). */
export function parseNspawnExtras(extras: unknown, group: string): NspawnNodeExtras {
  const parsed = NspawnNodeExtrasSchema.safeParse(extras ?? {});
  if (parsed.success) return parsed.data;
  throw new InputError(issueLine(parsed.error, { where: `group ${group}`, what: 'node spec', within: ['node', 'provider', 'nspawn'], input: extras ?? {} }));
}
