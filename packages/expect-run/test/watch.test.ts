// --watch for real: spawn expect-run --watch on a temp project, change files on disk, read the
// records of the following runs, then end it with SIGINT.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { binPath, REPO_ROOT } from '@forklift/testkit';
import { watchTests } from '../src/watch.js';

type Rec = Record<string, unknown>;

async function project(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'expect-run-watch-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
  // the test files import @forklift/expect-run: resolve it from the workspace
  await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  await writeFile(join(dir, 'ports.ts'), 'export const webPort: number = 80;\n');
  await writeFile(
    join(dir, 'web.expect.ts'),
    "import { expect } from '@forklift/expect-run';\nimport { webPort } from './ports.js';\n\nexpect(80, webPort);\n",
  );
  await writeFile(join(dir, 'other.expect.ts'), "import { expect } from '@forklift/expect-run';\n\nexpect('other', 'other');\n");
  return dir;
}

function startWatch(t: Test, dir: string) {
  const child = spawn(process.execPath, [binPath('expect-run'), '--watch'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const records: Rec[] = [];
  let stderr = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.trim()) records.push(JSON.parse(line) as Rec);
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const waitFor = async (what: string, predicate: () => boolean, timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; stderr:\n${stderr}\nrecords:\n${records.map((r) => JSON.stringify(r)).join('\n')}`);
      if (child.exitCode !== null) throw new Error(`expect-run --watch exited (${child.exitCode}) while waiting for ${what}; stderr:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const ofRun = (run: number) => records.filter((record) => record.run === run);
  return { child, records, stderr: () => stderr, exited, waitFor, ofRun };
}

t.test('watch - a change to an imported module re-runs only the affected test file; Ctrl-C ends with 130 and a summary', async (t) => {
  const dir = await project(t);
  const watch = startWatch(t, dir);
  await watch.waitFor('the first run', () => /watching 2 test files/.test(watch.stderr()));
  t.same(
    watch.ofRun(1).map((record) => [record.kind, record.file, record.status]),
    [
      ['test', 'other.expect.ts', 'passed'],
      ['test', 'web.expect.ts', 'passed'],
    ],
  );

  // change the module web.expect.ts imports: only web.expect.ts runs again, with the new value
  await writeFile(join(dir, 'ports.ts'), 'export const webPort: number = 8080;\n');
  await watch.waitFor('run 2', () => watch.ofRun(2).length === 1 && /Ran 1 test containing 1 assertion in \d+ ms: 1 failure, 0 errors/.test(watch.stderr()));
  t.match(watch.ofRun(2)[0], {
    kind: 'test',
    file: 'web.expect.ts',
    status: 'failed',
    failure: { message: 'expected: 80 was: 8080', location: 'web.expect.ts:4:1' },
  });

  // a burst of saves of the test file is one run
  // (written synchronously, 5 ms apart, so a slow test process cannot stretch the burst)
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let save = 1; save <= 5; save++) {
    writeFileSync(
      join(dir, 'web.expect.ts'),
      `import { expect } from '@forklift/expect-run';\nimport { webPort } from './ports.js';\n\nexpect(${8075 + save}, webPort);\n`,
    );
    Atomics.wait(pause, 0, 0, 5);
  }
  await watch.waitFor('run 3', () => watch.ofRun(3).length === 1);
  t.match(watch.ofRun(3)[0], { file: 'web.expect.ts', status: 'passed', name: 'line 4: expect(8080, webPort)' });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.same(watch.ofRun(4), [], 'no second run for the same burst');

  // a file that breaks while loading is reported and watching goes on; a new test file runs alone
  await writeFile(join(dir, 'other.expect.ts'), "import { expect } from '@forklift/expect-run';\n\nthrow new Error('half-written');\n");
  await watch.waitFor('run 4', () => watch.ofRun(4).length === 1);
  t.match(watch.ofRun(4)[0], {
    kind: 'error',
    code: 'load-failed',
    file: 'other.expect.ts',
    message: 'other.expect.ts: threw while loading: Error: half-written',
  });
  await writeFile(join(dir, 'new.expect.ts'), "import { expect, nodes } from '@forklift/expect-run';\n\nexpect([], nodes());\n");
  await watch.waitFor('run 5', () => watch.ofRun(5).length === 1);
  t.match(watch.ofRun(5)[0], { kind: 'test', file: 'new.expect.ts', status: 'passed' });

  watch.child.kill('SIGINT');
  t.equal(await watch.exited, 130);
  const summary = watch.records.at(-1)!;
  t.match(summary, { kind: 'summary', tool: 'expect-run', ok: true, counts: { runs: 5, tests: 1, passed: 1 } });
  t.equal(watch.records.filter((record) => record.kind === 'summary').length, 1, 'one summary, at the end');
});

t.test('watch - a burst read late is still one run: saves that arrived while the process was not running count before the quiet time ends', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'expect-run-burst-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'a.expect.ts');
  writeFileSync(file, 'save 0\n');
  const runs: number[] = [];
  const controller = new AbortController();
  const busy = (ms: number): void => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };
  const watching = watchTests({ files: [file], dirs: [dir] }, 1, {
    discover: () => ({ files: [file], dirs: [dir] }),
    dependencies: () => new Set([file]),
    runFiles: async (_files, run) => {
      runs.push(run);
    },
    log: () => undefined,
    signal: controller.signal,
    debounceMs: 50,
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  // the first save is read (its quiet time starts); then this process holds the loop for longer than the quiet
  // time while the burst goes on, as a loaded machine does: its timer is due before the rest of the burst is read
  writeFileSync(file, 'save 1\n');
  await new Promise((resolve) => setTimeout(resolve, 20));
  busy(10);
  writeFileSync(file, 'save 2\n');
  busy(150);
  await new Promise((resolve) => setTimeout(resolve, 500));
  controller.abort();
  t.equal(await watching, 2, 'the last run is number 2');
  t.same(runs, [2], 'one run for the burst');
});
