// The converge logic with a recording fake provider (no nodes, no root, no network): which nodes are
// cleaned, destroyed and created, in what order, with which ids, and that concurrent converges of one
// service are serialised by its lock. Fast: well under 2 s.
import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  converge,
  convergeNodes,
  listNodes,
  newIds,
  providerContext,
  type CreateRequest,
  type ListedNode,
  type Provider,
  type ProviderContext,
} from '../src/index.js';
import { run } from '../src/run.js';

interface FakeNode {
  id: string;
  group: string;
  createdMs: number;
  status: 'running' | 'broken';
}

/** A provider that keeps its nodes in memory and records every call, in order. */
function fakeProvider(initial: FakeNode[] = [], options: { createDelayMs?: number; failCreate?: boolean; canCreate?: boolean } = {}) {
  const nodes = initial.map((node) => ({ ...node }));
  const calls: string[] = [];
  const requests: CreateRequest[] = [];
  let clock = Math.max(0, ...nodes.map((node) => node.createdMs));
  const listed = (node: FakeNode): ListedNode => ({
    node: { id: node.id, group: node.group, service: 'fake', provider: 'fake', address: '192.0.2.1', port: 22, user: 'root' },
    createdMs: node.createdMs,
    status: node.status,
  });
  const provider: Provider = {
    name: 'fake',
    canCreate: options.canCreate ?? true,
    async prerequisites() {
      calls.push('prerequisites');
    },
    async list(_ctx, group) {
      calls.push(group === undefined ? 'list' : `list ${group}`);
      return nodes.filter((node) => group === undefined || node.group === group).map(listed);
    },
    async create(_ctx, wanted) {
      calls.push(`create ${wanted.map((request) => request.id).join(' ')}`);
      requests.push(...wanted);
      await sleep(options.createDelayMs ?? 0);
      if (options.failCreate) throw new Error('the fake cannot boot');
      const made = wanted.map((request) => ({ id: request.id, group: request.group, createdMs: ++clock, status: 'running' as const }));
      nodes.push(...made);
      calls.push(`created ${wanted.map((request) => request.id).join(' ')}`);
      return made.map(listed);
    },
    async destroy(_ctx, gone) {
      calls.push(`destroy ${gone.map((node) => node.node.id).join(' ')}`);
      for (const node of gone)
        nodes.splice(
          nodes.findIndex((held) => held.id === node.node.id),
          1,
        );
    },
    async cleanupIfUnused() {
      calls.push('cleanup');
    },
  };
  return { provider, calls, nodes, requests };
}

async function fakeContext(t: Test): Promise<ProviderContext> {
  const home = await mkdtemp(join(tmpdir(), 'fl-converge-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  return providerContext({
    home,
    service: { name: 'fake', provider: 'fake', options: {} },
    env: {},
    log: () => undefined,
    signal: new AbortController().signal,
  });
}

const ids = (report: { nodes: Array<{ id: string }> }): string[] => report.nodes.map((node) => node.id);

t.test('converge - creates the missing nodes in one call, ids <group>-1..n, and returns every running node of the group', async (t) => {
  const fake = fakeProvider([{ id: 'db-1', group: 'db', createdMs: 1, status: 'running' }]);
  const report = await converge(fake.provider, await fakeContext(t), { group: 'web', count: 3, nodeSpec: { image: 'debian-12' } });
  t.same(ids(report), ['web-1', 'web-2', 'web-3']);
  t.same([report.created, report.destroyed], [3, 0]);
  t.same(fake.calls, ['prerequisites', 'list', 'create web-1 web-2 web-3', 'created web-1 web-2 web-3']);
  t.same(
    fake.requests.map((request) => [request.id, request.index, request.nodeSpec]),
    [
      ['web-1', 1, { image: 'debian-12' }],
      ['web-2', 2, { image: 'debian-12' }],
      ['web-3', 3, { image: 'debian-12' }],
    ],
    'each request carries the node spec',
  );
});

