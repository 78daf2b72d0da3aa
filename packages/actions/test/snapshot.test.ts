// The fixture runner's snapshot rule: a normal run never writes a snapshot (a missing one fails), only
// the explicit update command does.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshotText } from './fixture-lib.js';

t.test('snapshots - a normal run reads them and writes none; the update run writes them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-snapshot-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'case.sh');
  t.equal(snapshotText(path, 'blocks\n', false), undefined, 'missing: nothing to compare with (the test fails)');
  t.notOk(existsSync(path), 'and nothing was written');
  t.equal(snapshotText(path, 'blocks\n', true), 'blocks\n', 'the update run writes it');
  writeFileSync(path, 'old\n');
  t.equal(snapshotText(path, 'new\n', false), 'old\n', 'a normal run compares with what is committed');
  t.equal(readFileSync(path, 'utf8'), 'old\n', 'and leaves it alone');
});
