import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

t.test('npm pack - @forklift/contract installed alone into an empty folder works there', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'forklift-pack-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: packageDir, encoding: 'utf8' });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  t.ok(tarball, 'npm pack wrote a tarball');
  const project = join(work, 'project');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'empty', version: '1.0.0', type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', join(work, tarball!)], { cwd: project, encoding: 'utf8' });
  const out = execFileSync(join(project, 'node_modules/.bin/forklift-cat'), {
    cwd: project,
    input: '{"v":1,"kind":"custom","x":1}\n',
    encoding: 'utf8',
  });
  const lines = out.trimEnd().split('\n');
  t.equal(lines[0], '{"v":1,"kind":"custom","x":1}');
  t.match(JSON.parse(lines[1]), { kind: 'summary', tool: 'forklift-cat', ok: true });
  const script = `import { makeRecord, shellQuote, readAllRecords } from '@forklift/contract';
import { Readable } from 'node:stream';
const records = await readAllRecords(Readable.from([Buffer.from('{"v":1,"kind":"x"}\\n')]));
console.log(JSON.stringify([makeRecord('error', { code: 'c', message: 'm' }).kind, shellQuote("a b"), records.length]));`;
  writeFileSync(join(project, 'use.mjs'), script);
  t.equal(execFileSync(process.execPath, ['use.mjs'], { cwd: project, encoding: 'utf8' }).trim(), `["error","'a b'",1]`);
  // the lite entry finds the generated validators in the installed package: a valid record needs no zod,
  // and no Ajv either (a devDependency, so not installed here)
  t.notOk(existsSync(join(project, 'node_modules/ajv')), 'ajv is not installed with the package');
  const lite = `import { readAllRecords } from '@forklift/contract/lite';
import { Readable } from 'node:stream';
const line = JSON.stringify({ v: 1, kind: 'node', id: 'n', group: 'g', service: 's', provider: 'p', address: 'a', port: 22, user: 'u', state: 'running' });
const records = await readAllRecords(Readable.from([line + '\\n']));
console.log(JSON.stringify([records[0].known, '__zod_globalConfig' in globalThis]));`;
  writeFileSync(join(project, 'lite.mjs'), lite);
  t.equal(execFileSync(process.execPath, ['lite.mjs'], { cwd: project, encoding: 'utf8' }).trim(), '[true,false]');
  const schema = execFileSync(process.execPath, ['-e', `console.log(require.resolve('@forklift/contract/schema/node.schema.json'))`], {
    cwd: project,
    encoding: 'utf8',
  });
  t.match(schema, /node\.schema\.json/);
});
