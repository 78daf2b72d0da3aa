import { z } from 'zod';
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
