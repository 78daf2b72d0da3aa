// Out-of-band files over a real SSH connection (loopback sshd): non-sensitive uploads land in the node's
// sha256 cache once, sensitive ones only for the run; neither appears in a record or on a command line.
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeRecord, PlanRecord } from '@forklift/contract';
import { renderPlans } from '@forklift/render-crate';
import { startSshd } from '@forklift/testkit';
import { defaultTransport, runActions, type RunRecord, type TransportFactory } from '../src/index.js';

const SECRET = 'canary-upload-5e1d9';

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'run-actions-uploads-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A transport that records every command line sent to the node. */
function recording(commands: string[]): TransportFactory {
  const open = defaultTransport();
  return async (node, signal) => {
    const transport = await open(node, signal);
    return { ...transport, exec: (command, options) => (commands.push(command), transport.exec(command, options)) };
  };
}

async function run(nodes: NodeRecord[], plans: PlanRecord[], blobDir: string, commands: string[]) {
  const records: RunRecord[] = [];
  const report = await runActions({ nodes, plans, blobDir, transport: recording(commands), onRecord: (record) => void records.push(record) });
  return { report, records };
}

t.test('uploads - cached by sha256 once, secrets per run only, nothing secret in records or on argv', async (t) => {
  const dir = scratch(t);
  const project = join(dir, 'project');
  const target = join(dir, 'target');
  const blobDir = join(dir, 'blobs');
  mkdirSync(join(project, 'secrets'), { recursive: true });
  mkdirSync(join(project, 'dist'));
  mkdirSync(target);
  const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  writeFileSync(join(project, 'dist', 'runtime.bin'), big);
  writeFileSync(join(project, 'secrets', 'db'), `${SECRET}\n`);
  const sshd = await startSshd({ id: 'up-1' });
  t.teardown(sshd.stop);
  const spec = {
    cwd: project,
    phases: {
      configure: [
        { action: 'file', id: 'runtime', path: join(target, 'runtime.bin'), upload: 'dist/runtime.bin', mode: '0755' },
        { action: 'file', id: 'pw', path: join(target, 'db-password'), contentFrom: 'secrets/db', mode: '0600' },
        {
          action: 'exec',
          id: 'use-env',
          script: `printf '%s' "$DB_PASSWORD" >${join(target, 'from-env')}`,
          envFrom: { DB_PASSWORD: 'secrets/db' },
          creates: join(target, 'from-env'),
        },
      ],
    },
  };
  const plans = (await renderPlans(spec, [sshd.node])).map((fields) => ({ v: 1, kind: 'plan', ...fields }) as PlanRecord);
  t.match(plans[0]!.uploads, [
    { name: 'u1', source: join(project, 'dist', 'runtime.bin'), bytes: big.length, sha256: createHash('sha256').update(big).digest('hex') },
    { name: 'u2', source: join(project, 'secrets', 'db'), bytes: SECRET.length + 1, sensitive: true },
  ]);
  t.notMatch(JSON.stringify(plans), SECRET, 'the plan records do not carry the secret');

  const commands: string[] = [];
  const first = await run([sshd.node], plans, blobDir, commands);
  t.ok(first.report.ok, JSON.stringify(first.records.filter((r) => r.kind === 'error')));
  t.same(
    first.records.filter((r) => r.kind === 'result').map((r) => [(r.fields as { id: string }).id, (r.fields as { status: string }).status]),
    [
      ['runtime', 'changed'],
      ['pw', 'changed'],
      ['use-env', 'changed'],
    ],
  );
  t.ok(readFileSync(join(target, 'runtime.bin')).equals(big), 'the large file arrived intact');
  t.equal(readFileSync(join(target, 'db-password'), 'utf8'), `${SECRET}\n`);
  t.equal(statSync(join(target, 'db-password')).mode & 0o777, 0o600);
  t.equal(readFileSync(join(target, 'from-env'), 'utf8'), SECRET);
  t.same(readdirSync(blobDir), [createHash('sha256').update(big).digest('hex')], 'only the non-sensitive file is cached');
  t.equal(commands.filter((command) => command.includes('forklift-blob ')).length, 1, 'the blob was sent once');
  t.notMatch(JSON.stringify(first.records), SECRET, 'no record carries the secret');
  t.notMatch(commands.join('\n'), SECRET, 'no command line carries the secret');

  const again: string[] = [];
  const second = await run([sshd.node], plans, blobDir, again);
  t.ok(second.report.ok);
  t.same(
    second.records.filter((r) => r.kind === 'result').map((r) => (r.fields as { status: string }).status),
    ['ok', 'ok', 'ok'],
    'the second run changes nothing',
  );
  t.equal(again.filter((command) => command.includes('forklift-blob ')).length, 0, 'a cached blob is not sent again');

  writeFileSync(join(project, 'secrets', 'db'), 'changed after rendering, other size\n');
  const stale = await run([sshd.node], plans, blobDir, []);
  t.notOk(stale.report.ok, 'a file changed since rendering fails the node');
  t.match(stale.records.find((r) => r.kind === 'error')?.fields, { code: 'upload-failed', message: /changed after rendering\? render again/ });
  t.same(
    stale.records.filter((r) => r.kind === 'result').map((r) => (r.fields as { status: string }).status),
    ['skipped', 'skipped', 'skipped'],
  );
});

t.test('uploads - a blob whose bytes do not match its sha256 is refused on the node', async (t) => {
  const dir = scratch(t);
  const project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'a.bin'), 'original');
  const sshd = await startSshd({ id: 'up-2' });
  t.teardown(sshd.stop);
  const spec = { cwd: project, phases: { configure: [{ action: 'file', path: join(dir, 'a.out'), upload: 'a.bin' }] } };
  const plans = (await renderPlans(spec, [sshd.node])).map((fields) => ({ v: 1, kind: 'plan', ...fields }) as PlanRecord);
  writeFileSync(join(project, 'a.bin'), 'tampered'); // same size, other bytes
  const blobDir = join(dir, 'blobs');
  const { report, records } = await run([sshd.node], plans, blobDir, []);
  t.notOk(report.ok);
  t.match(records.find((r) => r.kind === 'error')?.fields, { code: 'upload-failed', message: /arrived with sha256 [0-9a-f]{64}, expected/ });
  t.same(existsSync(blobDir) ? readdirSync(blobDir) : [], [], 'nothing entered the cache');
  t.notOk(existsSync(join(dir, 'a.out')));
});
