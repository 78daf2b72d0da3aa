import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NodeRecord } from '@forklift/contract';
import { provisionNodes } from '@forklift/provision-node';
import { pinnedSshArgs } from '@forklift/testkit';
import { isAlive } from '../src/processes.js';
import { PAGES_DIR } from './page-server.js';
import { runCli } from './run-cli.js';

// A real provisioned node (provision-node's netns service: its own network namespace, address on the
// tool's bridge, its own sshd and root filesystem) serves the test pages with a static busybox httpd
// copied in over SSH; browser-drive finds it through the node record on stdin.
const execFileAsync = promisify(execFile);
const BUSYBOX = '/bin/busybox';
const PORT = 8080;

let home: string;
let env: Record<string, string>;
let node: NodeRecord | undefined;
let httpdPid: string | undefined;

/** Run a command on the node, feeding it a local file or a tar of a directory on stdin. */
function ssh(target: NodeRecord, command: string, input?: { file?: string; tarDir?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', pinnedSshArgs(target, command, home), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ssh ${command}: exit ${code}: ${err.trim()}`))));
    if (input?.file) {
      createReadStream(input.file).once('error', reject).pipe(child.stdin);
    } else if (input?.tarDir) {
      const tar = spawn('tar', ['-C', input.tarDir, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
      tar.stdout.pipe(child.stdin);
    } else child.stdin.end();
  });
}

t.before(async () => {
  home = mkdtempSync(join(tmpdir(), 'browser-drive-provisioned-'));
  env = { FORKLIFT_HOME: home, FORKLIFT_IMAGE_CACHE: process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images' };
  await execFileAsync(BUSYBOX, ['true']).catch(() => {
    throw new Error(`${BUSYBOX} is missing: apt-get install busybox-static`);
  });
});

t.teardown(async () => {
  if (node && httpdPid) await ssh(node, `kill ${httpdPid}`).catch(() => undefined);
  await provisionNodes({ service: 'netns', count: 0, group: 'web', home, env, log: () => undefined }).catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
});

t.test('browser-drive - a step script drives pages served by a provisioned netns node, addressed by its node record', async (t) => {
  const nodes = await provisionNodes({ service: 'netns', count: 1, group: 'web', home, env, log: (line) => t.comment(line) });
  node = nodes[0];
  t.ok(node && node.address !== '127.0.0.1', `a node on the tool's bridge (${node?.address})`);
  await ssh(node!, 'mkdir -p /srv/www /usr/local/bin && tar -C /srv/www -xf -', { tarDir: PAGES_DIR });
  await ssh(node!, 'cat > /usr/local/bin/busybox && chmod 755 /usr/local/bin/busybox', { file: BUSYBOX });
  httpdPid = (await ssh(node!, `nohup /usr/local/bin/busybox httpd -f -p ${PORT} -h /srv/www >/dev/null 2>&1 & echo $!`)).trim();
  t.match(httpdPid, /^\d+$/, 'httpd started on the node');

  const script = join(home, 'shop.json5');
  writeFileSync(
    script,
    `{
      name: 'shop-on-provisioned-node',
      steps: [
        { open: { node: { group: 'web' }, port: ${PORT}, path: '/index.html' } },
        { expectTitle: { equals: 'Forklift shop' } },
        { click: { link: 'Select' } },
        { select: '#warehouse', option: 'Lisbon' },
        { expectText: { equals: 'lis:Lisbon' }, in: '#chosen' },
        { expectUrl: 'http://${node!.address}:${PORT}/select.html' },
      ],
    }`,
  );
  const result = await runCli([script, '--screenshots', join(home, 'shots')], { stdin: JSON.stringify(node) + '\n' });
  t.equal(result.code, 0, result.stderr);
  t.same(result.records[0], node, 'the node record passes through first');
  const steps = result.records.filter((record) => record.kind === 'step');
  t.same(
    steps.map((step) => step.status),
    Array(6).fill('passed'),
  );
  t.equal(steps[0].step, `open http://${node!.address}:${PORT}/index.html`);
  t.same(result.descendants.filter(isAlive), [], 'no browser process left');
});
