// The README's action reference is the one generated from the schemas (no drift).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { actionReference, listActions } from '../src/index.js';

t.test('README - the action reference matches the schemas (regenerate: node packages/actions/scripts/write-reference.mjs)', async (t) => {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  t.ok(readme.includes(actionReference()), 'generated reference is in the README');
  for (const action of listActions()) t.match(readme, `### ${action.name}\n`, `${action.name} documented`);
});
