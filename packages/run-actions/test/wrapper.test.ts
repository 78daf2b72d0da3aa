// The remote wrapper and the facts script, run for real under this machine's sh (dash on Debian): facts first
// when asked, then the header, the script and its private directory; bad headers refused before anything runs.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FACTS_END, PREFLIGHT_SCRIPT, WRAPPER, wrapperInput, NOTHING_TO_RUN } from '../src/index.js';
import { parsePreflight } from '../src/facts.js';

function shellcheckAvailable(): void {
  if (spawnSync('shellcheck', ['--version']).status !== 0)
    throw new Error('shellcheck is not installed: apt-get install shellcheck (required by the wrapper test)');
}

/** Run the wrapper with its stdin held open (as run-actions does: EOF means "stop"), until it exits. */
function runHeld(args: string[], input: Buffer, tmp: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', WRAPPER, 'forklift-run', ...args], { env: { ...process.env, TMPDIR: tmp }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (status) => {
      child.stdin.end();
      resolve({ status, stdout, stderr });
    });
    child.stdin.write(input);
  });
}

/** Run the wrapper with `sh -c WRAPPER forklift-run [facts]` and stdin (closed after it); TMPDIR points into a scratch dir. */
function runWrapper(args: string[], input: Buffer, tmp: string) {
  return spawnSync('sh', ['-c', WRAPPER, 'forklift-run', ...args], { input, encoding: 'utf8', env: { ...process.env, TMPDIR: tmp }, timeout: 30_000 });
}

t.test('wrapper - shellcheck accepts the wrapper and the preflight (warnings and errors)', async (t) => {
  shellcheckAvailable();
  const dir = mkdtempSync(join(tmpdir(), 'forklift-wrapper-sc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of [
    ['wrapper.sh', WRAPPER],
    ['preflight.sh', PREFLIGHT_SCRIPT],
  ] as const) {
    writeFileSync(join(dir, name), text);
    const result = spawnSync('shellcheck', ['-s', 'sh', '-S', 'warning', join(dir, name)], { encoding: 'utf8' });
    t.equal(result.status, 0, `${name}: ${result.stdout}`);
  }
});

t.test('wrapper - with facts, the OS facts and the end line come first, then the script runs with its nonce', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'forklift-wrapper-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const script = 'printf "nonce=%s tmp=%s\\n" "$fl_nonce" "${fl_tmp##*/}"; [ -d "$fl_tmp" ]; printf "%s\\n" "$(ls -ld "$fl_tmp" | cut -c1-10)"\n';
  const result = await runHeld(['facts'], wrapperInput('n0nce_1', Buffer.from(script)), tmp);
  t.equal(result.status, 0, result.stderr);
  const [facts, rest] = result.stdout.split(`${FACTS_END}\n`);
  const values = parsePreflight(facts!);
  t.match(values, { id: /\S/, arch: /\S/, init: /^(systemd|openrc|sysvinit)$/, nfs: /^(kernel|none)$/ }, 'facts from this machine');
  t.match(rest, /^nonce=n0nce_1 tmp=forklift-run\.\S+\ndrwx------\n$/, 'the script ran after the facts, in its private directory');
  const name = /tmp=(\S+)/.exec(rest ?? '')?.[1] ?? 'missing';
  t.notOk(existsSync(join('/run', name)) || existsSync(join(tmp, name)), 'the private directory is gone');
});

t.test('wrapper - nothing to run: exit 0 before making a private directory', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'forklift-wrapper-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const result = runWrapper([], NOTHING_TO_RUN, tmp);
  t.equal(result.status, 0);
  t.equal(result.stdout, '');
});

t.test('wrapper - a bad header is refused with exit 125 and runs nothing', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'forklift-wrapper-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const script = `touch ${tmp}/ran\n`;
  for (const [header, why] of [
    ['', 'no header at all'],
    [`bad$nonce ${script.length} -`, 'a nonce with a shell character'],
    [`n0nce 12x -`, 'a length that is not a number'],
    [`n0nce ${script.length} relative/dir`, 'a relative blob directory'],
    [`n0nce ${script.length} /var/lib/it's`, 'a blob directory with a quote'],
    [`n0nce ${script.length} - ../up:3`, 'an upload name with a slash'],
    [`n0nce ${script.length} - up:x`, 'an upload size that is not a number'],
  ]) {
    const result = runWrapper([], Buffer.from(header ? `${header}\n${script}` : ''), tmp);
    t.equal(result.status, 125, `${why}: exit 125`);
  }
  t.same(readdirSync(tmp), [], 'nothing ran and no directory was left');
});
