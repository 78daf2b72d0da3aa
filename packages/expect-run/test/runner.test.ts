// expect-run as a binary on committed fixture test files: records, the closing stderr line, exit
// codes, load errors, stack locations, --grep, --tap, --timeout, node records from stdin.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Parser } from 'tap-parser';
import { binPath, REPO_ROOT, runBinary, spawnBinary, toNdjson } from '@forklift/testkit';

const FIXTURES = 'packages/expect-run/test/fixtures';
// NODE_OPTIONS cleared: tap's process-tracking import in every child only slows these runs down
const run = (args: string[], stdin = '') => runBinary('expect-run', args, { cwd: REPO_ROOT, stdin, timeoutMs: 60_000, env: { NODE_OPTIONS: '' } });
const tests = (records: Array<Record<string, unknown>>) => records.filter((record) => record.kind === 'test');

t.test('runner - passing files give one passed record per expectation or test, a summary and exit 0', async (t) => {
  const result = await run([`${FIXTURES}/pass`]);
  t.equal(result.exitCode, 0, result.stderr);
  const records = tests(result.records);
  t.equal(records.length, 8);
  t.same(new Set(records.map((record) => record.status)), new Set(['passed']));
  t.same(
    records.map((record) => record.file),
    [`${FIXTURES}/pass/plain.expect.js`, ...Array(7).fill(`${FIXTURES}/pass/values.expect.ts`)],
  );
  t.equal(records[1]!.name, 'line 4: expect(3306, config.db.port)');
  t.equal(records[7]!.name, 'async actual values are awaited');
  t.equal(records[7]!.assertions, 2);
  const summary = result.records.at(-1)!;
  t.match(summary, { kind: 'summary', tool: 'expect-run', ok: true, counts: { tests: 8, assertions: 9, passed: 8, failed: 0, errors: 0, files: 2 } });
  t.match(result.stderr, /^Ran 8 tests containing 9 assertions in \d+ ms: 0 failures, 0 errors$/m);
  t.match(result.stderr, /^debug output of a test goes to stderr, not among the records$/m, 'console.log of a test went to stderr');
});

t.test('runner - failures are focused one-liners on stderr with the test file line first', async (t) => {
  const result = await run([`${FIXTURES}/stack/deep.expect.ts`]);
  t.equal(result.exitCode, 1);
  const records = tests(result.records);
  t.same(
    records.map((record) => [record.status, (record.failure as { message: string }).message, (record.failure as { location: string }).location]),
    [
      ['failed', '.port expected: 80 was: 81', `${FIXTURES}/stack/deep.expect.ts:4:1`],
      ['failed', 'expected: 3306 was: 3307', `${FIXTURES}/stack/deep.expect.ts:5:1`],
      ['failed', 'strings differ after "web-": expected "1" was "2"', `${FIXTURES}/stack/deep.expect.ts:9:3`],
      ['errored', 'Error: exploded in a helper', `${FIXTURES}/stack/deep.expect.ts:13:3`],
    ],
  );
  t.match(records[0], { failure: { expected: { port: 80 }, actual: { port: 81 }, diff: '.port expected: 80 was: 81' } });
  // stderr: the first frame after the message is the test file's line, no node internals or forklift frames
  const block = result.stderr.split('\n');
  const first = block.indexOf(`FAIL ${FIXTURES}/stack/deep.expect.ts > line 4: expect({ port: 80 }, { port: 81 })`);
  t.not(first, -1, result.stderr);
  t.equal(block[first + 1], '  .port expected: 80 was: 81');
  t.equal(block[first + 2], `      at ${FIXTURES}/stack/deep.expect.ts:4:1`);
  t.equal(block[first + 3]?.startsWith('FAIL') || block[first + 3]?.startsWith('ERROR'), true, 'only the test file frame is shown');
  // an error thrown in a helper module: the helper's frame, then the test line
  const helper = block.indexOf(`ERROR ${FIXTURES}/stack/deep.expect.ts > an error thrown in a helper`);
  t.same(block.slice(helper + 1, helper + 4), [
    '  Error: exploded in a helper',
    `      at ${FIXTURES}/stack/helper.ts:8:9`,
    `      at ${FIXTURES}/stack/deep.expect.ts:13:3`,
  ]);
  t.notMatch(result.stderr, /node:internal|node_modules|expect-run\/dist|contract\/dist/);
  t.match(result.stderr, /^Ran 4 tests containing 3 assertions in \d+ ms: 3 failures, 1 error$/m);
});

