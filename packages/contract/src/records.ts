// The zod schemas of the records: the source of truth. schema/<kind>.schema.json is generated from
// them (`npm run schema`), and from those the Ajv validators of the quick check (check.ts) that spares
// binaries loading zod for valid records; this module is loaded when a record needs zod's verdict or
// through the main entry.
import { z } from 'zod';
import { RECORD_VERSION, type KnownKind } from './kinds.js';
import { UPLOAD_NAME_PATTERN } from './names.js';

const base = { v: z.literal(RECORD_VERSION) };
const nonEmpty = z.string().min(1);
const durationMs = z.number().int().nonnegative();

/** OS facts of a node: family (debian, ubuntu, fedora, rhel, alpine ...) and release; more facts may follow. */
export const OsFactsSchema = z.looseObject({
  family: nonEmpty,
  release: z.string(),
  packageManager: z.string().optional(),
  init: z.string().optional(),
  arch: z.string().optional(),
  /** Whether the running kernel has an NFS client (`kernel`) or not (`none`: containers share the host's kernel); run-actions gathers it on every run. */
  nfsClient: z.enum(['kernel', 'none']).optional(),
});

/** A node: one server that forklift can reach over SSH (written by provision-node). */
export const NodeRecordSchema = z.looseObject({
  ...base,
  kind: z.literal('node'),
  id: nonEmpty,
  group: nonEmpty,
  service: nonEmpty,
  provider: nonEmpty,
  address: nonEmpty,
  port: z.number().int().min(1).max(65535),
  user: nonEmpty,
  privateKey: nonEmpty.optional(),
  hostKey: nonEmpty.optional(),
  os: OsFactsSchema.optional(),
  color: z.string().optional(),
  roles: z.array(z.string()).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  state: z.enum(['running', 'destroyed']),
});

/** One action of a plan: its id (used in markers), action name and human label. */
export const PlanActionSchema = z.looseObject({
  id: nonEmpty,
  action: nonEmpty,
  label: z.string(),
});

/**
 * A controller-side file a plan needs on the node while its script runs (delivered out of band by
 * run-actions over the node's SSH connection, never inside a record): `name` is how the script refers to
 * it, `source` the absolute path on the controller, `bytes` its size; non-sensitive files carry their
 * `sha256` (content-addressed cache on the node), sensitive ones are sent per run and never cached.
 */
