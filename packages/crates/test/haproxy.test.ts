// The haproxy crate: its configuration rendered from the node records, bad options (exit 65), and on
// real nspawn nodes: converge, converge again -> 0 changed, --plan -> 0 changes, HTTP through the live
// and staging frontends, a configuration that fails `haproxy -c` never replaces the running one, and a
// converge after a promotion keeps the traffic where promote-color put it.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NodeRecord } from '@forklift/contract';
import { renderPlans, type SpecContext } from '@forklift/render-crate';
import { sshTransport } from '@forklift/run-actions';
import { runBinary } from '@forklift/testkit';
import { testEnv, testNodes } from './helpers/nodes.js';
import { haproxy, haproxyConfig, haproxyOptions, lbServers } from '../src/index.js';

const execFileAsync = promisify(execFile);
const FIXTURES = join(import.meta.dirname, 'fixtures', 'haproxy');
const BUSYBOX = '/bin/busybox';

function node(id: string, fields: Partial<NodeRecord> = {}): NodeRecord {
  return {
    v: 1,
    kind: 'node',
    id,
    group: id.replace(/-\d+$/, ''),
    service: 'local',
    provider: 'nspawn',
    address: '10.0.0.2',
    port: 22,
    user: 'root',
    state: 'running',
    os: { family: 'debian', release: '12' },
    ...fields,
  } as NodeRecord;
}

const fakeNodes = [
  node('lb-1', { address: '10.0.0.2' }),
  node('blue-web-1', { address: '10.0.0.3', color: 'blue', roles: ['web'] }),
  node('green-web-1', { address: '10.0.0.4', color: 'green', roles: ['web'] }),
  node('green-web-2', { address: '10.0.0.5', color: 'green', roles: ['web'] }),
  node('blue-app-1', { address: '10.0.0.6', color: 'blue', roles: ['app'] }),
];

t.test('haproxy - the configuration: live backend tracks the color backends, weights from the fragment, staging by map', async (t) => {
  const options = haproxyOptions.parse({ app: 'shop' });
  const config = haproxyConfig(options, lbServers(fakeNodes, 'web', 80));
  t.match(config, /\.if !defined\(FORKLIFT_shop_blue_WEIGHT\)\n {4}\.alert /, 'refuses to load without the weights fragment');
  t.match(config, /stats socket \/run\/haproxy\/admin\.sock mode 660 level admin/);
  t.match(config, /server-state-file \/var\/lib\/haproxy\/server-state/);
  t.match(config, /load-server-state-from-file global/);
  t.match(config, /frontend shop\n {4}bind :80\n {4}default_backend shop\n/);
  t.match(
    config,
    /frontend shop_staging\n {4}bind :8080\n {4}# .*\n {4}use_backend %\[str\(staged\),map\(\/var\/lib\/forklift\/promote\/shop\.map\)\]\n {4}default_backend shop_green\n/,
  );
  t.match(config, /server green-web-2 10\.0\.0\.5:80 weight "\$\{FORKLIFT_shop_green_WEIGHT\}" track shop_green\/green-web-2\n/);
  t.match(
    config,
    /backend shop_blue\n(.*\n)* {4}http-check send meth GET uri \/healthz ver HTTP\/1\.1 hdr Host shop\n {4}http-check expect status 200\n {4}server blue-web-1 10\.0\.0\.3:80 check\n/,
  );
  t.notMatch(config, /blue-app-1/, 'only the servers of the server role');
});

t.test('haproxy - rendered through render-crate from the node records (ctx.nodes), byte-stable', async (t) => {
  const spec = haproxy({ app: 'shop', live: 'green' });
  const first = await renderPlans(spec, [fakeNodes[0]!], { allNodes: fakeNodes });
  const again = await renderPlans(spec, [fakeNodes[0]!], { allNodes: [...fakeNodes].reverse() });
  t.equal(first[0]!.script, again[0]!.script, 'the order of the node records does not matter');
  t.match(first[0]!.script, /setenv FORKLIFT_shop_green_WEIGHT 100/, 'two green servers share 200; an LB without state starts with the live option');
  t.match(first[0]!.script, /staged shop_blue/);
  const ids = first[0]!.actions.map((a) => a.id);
  t.ok(ids.indexOf('haproxy-check') < ids.indexOf('haproxy-config'), 'the check runs before the file is replaced');
  const spec0 = (spec.phases!.configure as (ctx: SpecContext) => unknown[])({
    node: fakeNodes[0]!,
    facts: { family: 'debian' },
    settings: {},
    nodes: fakeNodes,
  } as unknown as SpecContext);
  t.ok(Array.isArray(spec0));
});