t.test('runner - a test file that throws while loading is an error record naming it; other files still run', async (t) => {
  const result = await run([`${FIXTURES}/broken`]);
  t.equal(result.exitCode, 1);
  const kinds = result.records.map((record) => `${record.kind}:${String(record.file ?? '')}`);
  t.same(kinds, [
    `test:${FIXTURES}/broken/a-loads.expect.ts`,
    `test:${FIXTURES}/broken/b-throws.expect.ts`,
    `error:${FIXTURES}/broken/b-throws.expect.ts`,
    `test:${FIXTURES}/broken/c-after.expect.ts`,
    'summary:',
  ]);
  t.match(result.records[2], {
    code: 'load-failed',
    message: `${FIXTURES}/broken/b-throws.expect.ts: threw while loading: TypeError: Cannot read properties of undefined (reading 'port')`,
    location: `${FIXTURES}/broken/b-throws.expect.ts:5:34`,
  });
  t.match(result.stderr, /^Ran 3 tests containing 3 assertions in \d+ ms: 0 failures, 1 error$/m);
});

t.test('runner - --timeout ends a hanging test; an un-awaited failing expectation still fails its test', async (t) => {
  const started = Date.now();
  const result = await run([`${FIXTURES}/slow`, '--timeout', '0.5']);
  t.ok(Date.now() - started < 15_000, 'did not wait for the 20 s sleep');
  t.equal(result.exitCode, 1);
  t.same(
    tests(result.records).map((record) => [record.name, record.status, (record.failure as { message?: string } | undefined)?.message]),
    [
      ['hangs past the timeout', 'errored', 'timed out after 500 ms'],
      ['forgets to await a failing async expectation', 'failed', 'strings differ from the start: expected "up" was "down"'],
      ['passes', 'passed', undefined],
    ],
  );
});

t.test('runner - --grep runs only the tests whose name matches', async (t) => {
  const result = await run([`${FIXTURES}/pass`, '--grep', 'async|concat']);
  t.equal(result.exitCode, 0);
  t.same(
    tests(result.records).map((record) => record.name),
    ['line 3: expect([1, 2, 3], [1, 2].concat(3))', 'async actual values are awaited'],
  );
});

t.test('runner - node records on stdin reach nodes(group) and pass through first', async (t) => {
  const node = (id: string, group: string) => ({
    v: 1,
    kind: 'node',
    id,
    group,
    service: 'local',
    provider: 'nspawn',
    address: '10.0.0.2',
    port: 22,
    user: 'root',
    state: 'running',
    os: { family: 'debian', release: '12' },
  });
  const stdin = toNdjson([node('web-1', 'web'), { v: 1, kind: 'custom', note: 'kept' }, node('db-1', 'db')]);
  const result = await run([`${FIXTURES}/system/nodes.expect.ts`], stdin);
  t.equal(result.exitCode, 0, result.stderr);
  t.same(
    result.records.slice(0, 3).map((record) => record.id ?? record.kind),
    ['web-1', 'custom', 'db-1'],
  );
  t.equal(tests(result.records).length, 4);
});

