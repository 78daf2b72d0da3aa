import { z } from 'zod';
import type { NodeSpec } from '@forklift/spec';
import type { Service } from '../provider.js';
import { parseServiceOptions } from '../service-options.js';

/** Options of a qemu service file (all optional; the built-in `vmfest` service uses the defaults). */
export const QemuServiceOptionsSchema = z.strictObject({
  /** Guest memory in MiB (default 512; a group spec's hardware.minRamMiB raises it). */
  memoryMb: z.number().int().min(128).max(65536).optional(),
  /** Virtual CPUs (default 1; a group spec's hardware.minCores raises it). */
  cpus: z.number().int().min(1).max(64).optional(),
  /** `bridge`: a tap on the tool's bridge (root only); `user`: slirp with sshd on a loopback port; `auto` (default): bridge for root, user otherwise. */
  network: z.enum(['auto', 'bridge', 'user']).optional(),
  /** `auto` (default) uses KVM only when it really works, else TCG; `tcg` forces emulation; `kvm` fails when KVM is unusable. */
  accel: z.enum(['auto', 'kvm', 'tcg']).optional(),
  /** How long to wait for a VM to answer SSH (default 600 s under TCG, 120 s with KVM). */
  bootTimeoutMs: z.number().int().positive().optional(),
  /** How many VMs boot at once (default 1: TCG boots are CPU-bound). */
  parallel: z.number().int().min(1).max(32).optional(),
});

/** Parsed options of a qemu service. */
export type QemuServiceOptions = z.infer<typeof QemuServiceOptionsSchema>;

/** Validate a qemu service's options; errors name the service file and the field (exit 65). */
export function parseQemuOptions(service: Service): QemuServiceOptions {
  return parseServiceOptions(QemuServiceOptionsSchema, service);
}

/** The VM size of one node: the service's defaults raised to the group spec's minimums. @example vmSize({}, { hardware: { minRamMiB: 1024 } }) // { memoryMb: 1024, cpus: 1 } */
export function vmSize(options: QemuServiceOptions, spec: NodeSpec): { memoryMb: number; cpus: number } {
  const memoryMb = Math.max(options.memoryMb ?? 512, Math.ceil(spec.hardware?.minRamMiB ?? 0));
  const cpus = Math.max(options.cpus ?? 1, Math.ceil(spec.hardware?.minCores ?? 0));
  return { memoryMb, cpus };
}
