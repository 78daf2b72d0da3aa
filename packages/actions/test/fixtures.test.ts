// The generic fixture runner: every test/fixtures/<action>/<case>.json renders to its snapshot (or its error),
// and every rendered script passes shellcheck. Only `npm run test:update-fixtures` (FORKLIFT_UPDATE_FIXTURES=1)
// writes snapshots; a normal run that finds one missing fails and writes nothing.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { blocksOf, loadCases, renderCase, requireShellcheck, shellcheckFiles, snapshotText } from './fixture-lib.js';
import { listActions } from '../src/index.js';

const update = process.env.FORKLIFT_UPDATE_FIXTURES === '1';
const cases = loadCases();
const scratch = mkdtempSync(join(tmpdir(), 'forklift-fixtures-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

const rendered: Array<{ title: string; path: string }> = [];

for (const item of cases) {
  const f = item.fixture;
  const title = `${item.action} action - ${f.title ?? item.name}`;
  t.test(title, async (t) => {
    if ((f.expected === undefined) === (f.error === undefined)) throw new Error(`${item.file}: give exactly one of expected, error`);
    if (f.error !== undefined) {
      t.throws(() => renderCase(item), { name: 'InputError' }, 'rendering fails with InputError');
      try {
        renderCase(item);
      } catch (error) {
        t.match((error as Error).message, f.error, 'error message');
        t.notMatch((error as Error).message, /\n/, 'one line');
      }
      return;
    }
    const plan = renderCase(item);
    const path = join(dirname(item.file), f.expected!);
    const snapshot = snapshotText(path, blocksOf(plan.script), update);
    if (snapshot === undefined) return void t.fail(`snapshot ${path} missing: write it with \`npm run test:update-fixtures\` and review it`);
    t.equal(blocksOf(plan.script), snapshot, 'rendered blocks match the snapshot');
    t.match(plan.script, /^set -eu\n/, 'script starts with set -eu');
    t.equal(plan.actions.length, 1, 'one action in the plan');
    const scriptPath = join(scratch, `${item.action}-${item.name}.sh`);
    writeFileSync(scriptPath, plan.script);
    rendered.push({ title, path: scriptPath });
  });
}

t.test('fixture table - at least five cases per registered action, including an error case', async (t) => {
  for (const action of listActions()) {
    const own = cases.filter((item) => item.action === action.name);
    t.ok(own.length >= 5, `${action.name}: ${own.length} cases (need 5)`);
    t.ok(
      own.some((item) => item.fixture.error !== undefined),
      `${action.name}: has an error case`,
    );
  }
});

t.test('shellcheck - every rendered fixture script is clean', async (t) => {
  requireShellcheck();
  t.ok(rendered.length > 0, 'some scripts were rendered');
  const findings = shellcheckFiles(rendered.map((item) => item.path));
  for (const item of rendered) t.equal(findings.get(item.path), '', `${item.title}: shellcheck clean`);
});