t.test('converge - surplus nodes are destroyed newest first; the oldest stay', async (t) => {
  // creation order is not id order: web-2 is the newest, web-3 the next
  const fake = fakeProvider([
    { id: 'web-1', group: 'web', createdMs: 1, status: 'running' },
    { id: 'web-2', group: 'web', createdMs: 30, status: 'running' },
    { id: 'web-3', group: 'web', createdMs: 20, status: 'running' },
    { id: 'db-1', group: 'db', createdMs: 40, status: 'running' },
  ]);
  const report = await converge(fake.provider, await fakeContext(t), { group: 'web', count: 1 });
  t.same(
    fake.calls.filter((call) => call.startsWith('destroy')),
    ['destroy web-2 web-3'],
    'newest first, one call',
  );
  t.same(ids(report), ['web-1']);
  t.same([report.created, report.destroyed], [0, 2]);
  t.same(
    fake.nodes.map((node) => node.id),
    ['web-1', 'db-1'],
    'other groups are never touched',
  );
});

t.test("converge - half-made nodes of the group and orphans of no group are cleaned first; other groups' are left", async (t) => {
  const fake = fakeProvider([
    { id: 'web-1', group: 'web', createdMs: 1, status: 'running' },
    { id: 'web-2', group: 'web', createdMs: 2, status: 'broken' },
    { id: 'x-1', group: '?', createdMs: 3, status: 'broken' },
    { id: 'db-1', group: 'db', createdMs: 4, status: 'broken' },
  ]);
  const report = await converge(fake.provider, await fakeContext(t), { group: 'web', count: 2 });
  t.same(
    fake.calls,
    ['prerequisites', 'list', 'destroy web-2 x-1', 'create web-2', 'created web-2'],
    'cleaned before anything is created; the cleaned id is used again',
  );
  t.same(ids(report), ['web-1', 'web-2']);
  t.same([report.created, report.destroyed], [1, 2]);
  t.ok(
    fake.nodes.some((node) => node.id === 'db-1'),
    'a half-made node of another group waits for its own converge',
  );
});

t.test('ids - the lowest free number, over every group of the service; destroyed and cleaned ids are used again', async (t) => {
  t.same(
    newIds('web', 2, new Set(['web-1', 'web-3'])).map((entry) => entry.id),
    ['web-2', 'web-4'],
  );
  t.same(newIds('web', 1, new Set()), [{ id: 'web-1', index: 1 }]);
  const fake = fakeProvider([
    { id: 'web-1', group: 'web', createdMs: 1, status: 'running' },
    { id: 'web-3', group: 'web', createdMs: 2, status: 'running' },
  ]);
  const ctx = await fakeContext(t);
  t.same(ids(await converge(fake.provider, ctx, { group: 'web', count: 4 })), ['web-1', 'web-2', 'web-3', 'web-4'], 'web-2 (destroyed earlier) is reused');
  await converge(fake.provider, ctx, { group: 'web', count: 2 });
  t.same(fake.nodes.map((node) => node.id).sort(), ['web-1', 'web-3'], 'the two newest (web-2, web-4) went');
  t.same(ids(await converge(fake.provider, ctx, { group: 'web', count: 3 })), ['web-1', 'web-2', 'web-3'], 'and web-2 is reused again');
});

t.test('converge - two concurrent converges of one service are serialised by its lock', async (t) => {
  const fake = fakeProvider([], { createDelayMs: 150 });
  const ctx = await fakeContext(t);
  const [a, b] = await Promise.all([converge(fake.provider, ctx, { group: 'web', count: 2 }), converge(fake.provider, ctx, { group: 'web', count: 2 })]);
  t.same(
    fake.nodes.map((node) => node.id),
    ['web-1', 'web-2'],
    'exactly two nodes, not four',
  );
  t.same([a.created + b.created, ids(a), ids(b)], [2, ['web-1', 'web-2'], ['web-1', 'web-2']], 'one created both, the other found them');
  const work = fake.calls.filter((call) => call !== 'prerequisites');
  t.same(work, ['list', 'create web-1 web-2', 'created web-1 web-2', 'list'], 'the second list waits until the first converge is done');
});

