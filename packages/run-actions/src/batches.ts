/** A rolling batch size: a node count or a share of the nodes. */
export type BatchSize = { count: number } | { percent: number };

/**
 * Split items into rolling batches (`--batch 2` or `--batch 25%`; a share rounds up, at least 1).
 * @example splitBatches([1, 2, 3, 4, 5], { percent: 40 }) // [[1, 2], [3, 4], [5]]
 */
export function splitBatches<T>(items: readonly T[], size: BatchSize | undefined): T[][] {
  if (!size || items.length === 0) return items.length ? [items.slice()] : [];
  const per = 'count' in size ? size.count : Math.ceil((items.length * size.percent) / 100);
  const step = Math.max(1, per);
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += step) out.push(items.slice(index, index + step));
  return out;
}
