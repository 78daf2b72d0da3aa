import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../src/processes.js';
import { startNginx, type Nginx } from './nginx.js';
import { PAGES_DIR } from './page-server.js';
import { runCli } from './run-cli.js';

// Until a provisioned node serves the pages, the "node" is an nginx this test starts on loopback,
// described by a node record whose address is 127.0.0.1.
let nginx: Nginx | undefined;
const work = mkdtempSync(join(tmpdir(), 'browser-drive-nginx-test-'));
t.before(async () => {
  nginx = await startNginx(PAGES_DIR);
});
// a missing nginx fails the test in before(); the teardown never depends on what before() made
t.teardown(async () => {
  await nginx?.stop();
  rmSync(work, { recursive: true, force: true });
});

const node = (id: string, address: string) => ({
  v: 1,
  kind: 'node',
  id,
  group: 'web',
  service: 'loopback',
  provider: 'node-list',
  address,
  port: 22,
  user: 'root',
  state: 'running',
});

t.test('browser-drive - a step script drives nginx at the address of the second web node from stdin', async (t) => {
  const script = join(work, 'shop.json5');
  writeFileSync(
    script,
    `{
      name: 'shop-on-node',
      steps: [
        { open: { node: { group: 'web', index: 1 }, port: ${nginx!.port}, path: '/index.html' } },
        { expectTitle: { equals: 'Forklift shop' } },
        { click: { tag: 'a', text: 'Select' } },
        { select: '#warehouse', option: { value: 'osl' } },
        { expectText: { equals: 'osl:Oslo' }, in: '#chosen' },
        { expectUrl: 'http://127.0.0.1:${nginx!.port}/select.html' },
      ],
    }`,
  );
  // the first node's address is unroutable on purpose: only index 1 may be used
  const input = [node('web-0', '192.0.2.1'), node('web-1', '127.0.0.1')].map((record) => JSON.stringify(record)).join('\n') + '\n';
  const result = await runCli([script, '--screenshots', join(work, 'shots')], { stdin: input });
  t.equal(result.code, 0, result.stderr);
  t.same(
    result.records.map((record) => record.kind),
    ['node', 'node', 'step', 'step', 'step', 'step', 'step', 'step', 'summary'],
  );
  t.equal(result.records[2].step, `open http://127.0.0.1:${nginx!.port}/index.html`);
  t.ok(isAlive(nginx!.pid), 'nginx still serving');
  t.same(result.descendants.filter(isAlive), [], 'no browser process left');
});
