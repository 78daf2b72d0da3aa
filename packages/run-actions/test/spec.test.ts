import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBinary, startSshd, toNdjson } from '@forklift/testkit';
import { ofKind } from './helpers.js';

/** sha256 of every file under dir (path, mode, bytes): equal digests mean byte-identical trees. */
function treeDigest(dir: string): string {
  const hash = createHash('sha256');
  const walk = (path: string): void => {
    for (const name of readdirSync(path).sort()) {
      const full = join(path, name);
      const stat = statSync(full);
      hash.update(`${full}\0${stat.mode}\0`);
      if (stat.isDirectory()) walk(full);
      else hash.update(readFileSync(full));
    }
  };
  walk(dir);
  return hash.digest('hex');
}

t.test('run-actions SPEC - --plan changes nothing, apply converges, a second --plan reports zero changes', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'run-actions-spec-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const target = join(work, 'node-files');
  mkdirSync(target);
  writeFileSync(join(target, 'app.conf'), 'port = 80\n', { mode: 0o644 });
  mkdirSync(join(work, 'servers'));
  // files only inside the scratch dir (this loopback "node" is the test machine), no backups under /var/lib/forklift
  writeFileSync(
    join(work, 'servers', 'app.json5'),
    JSON.stringify({
      phases: {
        configure: [
          { action: 'file', id: 'app-conf', path: join(target, 'app.conf'), content: 'port = 8080\n', mode: '0644', backups: 0 },
          { action: 'file', id: 'motd', path: join(target, 'motd'), content: 'hello\n', mode: '0600', backups: 0 },
        ],
      },
    }),
  );
  const sshd = await startSshd({ id: 'app-1' });
  t.teardown(sshd.stop);
  const nodes = toNdjson([sshd.node]);

  const before = treeDigest(target);
  const plan = await runBinary('run-actions', ['servers/app', '--plan'], { stdin: nodes, cwd: work });
  t.equal(plan.exitCode, 0, plan.stderr);
  const planned = ofKind(plan.records, 'result');
  t.same(
    planned.map((r) => [r.id, r.status]),
    [
      ['app-conf', 'changed'],
      ['motd', 'changed'],
    ],
    'reports what would change',
  );
  t.match(planned[0]!.diff, /-port = 80\n\+port = 8080/, 'with a unified diff');
  t.equal(treeDigest(target), before, "the node's files are byte-identical after --plan");

  const apply = await runBinary('run-actions', ['servers/app'], { stdin: nodes, cwd: work });
  t.equal(apply.exitCode, 0, apply.stderr);
  t.same(
    ofKind(apply.records, 'result').map((r) => r.status),
    ['changed', 'changed'],
  );
  t.equal(readFileSync(join(target, 'app.conf'), 'utf8'), 'port = 8080\n');

  const converged = treeDigest(target);
  const again = await runBinary('run-actions', ['servers/app', '--plan', '--detailed-exitcode'], { stdin: nodes, cwd: work });
  t.equal(again.exitCode, 0, 'no change to report');
  t.same(
    ofKind(again.records, 'result').map((r) => r.status),
    ['ok', 'ok'],
  );
  t.equal(treeDigest(target), converged);
});

t.test('run-actions - a saved plan from render-crate applies exactly what was rendered', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'run-actions-saved-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const target = join(work, 'node-files');
  mkdirSync(target);
  mkdirSync(join(work, 'servers'));
  const specPath = join(work, 'servers', 'app.json5');
  const spec = (content: string) => JSON.stringify({ phases: { configure: [{ action: 'file', id: 'f', path: join(target, 'f'), content, backups: 0 }] } });
  writeFileSync(specPath, spec('rendered\n'));
  const sshd = await startSshd({ id: 'saved-1' });
  t.teardown(sshd.stop);

  const rendered = await runBinary('render-crate', ['servers/app', '--plan'], { stdin: toNdjson([sshd.node]), cwd: work });
  t.equal(rendered.exitCode, 0, rendered.stderr);
  const planRecords = ofKind(rendered.records, 'plan');
  t.equal(planRecords[0]!.mode, 'plan');
  // the spec changes after rendering: the saved plan still runs what was rendered
  writeFileSync(specPath, spec('changed since\n'));
  const checked = await runBinary('run-actions', [], { stdin: toNdjson([sshd.node, ...planRecords]), cwd: work });
  t.equal(checked.exitCode, 0, checked.stderr);
  t.match(ofKind(checked.records, 'result')[0], { id: 'f', status: 'changed', diff: /\+rendered/ });
  t.same(readdirSync(target), [], 'a "mode":"plan" plan changes nothing');

  const applyPlans = ofKind((await runBinary('render-crate', ['servers/app'], { stdin: toNdjson([sshd.node]), cwd: work })).records, 'plan');
  writeFileSync(specPath, spec('not this\n'));
  const applied = await runBinary('run-actions', [], { stdin: toNdjson([sshd.node, ...applyPlans]), cwd: work });
  t.equal(applied.exitCode, 0, applied.stderr);
  t.equal(readFileSync(join(target, 'f'), 'utf8'), 'changed since\n', 'the saved apply plan wrote what it was rendered with');
});

