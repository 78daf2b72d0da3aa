import { z } from 'zod';
import type { Service } from '../provider.js';
import { parseServiceOptions } from '../service-options.js';

/** Options of a podman service file (all optional). */
export const PodmanServiceOptionsSchema = z.strictObject({
  /** Debian suite of the rootfs the image is imported from (default bookworm). */
  suite: z.string().min(1).optional(),
  /** Extra Debian packages baked into that rootfs. */
  include: z.array(z.string().min(1)).optional(),
  /** `podman`: the container's own address on podman's default network (root); `publish`: sshd published on a 127.0.0.1 port (rootless); `auto` (default): podman for root, publish otherwise. */
  network: z.enum(['auto', 'podman', 'publish']).optional(),
  /** OCI runtime (default: runc on cgroup v1 hosts, where crun fails once the cgroup2 hierarchy holds controllers; else podman's default). */
  runtime: z.string().min(1).optional(),
  /** How long to wait for a node to answer SSH (default 90 s). */
  bootTimeoutMs: z.number().int().positive().optional(),
});

/** Parsed options of a podman service. */
export type PodmanServiceOptions = z.infer<typeof PodmanServiceOptionsSchema>;

/** Validate a podman service's options; errors name the service file and the field (exit 65). */
export function parsePodmanOptions(service: Service): PodmanServiceOptions {
  return parseServiceOptions(PodmanServiceOptionsSchema, service);
}
