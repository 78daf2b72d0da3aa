// The Makefile and zx examples run as their READMEs say (on netns nodes: SSH-only, fast), each with a
// forklift home of its own and the shared image cache; their nodes are removed even when a step fails.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../src/index.js';

const execFileAsync = promisify(execFile);
const provisionBin = join(REPO_ROOT, 'packages', 'provision-node', 'bin', 'provision-node.js');

function environment(name: string): Record<string, string | undefined> {
  const home = mkdtempSync(join(tmpdir(), `fl-example-${name}-`));
  return {
    ...process.env,
    FORKLIFT_HOME: home,
    FORKLIFT_IMAGE_CACHE: process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images',
    NODE_OPTIONS: '',
    FORCE_COLOR: '0',
  };
}

function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const records = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

t.setTimeout(30 * 60 * 1000); // a fresh CI machine builds the rootfs first

t.test('examples/makefile - make converges and tests; again does nothing; check finds nothing to change; down cleans up', async (t) => {
  const dir = join(REPO_ROOT, 'examples', 'makefile');
  const env = environment('make');
  t.teardown(async () => {
    await execFileAsync(process.execPath, [provisionBin, 'netns', '0', '--group', 'motd-make'], { env, cwd: dir }).catch(() => undefined);
    rmSync(join(dir, 'build'), { recursive: true, force: true });
    rmSync(env.FORKLIFT_HOME!, { recursive: true, force: true });
  });
  rmSync(join(dir, 'build'), { recursive: true, force: true });

  const first = await run('make', [], dir, env);
  t.equal(first.code, 0, first.stderr.slice(-3000));
  t.match(first.stdout, /^run-actions: ok=true .*"changed":6/m, 'the converge changed the 3 actions on 2 nodes');
  t.match(first.stdout, /^expect-run: ok=true .*"passed":3/m, 'and the tests passed');
  const tests = records(join(dir, 'build', 'test.ndjson')).filter((record) => record.kind === 'test');
  t.same(
    tests.map((record) => record.status),
    ['passed', 'passed', 'passed'],
  );

  const again = await run('make', [], dir, env);
  t.equal(again.code, 0, again.stderr);
  t.notMatch(again.stdout, /provision-node|render-crate|run-actions <|expect-run test/, 'nothing is run again when nothing changed');

  const check = await run('make', ['check'], dir, env);
  t.equal(check.code, 0, check.stderr);
  t.match(check.stderr, /\n0 to change, 6 unchanged on 2 nodes\n$/, "the plan summary on make's stderr");

  const down = await run('make', ['down'], dir, env);
  t.equal(down.code, 0, down.stderr);
  t.notOk(existsSync(join(dir, 'build')), 'build/ is gone');
  const listed = await execFileAsync(process.execPath, [provisionBin, 'netns', '--list', '--group', 'motd-make'], { env, cwd: dir });
  t.notMatch(listed.stdout, /"kind":"node"/, 'no node left');
});

t.test('examples/zx - the script provisions, checks, converges twice, tests and tears down', async (t) => {
  const env = environment('zx');
  t.teardown(async () => {
    await execFileAsync(process.execPath, [provisionBin, 'netns', '0', '--group', 'motd-zx'], { env, cwd: REPO_ROOT }).catch(() => undefined);
    rmSync(env.FORKLIFT_HOME!, { recursive: true, force: true });
  });
  const result = await run(process.execPath, ['examples/zx/converge.mjs'], REPO_ROOT, env);
  t.equal(result.code, 0, result.stderr.slice(-3000));
  t.match(result.stdout, /^nodes: motd-zx-1 \(.+\), motd-zx-2 \(.+\)$/m);
  t.match(result.stdout, /^check: 6 actions would change$/m);
  t.match(result.stdout, /^converge: changed=6 ok=0 failed=0$/m);
  t.match(result.stdout, /^again: exit 0, changed=0$/m);
  t.match(result.stdout, /^tests: 3 passed, 0 failed, 0 errors$/m);
  const listed = await execFileAsync(process.execPath, [provisionBin, 'netns', '--list', '--group', 'motd-zx'], { env, cwd: REPO_ROOT });
  t.notMatch(listed.stdout, /"kind":"node"/, 'the script tore its nodes down');
});
