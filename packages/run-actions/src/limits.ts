import { readFileSync } from 'node:fs';

/** The soft open-file limit of this process (from /proc/self/limits; 1024 when unknown). */
export function openFileLimit(): number {
  try {
    const text = readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\S+)/m.exec(text);
    if (match) return match[1] === 'unlimited' ? 1_000_000 : Number(match[1]);
  } catch {
    // not Linux
  }
  return 1024;
}

/**
 * How many nodes may run at once: the asked concurrency, capped so that every node's connection
 * (a socket, or three pipes for localhost) fits in the open-file limit with room to spare.
 * @example effectiveConcurrency(undefined, 50) // 50 under a limit of 1024
 */
export function effectiveConcurrency(asked: number | undefined, nodeCount: number, limit = openFileLimit()): number {
  const byFiles = Math.max(1, Math.floor((limit - 64) / 4));
  return Math.max(1, Math.min(asked ?? Number.POSITIVE_INFINITY, nodeCount || 1, byFiles));
}