export const PlanUploadSchema = z.looseObject({
  name: z.string().regex(UPLOAD_NAME_PATTERN),
  source: nonEmpty,
  bytes: z.number().int().nonnegative(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  sensitive: z.boolean().optional(),
});

/** A plan: the complete POSIX sh script of one phase for one node (written by render-crate). */
export const PlanRecordSchema = z.looseObject({
  ...base,
  kind: z.literal('plan'),
  node: nonEmpty,
  phase: nonEmpty,
  script: z.string(),
  actions: z.array(PlanActionSchema),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** `plan`: the script only checks and reports what would change (render-crate --plan); `apply` changes. */
  mode: z.enum(['apply', 'plan']).optional(),
  uploads: z.array(PlanUploadSchema).optional(),
});

/** Status of one action on one node. */
export const ActionStatusSchema = z.enum(['changed', 'ok', 'failed', 'skipped']);

/** The result of one action on one node (written by run-actions). */
export const ResultRecordSchema = z.looseObject({
  ...base,
  kind: z.literal('result'),
  node: nonEmpty,
  phase: nonEmpty,
  /** The action's name (`file`, `package` ...), as in plan.actions[].action. */
  action: nonEmpty,
  /** The action's id within its plan (`nginx-conf`), as in plan.actions[].id and the markers. */
  id: nonEmpty.optional(),
  label: z.string(),
  status: ActionStatusSchema,
  exitCode: z.number().int(),
  stdout: z.string(),
  stderr: z.string(),
  diff: z.string().optional(),
  durationMs,
  /** Fields cut at run-actions' per-field limit (1 MiB): what followed was not kept. */
  truncated: z.array(z.enum(['stdout', 'stderr', 'diff'])).optional(),
});

/** Counts of action statuses. */
export const StatusCountsSchema = z.object({
  changed: z.number().int().nonnegative(),
  ok: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
});

/** The end of one phase on one node (written by run-actions). */
export const PhaseRecordSchema = z.looseObject({
  ...base,
  kind: z.literal('phase'),
  node: nonEmpty,
  phase: nonEmpty,
  status: ActionStatusSchema,
  counts: StatusCountsSchema,
  durationMs,
});

/** Why a test failed: a focused message, the expected and actual values, a diff and the test file location. */
export const TestFailureSchema = z.looseObject({
  message: z.string(),
  expected: z.unknown().optional(),
  actual: z.unknown().optional(),
  diff: z.string().optional(),
  location: z.string().optional(),
});

/** One test or expectation (written by expect-run). */
export const TestRecordSchema = z.looseObject({
  ...base,
  kind: z.literal('test'),
  file: nonEmpty,
  name: z.string(),
  status: z.enum(['passed', 'failed', 'errored']),
  durationMs,
  failure: TestFailureSchema.optional(),
  /** How many expectations the test checked. */
  assertions: z.number().int().nonnegative().optional(),
  /** With --watch: which run of the tests this record belongs to (1, 2 ...). */
  run: z.number().int().positive().optional(),
});

/** One browser step (written by browser-drive). */
export const StepRecordSchema = z.looseObject({
  ...base,
  kind: z.literal('step'),
  script: nonEmpty,
  index: z.number().int().nonnegative(),
  step: nonEmpty,
  status: z.enum(['passed', 'failed', 'skipped']),
  durationMs,
  screenshot: z.string().optional(),
  error: z.string().optional(),
  /** What an `execute` step's script returned, or an alert's text (`acceptAlert`, `dismissAlert`): JSON data. */
  result: z.unknown().optional(),
  /** Path of the page's HTML saved when the step failed. */
  pageSource: z.string().optional(),
});

/** A color's share of the live traffic in percent (0-100). */
export const ColorWeightSchema = z.object({ color: nonEmpty, weight: z.number().min(0).max(100) });

/** Where a promotion stands after the stage a record reports. */
export const PromotionStatusSchema = z.enum(['shifted', 'held', 'rolled-back', 'done']);

/** What the load balancers saw of the target color during one stage's hold: requests, errors and their ratio (0-1). */
export const PromotionWindowSchema = z.object({
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  errorRate: z.number().min(0).max(1),
});

/** One stage of a blue/green promotion (written by promote-color). */
export const PromotionRecordSchema = z.looseObject({
  ...base,
  kind: z.literal('promotion'),
  app: nonEmpty,
  from: nonEmpty,
  to: nonEmpty,
  weights: z.array(ColorWeightSchema),
  stage: z.number().int().nonnegative(),
  status: PromotionStatusSchema,
  window: PromotionWindowSchema,
  reason: z.string().optional(),
});

/** An error that stopped one node or item while others went on. */
export const ErrorRecordSchema = z.looseObject({
  ...base,
  kind: z.literal('error'),
  code: nonEmpty,
  message: z.string(),
  node: z.string().optional(),
  /** The file the error is about (expect-run: a test file that failed to load). */
  file: z.string().optional(),
  /** `file:line:column` in that file. */
  location: z.string().optional(),
  /** With expect-run --watch: which run the error belongs to. */
  run: z.number().int().positive().optional(),
});

const count = z.number().int().nonnegative();

function countsOf<const Names extends readonly string[]>(names: Names) {
  return z.strictObject(Object.fromEntries(names.map((name) => [name, count.optional()])) as { [N in Names[number]]: z.ZodOptional<typeof count> });
}

/**
 * The counts each forklift binary writes in its summary: only these names, whole numbers. A summary
 * written after an error may hold fewer (or none). Tools not listed here may write any names.
 */
export const summaryCountsSchemas = {
  'forklift-cat': countsOf(['nodes']),
  'render-crate': countsOf(['nodes', 'plans', 'actions', 'skipped']),
  'run-actions': countsOf(['nodes', 'ok', 'changed', 'failed', 'skipped', 'unreachable', 'failedNodes']),
  'provision-node': countsOf(['nodes', 'created', 'destroyed', 'unreachable']),
  'expect-run': countsOf(['files', 'tests', 'assertions', 'passed', 'failed', 'errors', 'runs']),
  'browser-drive': countsOf(['passed', 'failed', 'skipped']),
  'promote-color': countsOf(['lbs', 'stages', 'rolledBack']),
} as const;

/** The last record of every tool's output. */
export const SummaryRecordSchema = z
  .looseObject({
    ...base,
    kind: z.literal('summary'),
    tool: nonEmpty,
    ok: z.boolean(),
    counts: z.record(z.string(), count),
    durationMs,
  })
  .superRefine((record, ctx) => {
    const schema = (summaryCountsSchemas as Record<string, z.ZodType>)[record.tool];
    const checked = schema?.safeParse(record.counts);
    if (!checked || checked.success) return;
    for (const issue of checked.error.issues) ctx.addIssue({ ...issue, path: ['counts', ...issue.path] } as never);
  });

/** Every known record kind and its schema. */
export const recordSchemas = {
  node: NodeRecordSchema,
  plan: PlanRecordSchema,
  result: ResultRecordSchema,
  phase: PhaseRecordSchema,
  test: TestRecordSchema,
  step: StepRecordSchema,
  promotion: PromotionRecordSchema,
  error: ErrorRecordSchema,
  summary: SummaryRecordSchema,
} as const satisfies { [K in KnownKind]: z.ZodType };

export type OsFacts = z.infer<typeof OsFactsSchema>;
export type NodeRecord = z.infer<typeof NodeRecordSchema>;
export type PlanAction = z.infer<typeof PlanActionSchema>;
export type PlanRecord = z.infer<typeof PlanRecordSchema>;
export type PlanUpload = z.infer<typeof PlanUploadSchema>;
export type ActionStatus = z.infer<typeof ActionStatusSchema>;
export type StatusCounts = z.infer<typeof StatusCountsSchema>;
export type ResultRecord = z.infer<typeof ResultRecordSchema>;
export type PhaseRecord = z.infer<typeof PhaseRecordSchema>;
export type TestFailure = z.infer<typeof TestFailureSchema>;
export type TestRecord = z.infer<typeof TestRecordSchema>;
export type StepRecord = z.infer<typeof StepRecordSchema>;
export type ColorWeight = z.infer<typeof ColorWeightSchema>;
export type PromotionStatus = z.infer<typeof PromotionStatusSchema>;
export type PromotionWindow = z.infer<typeof PromotionWindowSchema>;
export type PromotionRecord = z.infer<typeof PromotionRecordSchema>;
export type ErrorRecord = z.infer<typeof ErrorRecordSchema>;
export type SummaryRecord = z.infer<typeof SummaryRecordSchema>;

/** Any record of a known kind. */
export type KnownRecord = {
  [K in KnownKind]: z.infer<(typeof recordSchemas)[K]>;
}[KnownKind];

/** A record of the given known kind. */
export type RecordOf<K extends KnownKind> = z.infer<(typeof recordSchemas)[K]>;

/** The fields of a record of kind K without `v` and `kind`, for building records. */
export type RecordFields<K extends KnownKind> = { [P in keyof RecordOf<K> as P extends 'v' | 'kind' ? never : P]: RecordOf<K>[P] };

/**
 * Build a record of a known kind, validated.
 * @example makeRecord('error', { code: 'unreachable', message: 'connect timeout', node: 'web-1' })
 */
export function makeRecord<K extends KnownKind>(kind: K, fields: RecordFields<K>): RecordOf<K> {
  const schema = recordSchemas[kind] as z.ZodType;
  return schema.parse({ v: RECORD_VERSION, kind, ...fields }) as RecordOf<K>;
}

/** JSON Schema (draft 2020-12) of one record kind, generated from its zod schema. */
export function jsonSchemaFor(kind: KnownKind): Record<string, unknown> {
  const schema = z.toJSONSchema(recordSchemas[kind], { target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  if (kind === 'summary') {
    // the per-tool counts (a refinement in zod, which JSON Schema output leaves out): one if/then per tool
    schema.allOf = Object.entries(summaryCountsSchemas).map(([tool, counts]) => {
      const { $schema: _dialect, ...countsSchema } = z.toJSONSchema(counts, { target: 'draft-2020-12' }) as Record<string, unknown>;
      return { if: { properties: { tool: { const: tool } }, required: ['tool'] }, then: { properties: { counts: countsSchema } } };
    });
  }
  return { $id: `https://forklift.dev/schema/${kind}.schema.json`, title: `forklift ${kind} record`, ...schema };
}
