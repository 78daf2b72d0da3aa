// Finding test files: directories (by name pattern), single files, globs, missing paths.
import t from 'tap';
import { REPO_ROOT } from '@forklift/testkit';
import { discoverTests, globToRegExp } from '../src/discover.js';

const FIXTURES = 'packages/expect-run/test/fixtures';
const relative = (files: string[]) => files.map((file) => file.slice(REPO_ROOT.length + 1));

t.test('discover - a directory is searched for *.expect.ts and *.expect.js, sorted', async (t) => {
  t.same(relative(discoverTests([`${FIXTURES}/stack`], REPO_ROOT).files), [`${FIXTURES}/stack/deep.expect.ts`], 'helper.ts is not a test file');
  t.same(relative(discoverTests([`${FIXTURES}/pass`], REPO_ROOT).files), [`${FIXTURES}/pass/plain.expect.js`, `${FIXTURES}/pass/values.expect.ts`]);
});

t.test('discover - a glob matches across directories, ** at any depth', async (t) => {
  const found = relative(discoverTests([`${FIXTURES}/**/b-*.expect.ts`], REPO_ROOT).files);
  t.same(found, [`${FIXTURES}/broken/b-throws.expect.ts`, `${FIXTURES}/browser/b-after.expect.ts`]);
  t.ok(globToRegExp('/a/**/*.ts').test('/a/x.ts'));
  t.ok(globToRegExp('/a/**/*.ts').test('/a/b/c/x.ts'));
  t.notOk(globToRegExp('/a/*.ts').test('/a/b/x.ts'));
  t.notOk(globToRegExp('/a/x?.ts').test('/a/x.ts'));
});

t.test('discover - a file given by name is taken whatever its name; paths given twice count once', async (t) => {
  const found = relative(discoverTests([`${FIXTURES}/stack/helper.ts`, `${FIXTURES}/stack/helper.ts`], REPO_ROOT).files);
  t.same(found, [`${FIXTURES}/stack/helper.ts`]);
});

t.test('discover - a missing path is a usage error (exit 64)', async (t) => {
  t.throws(() => discoverTests(['no/such/dir'], REPO_ROOT), { name: 'UsageError', exitCode: 64, message: 'no/such/dir: no such file or directory' });
});
