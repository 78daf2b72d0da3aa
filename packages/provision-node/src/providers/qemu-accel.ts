import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';

/** How qemu runs guest code: hardware virtualisation (KVM) or the TCG emulator. */
export interface QemuAccel {
  accel: 'kvm' | 'tcg';
  /** Why this choice, for a log line. */
  reason: string;
}

/**
 * Choose KVM only when it really works: /dev/kvm is usable AND the CPU advertises vmx/svm
 * (a /dev/kvm on a host without them cannot run stock kernels); otherwise TCG.
 * @example const { accel } = await detectAccel() // { accel: 'tcg', reason: '/dev/kvm is missing' }
 */
export async function detectAccel(paths: { kvm?: string; cpuinfo?: string } = {}): Promise<QemuAccel> {
  const kvm = paths.kvm ?? '/dev/kvm';
  try {
    await access(kvm, constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg', reason: `${kvm} is missing or not usable` };
  }
  const cpuinfo = await readFile(paths.cpuinfo ?? '/proc/cpuinfo', 'utf8').catch(() => '');
  if (!/^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo)) return { accel: 'tcg', reason: 'the CPU flags have neither vmx nor svm' };
  return { accel: 'kvm', reason: `${kvm} is usable and the CPU has vmx/svm` };
}
