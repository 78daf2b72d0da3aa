// The quick record check (src/check.ts: a plain-data pre-check, then the Ajv validators generated from
// the JSON Schemas) against zod: it may only accept what zod accepts unchanged, it must accept the
// ordinary valid records (or every record would load zod), and the zod schemas may only use what their
// JSON Schemas state exactly.
import t from 'tap';
import { Readable } from 'node:stream';
import type { z } from 'zod';
import { isPlainData, quickCheckRecord } from '../src/check.js';
import { compileStrict, validatorsModule } from '../scripts/validators.mjs';
import { KNOWN_KINDS, readAllRecords, recordSchemas, summaryCountsSchemas, type KnownKind } from '../src/index.js';

const valid: Record<KnownKind, Array<Record<string, unknown>>> = {
  node: [
    { v: 1, kind: 'node', id: 'web-1', group: 'web', service: 'local', provider: 'nspawn', address: '10.0.0.2', port: 22, user: 'root', state: 'running' },
    {
      v: 1,
      kind: 'node',
      id: 'web-2',
      group: 'web',
      service: 'local',
      provider: 'nspawn',
      address: 'fd00::2',
      port: 65535,
      user: 'admin',
      privateKey: '/root/.forklift/keys/id',
      hostKey: 'ssh-ed25519 AAAA',
      os: { family: 'debian', release: '12', init: 'systemd', extra: [1] },
      color: 'blue',
      roles: ['web', 'db'],
      tags: { rack: 'a1' },
      state: 'destroyed',
      provisionedAt: '2024-01-01',
    },
  ],
  plan: [
    {
      v: 1,
      kind: 'plan',
      node: 'web-1',
      phase: 'configure',
      script: 'set -eu\n',
      actions: [{ id: 'a.1', action: 'package', label: 'nginx', extra: true }],
      sha256: 'a'.repeat(64),
      mode: 'plan',
    },
  ],
  result: [
    {
      v: 1,
      kind: 'result',
      node: 'web-1',
      phase: 'configure',
      action: 'package',
      id: 'a.1',
      label: 'nginx',
      status: 'changed',
      exitCode: 0,
      stdout: '',
      stderr: '',
      durationMs: 12,
    },
    {
      v: 1,
      kind: 'result',
      node: 'web-1',
      phase: 'configure',
      action: 'a.1',
      label: 'nginx',
      status: 'failed',
      exitCode: -1,
      stdout: 'x',
      stderr: 'y',
      diff: '--- a\n',
      durationMs: 0,
    },
  ],
  phase: [{ v: 1, kind: 'phase', node: 'web-1', phase: 'configure', status: 'ok', counts: { changed: 0, ok: 3, failed: 0, skipped: 0 }, durationMs: 40 }],
  test: [
    { v: 1, kind: 'test', file: 'a.expect.ts', name: 'line 1', status: 'passed', durationMs: 0, assertions: 1, run: 2 },
    {
      v: 1,
      kind: 'test',
      file: 'a.expect.ts',
      name: '',
      status: 'failed',
      durationMs: 3,
      failure: { message: 'expected: 1 was: 2', expected: 1, actual: { a: [null] }, diff: 'x', location: 'a.expect.ts:1:1' },
    },
    { v: 1, kind: 'test', file: 'a.expect.ts', name: 'n', status: 'errored', durationMs: 3, failure: undefined },
  ],
  step: [
    { v: 1, kind: 'step', script: 'login.json', index: 0, step: 'open', status: 'skipped', durationMs: 1, screenshot: 's.png', error: 'e' },
    { v: 1, kind: 'step', script: 'x.json5', index: 2, step: 'execute', status: 'failed', durationMs: 3, result: { a: [1, null] }, pageSource: '/tmp/x.html' },
  ],
  promotion: [
    {
      v: 1,
      kind: 'promotion',
      app: 'wine',
      from: 'blue',
      to: 'green',
      weights: [
        { color: 'blue', weight: 90 },
        { color: 'green', weight: 10 },
      ],
      stage: 1,
      status: 'shifted',
      window: { requests: 10, errors: 0, errorRate: 0 },
    },
    {
      v: 1,
      kind: 'promotion',
      app: 'wine',
      from: 'blue',
      to: 'green',
      weights: [
        { color: 'blue', weight: 100 },
        { color: 'green', weight: 0 },
      ],
      stage: 2,
      status: 'rolled-back',
      window: { requests: 4000, errors: 9, errorRate: 0.00225 },
      reason: 'error rate 0.23% above 0.1%',
    },
    {
      v: 1,
      kind: 'promotion',
      app: 'wine',
      from: 'blue',
      to: 'green',
      weights: [],
      stage: 0,
      status: 'held',
      window: { requests: 0, errors: 0, errorRate: 0 },
    },
  ],
  error: [
    { v: 1, kind: 'error', code: 'unreachable', message: 'connect timeout', node: 'web-1' },
    { v: 1, kind: 'error', code: 'x', message: '' },
    { v: 1, kind: 'error', code: 'load-failed', message: 'a.expect.ts: boom', file: 'a.expect.ts', location: 'a.expect.ts:3:1', run: 1 },
  ],
  summary: [
    { v: 1, kind: 'summary', tool: 'expect-run', ok: false, counts: { tests: 100, passed: 99 }, durationMs: 0 },
    {
      v: 1,
      kind: 'summary',
      tool: 'run-actions',
      ok: true,
      counts: { nodes: 2, ok: 10, changed: 2, failed: 0, skipped: 0, unreachable: 0, failedNodes: 0 },
      durationMs: 7,
    },
    { v: 1, kind: 'summary', tool: 'some-other-tool', ok: true, counts: { widgets: 3 }, durationMs: 7 },
    { v: 1, kind: 'summary', tool: 'render-crate', ok: false, counts: {}, durationMs: 7 },
  ],
};

