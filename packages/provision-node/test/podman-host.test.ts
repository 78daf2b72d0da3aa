import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { cgroupV1Host, hardLimits, ulimitArgs } from '../src/providers/podman-host.js';

t.test('podman host - a cgroup root without cgroup.controllers is a v1 host (runc), a pure v2 root is not', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fl-cgroup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'v1', 'unified'), { recursive: true });
  await writeFile(join(dir, 'v1', 'unified', 'cgroup.controllers'), 'hugetlb\n');
  await mkdir(join(dir, 'v2'));
  await writeFile(join(dir, 'v2', 'cgroup.controllers'), 'cpu memory pids\n');
  t.equal(cgroupV1Host(join(dir, 'v1')), true);
  t.equal(cgroupV1Host(join(dir, 'v2')), false);
});

t.test('podman host - ulimits fit under the hard limits read from a limits file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fl-limits-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'limits');
  await writeFile(
    file,
    'Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max processes             96364                96364                processes \n' +
      'Max open files            20000                20000                files     \n',
  );
  t.same(hardLimits(file), { nofile: 20000, nproc: 96364 });
  t.same(ulimitArgs(hardLimits(file)), ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=16384:16384']);
  t.same(ulimitArgs({ nofile: 1024, nproc: 512 }), ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=512:512']);
  t.same(ulimitArgs({}), ['--ulimit', 'nofile=1048576:1048576', '--ulimit', 'nproc=16384:16384'], 'unlimited hard limits use podman-like ceilings');
  t.same(
    hardLimits('/proc/self/limits').nofile,
    Number(readFileSync('/proc/self/limits', 'utf8').match(/^Max open files\s+\S+\s+(\d+)/m)?.[1]),
    'reads this process',
  );
});
