// The record kinds and version, without zod: what the stream helpers need to tell records apart. It imports
// nothing of records.ts (whose schemas import the version from here).

/** The record format version every record carries. */
export const RECORD_VERSION = 1 as const;

const KINDS = ['node', 'plan', 'result', 'phase', 'test', 'step', 'promotion', 'error', 'summary'] as const;

/** A known record kind. */
export type KnownKind = (typeof KINDS)[number];

/** Every known record kind (docs/records.md), in the order of the contract's table. */
export const KNOWN_KINDS: KnownKind[] = [...KINDS];

const KIND_SET: ReadonlySet<string> = new Set(KINDS);

/** Whether `kind` names a known record kind. */
export function isKnownKind(kind: string): kind is KnownKind {
  return KIND_SET.has(kind);
}

/** The empty status counts (a StatusCounts of records.ts, spelled out here so this module stays below it). */
export function emptyCounts(): { changed: number; ok: number; failed: number; skipped: number } {
  return { changed: 0, ok: 0, failed: 0, skipped: 0 };
}
