// Finding test files: directories (by name pattern), single files, globs, missing paths.
import t from 'tap';
import { REPO_ROOT } from '@forklift/testkit';
import { discoverTests, isGlob } from '../src/discover.js';

const FIXTURES = 'packages/expect-run/test/fixtures';
const relative = (files: string[]) => files.map((file) => file.slice(REPO_ROOT.length + 1));

t.test('discover - a directory is searched for *.expect.ts and *.expect.js, sorted', async (t) => {
  t.same(relative(discoverTests([`${FIXTURES}/stack`], REPO_ROOT).files), [`${FIXTURES}/stack/deep.expect.ts`], 'helper.ts is not a test file');
  t.same(relative(discoverTests([`${FIXTURES}/pass`], REPO_ROOT).files), [`${FIXTURES}/pass/plain.expect.js`, `${FIXTURES}/pass/values.expect.ts`]);
});

t.test('discover - a glob matches across directories, ** at any depth', async (t) => {
  const found = relative(discoverTests([`${FIXTURES}/**/b-*.expect.ts`], REPO_ROOT).files);
  t.same(found, [`${FIXTURES}/broken/b-throws.expect.ts`, `${FIXTURES}/browser/b-after.expect.ts`]);
  t.same(relative(discoverTests([`${FIXTURES}/*/deep.expect.ts`], REPO_ROOT).files), [`${FIXTURES}/stack/deep.expect.ts`], '* stays within one directory');
  t.same(relative(discoverTests([`${FIXTURES}/stack/dee?.expect.ts`], REPO_ROOT).files), [`${FIXTURES}/stack/deep.expect.ts`]);
});

t.test('discover - braces and character classes work in globs', async (t) => {
  t.same(relative(discoverTests([`${FIXTURES}/{pass,stack}/*.expect.{ts,js}`], REPO_ROOT).files), [
    `${FIXTURES}/pass/plain.expect.js`,
    `${FIXTURES}/pass/values.expect.ts`,
    `${FIXTURES}/stack/deep.expect.ts`,
  ]);
  t.same(relative(discoverTests([`${FIXTURES}/broken/[ac]-*.expect.ts`], REPO_ROOT).files), [
    `${FIXTURES}/broken/a-loads.expect.ts`,
    `${FIXTURES}/broken/c-after.expect.ts`,
  ]);
  t.same(relative(discoverTests([`${FIXTURES}/broken/[!ac]-*.expect.ts`], REPO_ROOT).files), [`${FIXTURES}/broken/b-throws.expect.ts`], 'a negated class');
  t.same(relative(discoverTests([`${FIXTURES}/{js-only,nope}/*-plain.expect.[jt]s`], REPO_ROOT).files), [`${FIXTURES}/js-only/a-plain.expect.js`]);
  t.ok(isGlob('test/{a,b}/x.expect.ts') && isGlob('test/[ab].expect.ts') && !isGlob('test/a.expect.ts'));
  const watched = discoverTests([`${FIXTURES}/{pass,stack}/*.expect.ts`], REPO_ROOT).dirs;
  t.ok(
    watched.includes(`${REPO_ROOT}/${FIXTURES}/pass`) && watched.includes(`${REPO_ROOT}/${FIXTURES}/broken`),
    '--watch looks at every directory under the glob base',
  );
});

t.test('discover - a glob that matches nothing finds no files (the runner says so)', async (t) => {
  t.same(discoverTests([`${FIXTURES}/{nope,none}/*.expect.ts`], REPO_ROOT).files, []);
});

t.test('discover - a file given by name is taken whatever its name; paths given twice count once', async (t) => {
  const found = relative(discoverTests([`${FIXTURES}/stack/helper.ts`, `${FIXTURES}/stack/helper.ts`], REPO_ROOT).files);
  t.same(found, [`${FIXTURES}/stack/helper.ts`]);
});

t.test('discover - a missing path is a usage error (exit 64)', async (t) => {
  t.throws(() => discoverTests(['no/such/dir'], REPO_ROOT), { name: 'UsageError', exitCode: 64, message: 'no/such/dir: no such file or directory' });
});
