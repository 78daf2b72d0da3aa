import t from 'tap';
import { rm } from 'node:fs/promises';
import { listNodes, provisionNodes } from '../src/index.js';
import { forceClean, leftovers, sshRun, testHome } from './helpers.js';

// the first test of a CI run may build the rootfs (about a minute idle, much longer on a loaded machine)
t.setTimeout(25 * 60_000);

t.test('netns service - 10 nodes up and reachable over SSH, torn down without touching another group', async (t) => {
  const { home, env } = await testHome('netns');
  const machines = new Set<string>();
  const log = (line: string): void => void t.comment(line);
  t.teardown(async () => {
    for (const group of ['scale', 'other']) await provisionNodes({ service: 'netns', count: 0, group, home, env, log }).catch(() => undefined);
    await forceClean(home);
    await rm(home, { recursive: true, force: true });
  });

  const [other] = await provisionNodes({ service: 'netns', count: 1, group: 'other', home, env, log });
  const nodes = await provisionNodes({ service: 'netns', count: 10, group: 'scale', home, env, log });
  t.equal(nodes.length, 10, 'ten node records');
  t.same(
    nodes.map((node) => node.id),
    Array.from({ length: 10 }, (_, index) => `scale-${index + 1}`),
    'ids scale-1 .. scale-10',
  );
  t.equal(new Set(nodes.map((node) => node.address)).size, 10, 'ten distinct addresses');
  for (const node of [...nodes, other!]) machines.add(node.tags!.machine!);

  const answers = await Promise.all(nodes.map((node) => sshRun(node, 'hostname; cat /etc/debian_version', home)));
  answers.forEach((answer, index) => t.match(answer, new RegExp(`^scale-${index + 1}\\n12\\.`), `scale-${index + 1} answers SSH with its own hostname`));

  t.same(await listNodes({ service: 'netns', group: 'scale', home, env }), nodes, 'listNodes sees the same ten nodes');
  const empty = await provisionNodes({ service: 'netns', count: 0, group: 'scale', home, env, log });
  t.same(empty, [], 'count 0 returns no node');
  t.same(await listNodes({ service: 'netns', group: 'other', home, env }), [other], 'the node of the other group is untouched');
  t.match(await sshRun(other!, 'hostname', home), /^other-1\n$/, 'and still answers');

  await provisionNodes({ service: 'netns', count: 0, group: 'other', home, env, log });
  t.same(await leftovers(home, [...machines]), [], 'no mounts, links, namespaces, processes or leases left');
});