t.test('haproxy - bad options are exit 65 naming the spec file, the crate and the field; nothing runs', async (t) => {
  const input = JSON.stringify(fakeNodes[0]) + '\n';
  for (const [file, message] of [
    ['bad-color', /bad-color\.json5 extends\[0\] \(haproxy\): options\.live: .*"blue"\|"green"/],
    ['bad-port', /bad-port\.json5 extends\[0\] \(haproxy\): options\.stagingPort: .*expected number/],
    ['no-app', /no-app\.json5 extends\[0\] \(haproxy\): options\.app: missing/],
  ] as const) {
    const result = await runBinary('render-crate', [join(FIXTURES, 'groups', file)], { stdin: input });
    t.equal(result.exitCode, 65, file);
    t.match(result.stderr, message);
    t.equal(result.stderr.trim().split('\n').length, 1, 'one line');
  }
});

// ---- real nodes (the crate tests' shared forklift home and apt cache: helpers/nodes.ts) ----

const GROUPS = [
  { group: 'crate-haproxy-lb', count: 1, roles: ['lb'] },
  { group: 'crate-haproxy-blue', count: 1, color: 'blue', roles: ['web'] },
  { group: 'crate-haproxy-green', count: 1, color: 'green', roles: ['web'] },
];

async function sh(target: NodeRecord, command: string, stdin?: string | Buffer): Promise<string> {
  const transport = await sshTransport(target);
  try {
    let out = '';
    let err = '';
    const result = await transport.exec(command, { stdin, onStdout: (c) => (out += c), onStderr: (c) => (err += c) });
    if (result.exitCode !== 0) throw new Error(`${target.id}: ${command.slice(0, 80)}: exit ${result.exitCode}: ${err.trim()}`);
    return out;
  } finally {
    await transport.close();
  }
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.text() };
}

