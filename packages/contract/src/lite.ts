// @forklift/contract/lite: the contract without the zod schema objects, for binaries whose start-up
// time matters. Records are still validated exactly as through the main entry: a quick check
// accepts what is certainly valid, and zod is loaded only to decide (and word) the rest.
export * from './errors.js';
export { RECORD_VERSION, KNOWN_KINDS, isKnownKind, emptyCounts, type KnownKind } from './kinds.js';
export { readRecords, readAllRecords, formatRecord, RecordWriter, DEFAULT_MAX_LINE_BYTES, type InputRecord, type ReadOptions } from './ndjson.js';
export * from './tool.js';
export { parseArgv, type ArgvSpec, type ParsedArgv } from './argv.js';
export { closest } from './suggest.js';
export { secondsFlag, positiveIntegerFlag, parsePhaseFlags } from './flag-values.js';
export { colorEnabled, colorsFor, colorDiff, type Colors, type Verbosity } from './terminal.js';
export * from './quote.js';
export { formatFieldPath, valueAtPath } from './paths.js';
export { issueLine, type ValidationIssue, type IssueLineOptions } from './issue.js';
export { PHASE_NAME_PATTERN, ACTION_ID_PATTERN, NONCE_PATTERN, UPLOAD_NAME_PATTERN, UNRENDERED_PHASES, STANDARD_PHASES, phaseNameProblem } from './names.js';
export type { OsFamily, Facts } from './facts.js';
export { forkliftCatTool } from './cat.js';
export { CONTRACT_VERSION } from './version.js';
export { packageVersion } from './package-version.js';
export { readPasswd, type PasswdEntry } from './passwd.js';
export type {
  OsFacts,
  NodeRecord,
  PlanAction,
  PlanRecord,
  PlanUpload,
  ActionStatus,
  StatusCounts,
  ResultRecord,
  PhaseRecord,
  TestFailure,
  TestRecord,
  StepRecord,
  ColorWeight,
  PromotionStatus,
  PromotionWindow,
  PromotionRecord,
  ErrorRecord,
  SummaryRecord,
  KnownRecord,
  RecordOf,
  RecordFields,
} from './records.js';