t.test('runner - --tap writes TAP 14 and no records', async (t) => {
  const child = spawn(process.execPath, [binPath('expect-run'), `${FIXTURES}/stack/deep.expect.ts`, '--tap'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(exitCode, 1);
  t.match(stdout, /^TAP version 14\n/);
  t.notMatch(stdout, /"kind":/);
  const parser = new Parser();
  const results: Array<{ ok: boolean; name: string }> = [];
  parser.on('assert', (result: { ok: boolean; name: string }) => results.push(result));
  const complete = new Promise<{ ok: boolean; count: number; fail: number; plan: { end: number } }>((resolve) => parser.on('complete', resolve));
  parser.end(stdout);
  const final = await complete;
  t.equal(final.count, 4);
  t.equal(final.fail, 4);
  t.equal(final.plan.end, 4);
  t.equal(results[0]!.name, `${FIXTURES}/stack/deep.expect.ts > line 4: expect({ port: 80 }, { port: 81 })`);
  t.match(stdout, /message: "\.port expected: 80 was: 81"\n\s+status: "failed"\n\s+at: "packages\/expect-run\/test\/fixtures\/stack\/deep\.expect\.ts:4:1"/);
});

t.test('runner - usage errors exit 64 with one stderr line', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--frobnicate'], /^expect-run: unknown option --frobnicate/],
    [[`${FIXTURES}/missing-dir`], /^expect-run: packages\/expect-run\/test\/fixtures\/missing-dir: no such file or directory \(see expect-run --help\)$/],
    [[`${FIXTURES}/pass`, '--timeout', 'soon'], /^expect-run: --timeout must be a number of seconds, got "soon" \(see expect-run --help\)$/],
    [[`${FIXTURES}/pass`, '--grep', '('], /^expect-run: --grep: not a regular expression.* \(see expect-run --help\)$/],
    [[`${FIXTURES}/pass`, '--timeout', '-1'], /^expect-run: --timeout must be positive \(seconds\), got "-1" \(see expect-run --help\)$/],
    [[`${FIXTURES}/pass`, '--tap', '--watch'], /^expect-run: --tap cannot be used with --watch/],
    [['packages/expect-run/src'], /^expect-run: no test files \(\*\.expect\.ts, \*\.expect\.js\) in packages\/expect-run\/src \(see expect-run --help\)$/],
  ];
  for (const [args, pattern] of cases) {
    const result = await run(args);
    t.equal(result.exitCode, 64, args.join(' '));
    t.match(result.stderr.trim(), pattern);
    t.equal(result.stderr.trim().split('\n').length, 1, 'one line');
    t.same(tests(result.records), [], 'nothing ran');
    t.equal(result.stdout, '', 'a usage error writes no records');
  }
});

t.test('runner - bad stdin exits 65 naming the line, before any test runs', async (t) => {
  const result = await run([`${FIXTURES}/pass`], '{"v":1,"kind":"node","id":"web-1"}\n');
  t.equal(result.exitCode, 65);
  t.match(result.stderr.trim(), /^expect-run: stdin line 1: node record field "group": missing$/);
  t.same(result.records, []);
});

t.test('runner - a glob selects test files', async (t) => {
  const result = await run([`${FIXTURES}/pass/*.expect.js`]);
  t.equal(result.exitCode, 0);
  t.same(
    tests(result.records).map((record) => record.file),
    [`${FIXTURES}/pass/plain.expect.js`],
  );
});

t.test('runner - JavaScript test files run without tsx; one that imports TypeScript is loaded again with it', async (t) => {
  const result = await run([`${FIXTURES}/js-only`]);
  t.equal(result.exitCode, 1, result.stderr);
  t.same(
    tests(result.records).map((record) => [record.file, record.name, record.status]),
    [
      [`${FIXTURES}/js-only/a-plain.expect.js`, "line 3: expect(/web/, 'web-1')", 'passed'],
      [`${FIXTURES}/js-only/b-imports-ts.expect.js`, 'line 4: expect(80, webPort)', 'passed'],
      [`${FIXTURES}/js-only/b-imports-ts.expect.js`, 'line 5: expect(443, webPort)', 'failed'],
      [`${FIXTURES}/js-only/c-after.expect.js`, "line 3: expect('after', 'after')", 'passed'],
    ],
  );
  t.match(tests(result.records)[2], { failure: { message: 'expected: 443 was: 80', location: `${FIXTURES}/js-only/b-imports-ts.expect.js:5:1` } });
  t.match(result.stderr, /^Ran 4 tests containing 4 assertions in \d+ ms: 1 failure, 0 errors$/m);
});