t.test(
  'haproxy - on real nodes: converge, again 0 changed, --plan 0 changes, HTTP through both frontends, checks before replacing, no traffic moved',
  async (t) => {
    await execFileAsync(BUSYBOX, ['true']).catch(() => {
      throw new Error(`${BUSYBOX} is missing: apt-get install busybox-static`);
    });
    const nodes: NodeRecord[] = [];
    for (const group of GROUPS) nodes.push(...(await testNodes(t, group)));
    const [lb, blue, green] = nodes as [NodeRecord, NodeRecord, NodeRecord];
    t.equal(blue.color, 'blue');
    // a static web server on each web node: / names its color, /healthz answers 200
    const busybox = readFileSync(BUSYBOX);
    for (const web of [blue, green]) {
      await sh(web, 'mkdir -p /srv/www /usr/local/bin && cat > /usr/local/bin/busybox && chmod 755 /usr/local/bin/busybox', busybox);
      await sh(
        web,
        `echo ${web.color} > /srv/www/index.html && echo ok > /srv/www/healthz && systemd-run --unit=fl-web /usr/local/bin/busybox httpd -f -p 80 -h /srv/www`,
      );
    }
    const stdin = nodes.map((n) => JSON.stringify(n)).join('\n') + '\n';
    const spec = join(FIXTURES, 'groups', 'lb');
    const converge = (ref = spec, args: string[] = []) => runBinary('run-actions', [ref, ...args], { stdin, env: testEnv, timeoutMs: 580_000 });

    const first = await converge();
    t.equal(first.exitCode, 0, first.stderr.slice(-2000));
    const results = first.records.filter((r) => r.kind === 'result');
    t.ok(results.length >= 10 && results.every((r) => r.node === lb.id), 'only the LB node is converged');
    t.ok(results.some((r) => r.id === 'haproxy-config' && r.status === 'changed'));

    const again = await converge();
    t.equal(again.exitCode, 0, again.stderr.slice(-2000));
    t.same(
      again.records.filter((r) => r.kind === 'result' && r.status !== 'ok').map((r) => r.id),
      [],
      'converging again changes nothing',
    );
    const plan = await converge(spec, ['--plan']);
    t.equal(plan.exitCode, 0, plan.stderr.slice(-2000));
    t.same(
      plan.records.filter((r) => r.kind === 'result' && r.status !== 'ok').map((r) => r.id),
      [],
      '--plan reports no change',
    );

    // HAProxy's checks need rise (2) x inter (1 s) before a server is UP
    let live = { status: 0, body: '' };
    for (let i = 0; i < 50 && live.status !== 200; i++) {
      live = await get(`http://${lb.address}/`).catch(() => ({ status: 0, body: '' }));
      if (live.status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    t.same(live, { status: 200, body: 'blue\n' }, 'the live frontend (:80) reaches blue');
    t.same(await get(`http://${lb.address}:8080/`), { status: 200, body: 'green\n' }, 'the staging frontend (:8080) reaches green only');
    t.match(await sh(lb, 'echo "show stat" | socat stdio unix-connect:/run/haproxy/admin.sock | cut -d, -f1,2,18'), `shop_green,${green.id},UP`);
    t.match(
      await sh(lb, 'systemctl show -p ExecReload --value haproxy'),
      /haproxy -Ws -f \$\{FORKLIFT_WEIGHTS\} -f \$CONFIG -c \$EXTRAOPTS/,
      'every reload checks first',
    );

    // a configuration that fails `haproxy -c` never replaces the running one
    const fragment = '/var/lib/forklift/promote/shop.haproxy.cfg';
    const saved = await sh(lb, `cat ${fragment}`);
    const before = await sh(lb, 'sha256sum /etc/haproxy/haproxy.cfg');
    await sh(lb, `printf 'global\\n    no-such-keyword\\n' > ${fragment}`);
    const broken = await converge(join(FIXTURES, 'groups', 'lb-slow'));
    t.equal(broken.exitCode, 1);
    const check = broken.records.find((r) => r.id === 'haproxy-check');
    t.equal(check?.status, 'failed', 'haproxy -c refuses the new configuration');
    t.match(String(check?.stderr), /no-such-keyword/, String(check?.stderr));
    t.equal(await sh(lb, 'sha256sum /etc/haproxy/haproxy.cfg'), before, 'haproxy.cfg is untouched');
    t.same(await get(`http://${lb.address}/`), { status: 200, body: 'blue\n' }, 'HAProxy still serves');
    await sh(lb, `cat > ${fragment}`, saved);

    // promote-color moves all traffic to green; a converge that reloads HAProxy keeps it there
    const promote = await runBinary('promote-color', ['shop', '--to', 'green', '--stages', '100', '--hold', '1s', '--lb', 'crate-haproxy-lb'], {
      stdin,
      env: testEnv,
      timeoutMs: 60_000,
    });
    t.equal(promote.exitCode, 0, promote.stderr);
    t.same(await get(`http://${lb.address}/`), { status: 200, body: 'green\n' });
    const reload = await converge(join(FIXTURES, 'groups', 'lb-slow'));
    t.equal(reload.exitCode, 0, reload.stderr.slice(-2000));
    t.ok(
      reload.records.some((r) => r.id === 'haproxy-reload' && r.status === 'changed'),
      'HAProxy was reloaded with the new configuration',
    );
    for (let i = 0; i < 5; i++) t.same(await get(`http://${lb.address}/`), { status: 200, body: 'green\n' }, 'live traffic stays on green');
    t.same(await get(`http://${lb.address}:8080/`), { status: 200, body: 'blue\n' }, 'staging now reaches blue, the color that is not live');
    t.match(await sh(lb, `echo "get weight shop/${blue.id}" | socat stdio unix-connect:/run/haproxy/admin.sock`), /^0 \(initial 0\)/);
  },
);
