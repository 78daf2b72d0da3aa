// End to end without a network: a spec rendered by renderPlans runs under dash in a scratch directory,
// converges (changed, then ok), bootstrap runs once, and a plan afterwards reports zero changes.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMarkers } from '@forklift/run-actions';
import { groupSpec, renderPlans, serverSpec } from '../src/index.js';
import { nodeLine } from './helpers.js';

/** id:status of every action that ran, read with run-actions' own marker parser. */
function statuses(stdout: string, stderr = ''): string[] {
  return decodeMarkers('n0nce', stdout, stderr)
    .filter((outcome) => outcome.status !== 'skipped')
    .map((outcome) => `${outcome.id}:${outcome.status}`);
}

t.test('renderPlans output - runs under dash: bootstrap once, configure converges, plan reports nothing', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'forklift-run-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const base = serverSpec({
    name: 'base',
    settings: { app: { port: 8080 } },
    phases: { bootstrap: [{ action: 'exec', id: 'boot', script: `echo booted >>${root}/boot.log` }] },
  });
  const spec = groupSpec({
    group: 'web',
    extends: [base],
    phases: {
      configure: (ctx) => [
        { action: 'directory', path: `${root}/etc/app`, mode: '0750' },
        { action: 'file', id: 'conf', path: `${root}/etc/app/app.conf`, content: `port=${(ctx.settings.app as { port: number }).port}\nnode=${ctx.node.id}\n` },
        { action: 'line-in-file', path: `${root}/etc/hosts`, line: '127.0.0.1 app', create: true },
      ],
    },
  });
  const node = JSON.parse(nodeLine('web-1', 'web', { family: 'debian', release: '12' }));
  const stateDir = join(root, 'state');
  const run = async (plan: boolean): Promise<string[]> => {
    const out: string[] = [];
    for (const record of await renderPlans(spec, [node], { plan, stateDir })) {
      const result = spawnSync('dash', ['-s'], { input: `fl_nonce=n0nce\n${record.script}`, encoding: 'utf8' });
      t.equal(result.status, 0, `${record.phase}${plan ? ' (plan)' : ''}: exit 0 ${result.stderr}`);
      out.push(...statuses(result.stdout, result.stderr).map((status) => `${record.phase}:${status}`));
    }
    return out;
  };
  t.same(
    await run(false),
    ['bootstrap:boot:changed', 'configure:directory-1:changed', 'configure:conf:changed', 'configure:line-in-file-1:changed'],
    'first run changes everything',
  );
  t.same(await run(false), ['bootstrap:boot:ok', 'configure:directory-1:ok', 'configure:conf:ok', 'configure:line-in-file-1:ok'], 'second run: all ok');
  t.same(await run(true), ['bootstrap:boot:ok', 'configure:directory-1:ok', 'configure:conf:ok', 'configure:line-in-file-1:ok'], 'plan: zero changes');
  t.equal(readFileSync(join(root, 'boot.log'), 'utf8'), 'booted\n', 'bootstrap ran once');
  t.equal(readFileSync(join(root, 'etc/app/app.conf'), 'utf8'), 'port=8080\nnode=web-1\n', 'settings and node reached the file');
  t.ok(existsSync(join(stateDir, 'once', 'bootstrap.done')), 'bootstrap flag on the node');
});
