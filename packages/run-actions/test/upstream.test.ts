// An upstream failure is never masked (issue 12 item 7): `render-crate bad.json5 | run-actions` wrote the upstream
// ok:false summary and then its own ok:true, exit 0. Every tool reading a failed summary or an error record ends
// ok:false with exit 1.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderCrateBin, runActionsBin } from './nodes-lib.js';

function pipeline(command: string, cwd: string): Promise<{ codes: string; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `${command}; echo "codes=\${PIPESTATUS[*]}" >&2`], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', () => resolve({ codes: /codes=([\d ]+)/.exec(stderr)?.[1] ?? '', stdout, stderr }));
  });
}

t.test('render-crate bad.json5 | run-actions | forklift-cat: every tool after the failure ends ok:false, exit 1', async (t) => {
  const project = mkdtempSync(join(tmpdir(), 'fl-upstream-'));
  t.teardown(() => rmSync(project, { recursive: true, force: true }));
  mkdirSync(join(project, 'groups'));
  writeFileSync(join(project, 'groups', 'bad.json5'), "{ group: 'g', phases: { configure: [{ action: 'file', path: '/etc/x', contnet: 'typo' }] } }");
  const cat = join(import.meta.dirname, '..', '..', 'contract', 'bin', 'forklift-cat.js');
  const run = await pipeline(`node ${renderCrateBin} groups/bad </dev/null | node ${runActionsBin} | node ${cat}`, project);
  t.equal(run.codes, '65 1 1', 'render-crate 65 (bad input), then run-actions and forklift-cat exit 1');
  const summaries = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((r) => r.kind === 'summary');
  t.same(
    summaries.map((s) => [s.tool, s.ok]),
    [
      ['render-crate', false],
      ['run-actions', false],
      ['forklift-cat', false],
    ],
  );
  t.match(run.stderr, /run-actions: upstream render-crate failed \(its summary says ok:false\); 1 error record upstream: this run ends ok:false/);
});