t.test("run-actions SPEC - run from another directory: references and local files come from the spec's project", async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'run-actions-cwd-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const target = join(work, 'node-files');
  for (const dir of [target, join(work, 'proj', 'groups'), join(work, 'proj', 'servers'), join(work, 'proj', 'files'), join(work, 'elsewhere', 'files')])
    mkdirSync(dir, { recursive: true });
  writeFileSync(join(work, 'proj', 'files', 'motd'), 'from the project\n');
  writeFileSync(join(work, 'elsewhere', 'files', 'motd'), 'from the working directory\n');
  writeFileSync(
    join(work, 'proj', 'servers', 'motd.json5'),
    JSON.stringify({ phases: { configure: [{ action: 'file', id: 'motd', path: join(target, 'motd'), local: 'files/motd', backups: 0 }] } }),
  );
  writeFileSync(join(work, 'proj', 'groups', 'cwd.json5'), JSON.stringify({ group: 'cwd', extends: ['servers/motd'] }));
  const sshd = await startSshd({ id: 'cwd-1' });
  t.teardown(sshd.stop);
  const run = await runBinary('run-actions', ['../proj/groups/cwd'], { stdin: toNdjson([{ ...sshd.node, group: 'cwd' }]), cwd: join(work, 'elsewhere') });
  t.equal(run.exitCode, 0, run.stderr);
  t.same(
    ofKind(run.records, 'result').map((r) => [r.id, r.status]),
    [['motd', 'changed']],
  );
  t.equal(readFileSync(join(target, 'motd'), 'utf8'), 'from the project\n', "the local file of the spec's project, not of the working directory");
});

t.test(
  'run-actions SPEC - a node provisioned without a group is adopted by the group spec and flows on in its group; other groups only are exit 65',
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'run-actions-adopt-'));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    const target = join(work, 'node-files');
    mkdirSync(target);
    mkdirSync(join(work, 'groups'));
    writeFileSync(
      join(work, 'groups', 'mon.json5'),
      JSON.stringify({
        group: 'mon',
        color: 'blue',
        roles: ['monitoring'],
        phases: { configure: [{ action: 'file', id: 'flag', path: join(target, 'flag'), content: 'on\n', backups: 0 }] },
      }),
    );
    const sshd = await startSshd({ id: 'default-1', group: 'default' });
    t.teardown(sshd.stop);

    const run = await runBinary('run-actions', ['groups/mon'], { stdin: toNdjson([sshd.node]), cwd: work });
    t.equal(run.exitCode, 0, run.stderr);
    t.match(
      ofKind(run.records, 'node')[0],
      { id: 'default-1', group: 'mon', color: 'blue', roles: ['monitoring'] },
      "re-emitted in the spec's group, with its color and roles",
    );
    t.same(
      ofKind(run.records, 'result').map((r) => [r.node, r.id, r.action, r.status]),
      [['default-1', 'flag', 'file', 'changed']],
    );
    t.match(run.stderr, 'run-actions: 1 node(s) of group default adopted into group mon: default-1');
    t.equal(readFileSync(join(target, 'flag'), 'utf8'), 'on\n');

    const other = await runBinary('run-actions', ['groups/mon'], { stdin: toNdjson([{ ...sshd.node, id: 'web-1', group: 'web' }]), cwd: work });
    t.equal(other.exitCode, 65, 'nodes of other groups only: bad input, not a silent success');
    t.match(other.stderr, /groups\/mon\.json5: group mon: none of the 1 running node\(s\) on stdin is in this group \(groups seen: web\)/);
    t.same(ofKind(other.records, 'result'), [], 'nothing ran');
  },
);