t.test('runner - Ctrl-C during a test ends the run with 130 and still writes the summary', async (t) => {
  const running = spawnBinary('expect-run', [`${FIXTURES}/slow`], { cwd: REPO_ROOT, env: { NODE_OPTIONS: '' } });
  t.teardown(() => {
    if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
  });
  const deadline = Date.now() + 30_000;
  while (!running.output().stderr.includes('slow fixture: hanging')) {
    if (Date.now() > deadline) throw new Error(`the slow test never started: ${running.output().stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  running.child.kill('SIGINT');
  const result = await running.result;
  t.equal(result.exitCode, 130);
  t.same(
    result.records.map((record) => [record.kind, record.status ?? record.ok]),
    [
      ['test', 'errored'],
      ['summary', false],
    ],
  );
  t.match(result.records[0], { name: 'hangs past the timeout', failure: { message: 'interrupted by SIGINT' } });
});

t.test('runner - a file whose top-level await never settles is a load error after --timeout', async (t) => {
  const result = await run([`${FIXTURES}/hang`, '--timeout', '1']);
  t.equal(result.exitCode, 1);
  t.same(
    result.records.map((record) => record.kind),
    ['test', 'error', 'summary'],
  );
  t.match(result.records[1], { code: 'load-failed', message: `${FIXTURES}/hang/hang.expect.ts: did not finish loading: timed out after 1000 ms` });
});

t.test('runner - a multi-line string mismatch shows a line diff of every differing hunk', async (t) => {
  const result = await runBinary('expect-run', [`${FIXTURES}/multiline`], { cwd: REPO_ROOT, timeoutMs: 60_000, env: { NODE_OPTIONS: '', FORCE_COLOR: '0' } });
  t.equal(result.exitCode, 1);
  const [failed] = tests(result.records);
  const hunks = [
    '--- expected',
    '+++ actual',
    '@@ -1,4 +1,4 @@',
    ' server {',
    '-  listen 80;',
    '+  listen 8080;',
    '   root /srv/www;',
    '   gzip on;',
    '@@ -6,4 +6,4 @@',
    '   access_log off;',
    '   error_log stderr;',
    '-  index index.html;',
    '+  index main.html;',
    ' }',
  ].join('\n');
  const message = 'strings differ at line 2 (2 hunks): expected "  listen 80;" was "  listen 8080;"';
  t.match(failed, { status: 'failed', failure: { message, diff: `${message}\n${hunks}` } }, 'the record holds both hunks, not only the first difference');
  t.match(
    result.stderr,
    hunks
      .split('\n')
      .map((line) => `    ${line}`)
      .join('\n'),
    'stderr shows the whole line diff',
  );
  t.notMatch(result.stderr, '\u001b[', 'no colours off a terminal');
  const colored = await runBinary('expect-run', [`${FIXTURES}/multiline`], { cwd: REPO_ROOT, timeoutMs: 60_000, env: { NODE_OPTIONS: '', FORCE_COLOR: '1' } });
  t.match(colored.stderr, '\u001b[32m+  index main.html;\u001b[39m', 'FORCE_COLOR: added lines in green');
});

t.test('runner - a test file that cannot import @forklift/expect-run says how to install it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'expect-run-outside-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a.expect.ts'), "import { expect } from '@forklift/expect-run';\nexpect(1, 1);\n");
  writeFileSync(join(dir, 'b.expect.js'), "import { expect } from '@forklift/expect-run';\nexpect(1, 1);\n");
  const result = await runBinary('expect-run', [dir], { cwd: dir, timeoutMs: 60_000, env: { NODE_OPTIONS: '' } });
  t.equal(result.exitCode, 1);
  const hint = `cannot import @forklift/expect-run from ${dir}: install it in the project of the tests (npm install --save-dev @forklift/expect-run) and run that project's runner (npx expect-run)`;
  t.match(
    result.records.filter((record) => record.kind === 'error'),
    [
      { code: 'load-failed', message: `a.expect.ts: ${hint}` },
      { code: 'load-failed', message: `b.expect.js: ${hint}` },
    ],
  );
  t.match(result.stderr, `ERROR a.expect.ts (loading)\n  ${hint}`);
});

t.test('runner - -v names every passing test on stderr, -q leaves only failures and the closing line', async (t) => {
  const verbose = await run([`${FIXTURES}/pass`, '-v']);
  t.equal(verbose.exitCode, 0);
  t.match(verbose.stderr, new RegExp(`^PASS ${FIXTURES}/pass/values\\.expect\\.ts > async actual values are awaited \\(\\d+ ms\\)$`, 'm'));
  const quiet = await run([`${FIXTURES}/multiline`, '-q']);
  t.equal(quiet.exitCode, 1);
  t.match(
    quiet.stderr,
    /^FAIL packages\/expect-run\/test\/fixtures\/multiline\/config\.expect\.ts > nginx config differs in two places$/m,
    'failures are kept with -q',
  );
  t.notMatch(quiet.stderr, /^Ran /m, 'the closing line is not');
});