// values put in place of every field (and every nested field) of the valid records
const ODD: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -0,
  -1,
  1,
  1.5,
  22,
  65535,
  65536,
  2 ** 53,
  -(2 ** 53),
  NaN,
  Infinity,
  -Infinity,
  '',
  'x',
  '22',
  'running',
  'a'.repeat(64),
  'A'.repeat(64),
  [],
  [''],
  ['x', 1],
  {},
  { family: 'debian' },
  { family: '', release: '' },
  { color: 'x', weight: 1 },
  { requests: 1, errors: 1, x: 1 },
  { changed: 0, ok: 0, failed: 0, skipped: 0 },
  new Date(0),
  () => 1,
  10n,
];

type Path = Array<string | number>;

function paths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [];
  const out: Path[] = [];
  for (const key of Object.keys(value)) {
    const path = [...prefix, Array.isArray(value) ? Number(key) : key];
    out.push(path, ...paths((value as Record<string, unknown>)[key], path));
  }
  return out;
}

function withValue(record: unknown, path: Path, mutate: (parent: Record<string | number, unknown>, key: string | number) => void): Record<string, unknown> {
  const copy = structuredClone(record) as Record<string, unknown>;
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  mutate(parent, path.at(-1)!);
  return copy;
}

function* variants(record: Record<string, unknown>): Generator<Record<string, unknown>> {
  yield record;
  yield { ...record, extra: 1 };
  yield JSON.parse(JSON.stringify(record).replace('{', '{"__proto__":{"x":1},'));
  for (const path of paths(record)) {
    yield withValue(record, path, (parent, key) => delete parent[key]);
    for (const odd of ODD) yield withValue(record, path, (parent, key) => (parent[key] = odd));
    yield withValue(record, path, (parent, key) => {
      const value = parent[key];
      if (value && typeof value === 'object' && !Array.isArray(value)) (value as Record<string, unknown>).extraKey = 'x';
      else if (Array.isArray(value)) value.length += 1;
    });
  }
}

t.test('quick check - accepts only what zod accepts, and zod returns it unchanged', async (t) => {
  let accepted = 0;
  let tried = 0;
  for (const kind of KNOWN_KINDS) {
    const schema = recordSchemas[kind] as z.ZodType;
    for (const base of valid[kind]) {
      for (const candidate of variants(base)) {
        tried += 1;
        if (!quickCheckRecord(kind, candidate)) continue;
        accepted += 1;
        const parsed = schema.safeParse(candidate);
        if (!parsed.success) {
          t.fail(`${kind}: quick check accepted what zod rejects: ${parsed.error.issues[0]?.message} in ${JSON.stringify(candidate)}`);
          continue;
        }
        if (!t.strictSame(parsed.data, candidate, `${kind}: zod returns the record unchanged`, { diagnostic: false })) return;
      }
    }
  }
  t.ok(accepted > 100 && accepted < tried, `accepted ${accepted} of ${tried} candidates`);
});