t.test('converge - count 0 tears the group down and the shared state with it; a failed create leaves nothing half-made behind', async (t) => {
  const fake = fakeProvider([{ id: 'web-1', group: 'web', createdMs: 1, status: 'running' }]);
  const ctx = await fakeContext(t);
  await converge(fake.provider, ctx, { group: 'web', count: 1, labels: { color: 'blue', roles: ['web'] } });
  t.ok(existsSync(join(ctx.stateDir, 'groups', 'web.json')), "the group's labels are kept");
  const down = await converge(fake.provider, ctx, { group: 'web', count: 0 });
  t.same([ids(down), down.destroyed], [[], 1]);
  t.same(fake.calls.slice(-2), ['destroy web-1', 'cleanup'], 'the provider cleans its shared state once no node is left');
  t.notOk(existsSync(join(ctx.stateDir, 'groups', 'web.json')), "and the group's labels go with the group");

  const failing = fakeProvider([], { failCreate: true });
  await t.rejects(converge(failing.provider, await fakeContext(t), { group: 'web', count: 2 }), { message: 'the fake cannot boot' });
  t.same(failing.calls.slice(-2), ['create web-1 web-2', 'cleanup'], 'nothing else left: shared state cleaned after the failure');
});

t.test(
  'convergeNodes and listNodes take the provider as an argument; labels reach every record; a provider that cannot create answers only its count',
  async (t) => {
    const home = await mkdtemp(join(tmpdir(), 'fl-converge-'));
    t.teardown(() => rm(home, { recursive: true, force: true }));
    const fake = fakeProvider();
    const common = { service: 'fake', provider: fake.provider, home, env: {}, log: () => undefined };
    const report = await convergeNodes({ ...common, group: 'blue-web', count: 2, color: 'blue', roles: ['web'] });
    t.same(
      report.nodes.map((node) => [node.id, node.color, node.roles, node.service]),
      [
        ['blue-web-1', 'blue', ['web'], 'fake'],
        ['blue-web-2', 'blue', ['web'], 'fake'],
      ],
    );
    t.same(
      (await listNodes({ ...common, group: 'blue-web' })).map((node) => [node.id, node.color]),
      [
        ['blue-web-1', 'blue'],
        ['blue-web-2', 'blue'],
      ],
      '--list keeps the labels',
    );
    const fixed = fakeProvider([{ id: 'rack-1', group: 'db', createdMs: 1, status: 'running' }], { canCreate: false });
    await t.rejects(convergeNodes({ ...common, provider: fixed.provider, group: 'db', count: 2 }), {
      name: 'UsageError',
      message: /lists 1 node\(s\) in group "db" and cannot create or destroy/,
    });
    t.notOk(fixed.calls.some((call) => call.startsWith('create') || call.startsWith('destroy')));
  },
);

t.test('FORKLIFT_TRACE=1 in the injected env (not process.env) traces the host commands of that call only', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'fl-converge-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  const fake = fakeProvider();
  const listing: Provider = { ...fake.provider, list: async (ctx, group) => (await run('true', []), fake.provider.list(ctx, group)) };
  const lines: string[] = [];
  await listNodes({ service: 'fake', provider: listing, home, env: { FORKLIFT_TRACE: '1' }, log: (line) => lines.push(line) });
  t.match(lines, [/^trace: \d+ ms true$/], "the command and its duration, through the call's log");
  const quiet: string[] = [];
  await listNodes({ service: 'fake', provider: listing, home, env: {}, log: (line) => quiet.push(line) });
  t.same(quiet, [], 'no trace without it');
});
