// Record validation without zod at start-up: the quick check (check.ts) accepts what is certainly
// valid; anything else goes to the zod schemas (records.ts), loaded on first need, which decide and
// word the error exactly as they always have.
import { quickCheckRecord } from './check.js';
import { InputError } from './errors.js';
import { RECORD_VERSION, type KnownKind } from './kinds.js';
import { issueLine, type ValidationIssue } from './issue.js';
import type { KnownRecord, RecordFields, RecordOf } from './records.js';

type RecordsModule = typeof import('./records.js');
let schemas: Promise<RecordsModule> | undefined;

/** The zod record schemas (and zod with them), imported on first call. */
export function loadRecordSchemas(): Promise<RecordsModule> {
  return (schemas ??= import('./records.js'));
}

/** The InputError for a record zod rejected: `WHERE: KIND record field "PATH": DETAIL`. */
export function recordIssueError(
  kind: string,
  object: unknown,
  issue: ValidationIssue | { issues: readonly ValidationIssue[] },
  where: string,
  line: number,
): InputError {
  return new InputError(issueLine(issue, { where, what: `${kind} record`, input: object }), { line });
}

/**
 * Validate a parsed input record of a known kind with the given schemas (synchronously), throwing
 * the one-line InputError; returns the validated record.
 */
export function validateWith(records: RecordsModule, kind: KnownKind, object: Record<string, unknown>, where: string, line: number): KnownRecord {
  if (quickCheckRecord(kind, object)) return object as KnownRecord;
  const parsed = records.recordSchemas[kind].safeParse(object);
  if (!parsed.success) throw recordIssueError(kind, object, parsed.error, where, line);
  return parsed.data as KnownRecord;
}

/** Validate a parsed input record of a known kind, loading zod only when the quick check is unsure. */
export async function validateInput(kind: KnownKind, object: Record<string, unknown>, where: string, line: number): Promise<KnownRecord> {
  if (quickCheckRecord(kind, object)) return object as KnownRecord;
  return validateWith(await loadRecordSchemas(), kind, object, where, line);
}

/**
 * Build a record of a known kind, validated: what makeRecord returns (and throws), loading zod only
 * when the quick check is unsure.
 */
export async function buildRecord<K extends KnownKind>(kind: K, fields: RecordFields<K>): Promise<RecordOf<K>> {
  const record = { v: RECORD_VERSION, kind, ...fields };
  if (quickCheckRecord(kind, record)) return record as RecordOf<K>;
  return (await loadRecordSchemas()).makeRecord(kind, fields);
}