t.test('quick check - the valid records pass it, so they never need zod', async (t) => {
  for (const kind of KNOWN_KINDS) for (const record of valid[kind]) t.ok(quickCheckRecord(kind, record), `${kind} ${JSON.stringify(record).slice(0, 60)}`);
});

t.test('quick check - what Ajv does not know fails generation, and the strict variant reads schemas as zod does', async (t) => {
  t.throws(() => compileStrict({ type: 'string', format: 'email' }), 'an unknown format');
  t.throws(() => compileStrict({ type: 'date' }), 'an unknown type');
  t.throws(() => compileStrict({ type: 'string', minLenght: 1 }), 'an unknown keyword');
  t.throws(() => validatorsModule({ x: { $id: 'https://forklift.dev/schema/x', const: { a: 1 } } }), /runtime helper/, 'code that needs an Ajv runtime helper');
  t.equal(
    compileStrict({ type: 'object', properties: { a: { type: 'number' } }, required: ['a'], additionalProperties: false })({ a: 1, b: 2 }),
    false,
    'an extra key zod would strip',
  );
  t.equal(
    compileStrict({ type: 'object', properties: { a: { type: 'number' } }, required: ['a'] })({ a: 1, b: 2 }),
    false,
    'an object that says nothing of other keys is closed, as zod strips them',
  );
  t.equal(
    compileStrict({ type: 'object', properties: { a: { type: 'number' } }, additionalProperties: {} })({ a: 1, b: 2 }),
    true,
    'a loose object keeps them',
  );
  t.equal(compileStrict({ type: 'number' })(NaN), false, 'NaN is not a number to zod');
  t.equal(compileStrict({ type: 'number' })(-Infinity), false, 'nor is -Infinity');
  t.equal(compileStrict({ type: 'integer' })(2 ** 53), false, 'integers are safe integers to zod');
  t.equal(compileStrict({ type: 'string', maxLength: 1 })('\u{1F600}'), false, 'zod counts UTF-16 units');
  t.equal(compileStrict({ type: 'string', minLength: 1 })('x'), true);
  t.equal(compileStrict({})(Symbol('anything')), true, '{} is z.unknown()');
});

t.test('quick check - values that are not plain data are left to zod', async (t) => {
  t.equal(isPlainData(JSON.parse('{"a":[1,{"b":null}],"c":"x"}')), true);
  t.equal(isPlainData(Object.assign(Object.create(null), { a: 1 })), true, 'an object without prototype');
  t.equal(isPlainData({ a: new Date(0) }), false, 'a class instance');
  t.equal(isPlainData({ a: [new Map()] }), false, 'one in an array');
  t.equal(isPlainData(JSON.parse('{"__proto__":{"x":1}}')), false, 'an own "__proto__" key');
  t.equal(isPlainData({ [Symbol('s')]: 1 }), false, 'a symbol key');
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  t.equal(isPlainData(cycle), false, 'a cycle');
  t.equal(
    quickCheckRecord('summary', { v: 1, kind: 'summary', tool: 't', ok: true, counts: new Date(0), durationMs: 0 }),
    false,
    'a Date is an object with no keys to Ajv, and not a record to zod',
  );
});

t.test('quick check - a record zod strips or rejects is decided by zod when reading', async (t) => {
  const phase = { v: 1, kind: 'phase', node: 'n', phase: 'p', status: 'ok', counts: { changed: 0, ok: 1, failed: 0, skipped: 0, extra: 5 }, durationMs: 1 };
  const [item] = await readAllRecords(Readable.from([JSON.stringify(phase) + '\n']));
  t.same(item!.record, { ...phase, counts: { changed: 0, ok: 1, failed: 0, skipped: 0 } }, 'zod stripped the extra count as before');
  await t.rejects(readAllRecords(Readable.from([JSON.stringify({ ...phase, durationMs: -1 }) + '\n'])), {
    message: 'stdin line 1: phase record field "durationMs": Too small: expected number to be >=0',
  });
});

// The zod constructs whose JSON Schema (as generated by z.toJSONSchema) states them exactly as zod
// checks them; a refinement, transform, default or string format would be lost or loosened there.
const EXACT_TYPES = new Set(['object', 'literal', 'string', 'number', 'boolean', 'optional', 'unknown', 'array', 'record', 'enum', 'union']);

