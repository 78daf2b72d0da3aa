// The preflight kept sudo's complaint in /tmp/.forklift-sudo.$$: a name any local user can guess (the shell's pid)
// and plant a link at, so the login user's sudo check wrote through it and then removed it (issue 12 item 11).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PREFLIGHT_SCRIPT } from '../src/index.js';

t.test('preflight - sudo check writes no file with a guessable name (a planted link is not followed)', async (t) => {
  for (const tool of ['runuser', 'sudo'])
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      throw new Error(`${tool} is not installed: apt-get install ${tool === 'sudo' ? 'sudo' : 'util-linux'}`);
  const dir = mkdtempSync(join(tmpdir(), 'fl-preflight-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'keep me\n');
  chownSync(dir, 65534, 65534);
  chownSync(victim, 65534, 65534);
  // as nobody (sudo refuses them): plant the link at the name the old script used, then become that shell (same pid)
  const plant = `ln -s ${victim} "\${TMPDIR:-/tmp}/.forklift-sudo.$$" 2>/dev/null; exec sh -s`;
  const run = spawnSync('runuser', ['-u', 'nobody', '--', 'env', 'FL_SUDO=1', `TMPDIR=${dir}`, 'sh', '-c', plant], {
    input: PREFLIGHT_SCRIPT,
    encoding: 'utf8',
  });
  t.match(run.stdout, /^sudo=no$/m, 'sudo refused nobody');
  t.match(run.stderr, /sudo/, "sudo's complaint still reaches stderr");
  t.equal(readFileSync(victim, 'utf8'), 'keep me\n', 'the file behind the planted link is untouched');
  t.notOk(PREFLIGHT_SCRIPT.includes('.forklift-sudo'), 'no fixed temp name in the script');
});