interface Def {
  type: string;
  checks?: Array<{ _zod: { def: { check: string; format?: string; pattern?: RegExp } } }>;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  keyType?: z.ZodType;
  valueType?: z.ZodType;
}

function inexact(schema: z.ZodType, path: string): string[] {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  const out: string[] = [];
  if (!EXACT_TYPES.has(def.type)) out.push(`${path}: ${def.type}`);
  for (const check of def.checks ?? []) {
    const { check: name, format, pattern } = check._zod.def;
    const exact =
      name === 'min_length' ||
      name === 'max_length' ||
      name === 'greater_than' ||
      name === 'less_than' ||
      (name === 'number_format' && format === 'safeint') ||
      (name === 'string_format' && format === 'regex' && pattern?.flags === '');
    if (!exact) out.push(`${path}: check ${name}${format ? ` ${format}` : ''}`);
  }
  // z.looseObject (catchall unknown) and z.strictObject (catchall never: additionalProperties false) are exact
  const catchall = def.catchall && (def.catchall as unknown as { _zod: { def: Def } })._zod.def.type;
  if (def.type === 'object' && catchall && catchall !== 'unknown' && catchall !== 'never') out.push(`${path}: catchall`);
  if (def.type === 'record' && def.keyType) {
    const key = (def.keyType as unknown as { _zod: { def: Def } })._zod.def;
    if (key.type !== 'string' || key.checks?.length) out.push(`${path}: record keys other than any string`);
  }
  for (const [key, sub] of Object.entries(def.shape ?? {})) out.push(...inexact(sub, `${path}.${key}`));
  if (def.element) out.push(...inexact(def.element, `${path}[]`));
  if (def.innerType) out.push(...inexact(def.innerType, path));
  if (def.valueType) out.push(...inexact(def.valueType, `${path}.*`));
  for (const option of def.options ?? []) out.push(...inexact(option, `${path}|`));
  return out;
}

t.test(
  'quick check - the record schemas use only what their JSON Schemas state exactly (else make the strict variant in scripts/validators.mjs state it first)',
  async (t) => {
    // the summary's one refinement, the counts per tool, is stated by jsonSchemaFor as one if/then per tool
    const stated = new Set(['summary: check custom']);
    for (const kind of KNOWN_KINDS)
      t.same(
        inexact(recordSchemas[kind] as z.ZodType, kind).filter((problem) => !stated.has(problem)),
        [],
        kind,
      );
    for (const [tool, counts] of Object.entries(summaryCountsSchemas)) t.same(inexact(counts as z.ZodType, `${tool} counts`), [], `${tool} counts`);
  },
);

t.test('summary counts - the count names of each forklift tool are checked the same by zod and the quick check', async (t) => {
  const cases: Array<[string, Record<string, unknown>, boolean]> = [
    ['run-actions', { nodes: 1, ok: 2 }, true],
    ['run-actions', { nodes: 1, tests: 2 }, false],
    ['run-actions', { nodes: 1.5 }, false],
    ['expect-run', { tests: 2, errors: 0, runs: 1 }, true],
    ['expect-run', { nodes: 2 }, false],
    ['browser-drive', { passed: 1, failed: 0, skipped: 2 }, true],
    ['browser-drive', { steps: 3 }, false],
    ['provision-node', { nodes: 2, created: 2, destroyed: 0 }, true],
    ['render-crate', { nodes: 1, plans: 2, actions: 9, skipped: 0 }, true],
    ['forklift-cat', { nodes: 1, records: 2 }, false],
    ['promote-color', { lbs: 2, stages: 3, rolledBack: 0 }, true],
    ['promote-color', { lbs: 2, shifted: 3 }, false],
    ['my-tool', { anything: 1 }, true],
    ['my-tool', { anything: -1 }, false],
  ];
  for (const [tool, counts, ok] of cases) {
    const record = { v: 1, kind: 'summary', tool, ok: true, counts, durationMs: 1 };
    t.equal(recordSchemas.summary.safeParse(record).success, ok, `zod: ${tool} ${JSON.stringify(counts)}`);
    t.equal(quickCheckRecord('summary', record), ok, `quick check: ${tool} ${JSON.stringify(counts)}`);
  }
});
