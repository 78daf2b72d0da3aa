// Pure parts of promote-color (no nodes): flag values, HAProxy's stats, windows, the shared layout,
// and the CLI's usage and input errors, which stop before any connection.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { main } from '@forklift/contract';
import {
  appLayout,
  colorServers,
  parseDuration,
  parseRate,
  parseShowStat,
  parseStages,
  promoteColorTool,
  renderFragment,
  renderStagingMap,
  serverWeight,
  sharesOf,
  stageShares,
  weightVariable,
  windowBetween,
  windowProblem,
} from '../src/index.js';
import { healthScript, lockScript, persistScript, preflightScript } from '../src/remote.js';

const csv = readFileSync(new URL('./fixtures/show-stat.csv', import.meta.url), 'utf8');

async function run(argv: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (add: (text: string) => void) => new Writable({ write: (chunk, _encoding, done) => (add(String(chunk)), done()) });
  const code = await main(promoteColorTool, argv, {
    stdin: Readable.from([input]),
    stdout: sink((text) => (stdout += text)),
    stderr: sink((text) => (stderr += text)),
    env: {},
  });
  return { code, stdout, stderr };
}

const node = (id: string, group: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    v: 1,
    kind: 'node',
    id,
    group,
    service: 'local',
    provider: 'nspawn',
    address: '192.0.2.1',
    port: 22,
    user: 'root',
    state: 'running',
    ...extra,
  });

t.test('flags - stages must increase from 1 to 100 and end at 100', async (t) => {
  t.same(parseStages('10,50,100'), [10, 50, 100]);
  t.same(parseStages('25%, 100%'), [25, 100]);
  t.same(parseStages('100'), [100]);
  t.throws(() => parseStages('10,50'), /must end at 100/);
  t.throws(() => parseStages('50,10,100'), /must increase/);
  t.throws(() => parseStages('0,100'), /from 1 to 100/);
  t.throws(() => parseStages('ten,100'), /from 1 to 100/);
});

t.test('flags - durations and rates', async (t) => {
  t.equal(parseDuration('10s', '--hold'), 10_000);
  t.equal(parseDuration('500ms', '--hold'), 500);
  t.equal(parseDuration('2m', '--hold'), 120_000);
  t.equal(parseDuration('1.5', '--hold'), 1500);
  t.throws(() => parseDuration('soon', '--hold'), /--hold must be a duration/);
  t.equal(parseRate('0.1%', '--max-error-rate'), 0.001);
  t.equal(parseRate('0.05', '--max-error-rate'), 0.05);
  t.throws(() => parseRate('2', '--max-error-rate'), /percentage/);
  t.throws(() => parseRate('-1%', '--max-error-rate'), /percentage/);
});

t.test('stats - show stat of a real HAProxy: colors, servers, weights, checks', async (t) => {
  const { table, preamble } = parseShowStat(`\n${csv}`);
  t.equal(preamble, '');
  const layout = appLayout('shop', table)!;
  t.same(
    [...layout.colors],
    [
      ['blue', ['web-1']],
      ['green', ['web-2']],
    ],
  );
  const green = colorServers(table, 'shop', 'green');
  t.equal(green.checked[0]!.status, 'DOWN');
  t.equal(green.checked[0]!.checkStatus, 'L4CON');
  t.equal(green.live[0]!.weight, 100);
  t.same(sharesOf(layout, table), [
    { color: 'blue', weight: 50 },
    { color: 'green', weight: 50 },
  ]);
  t.equal(appLayout('other', table), undefined, 'an app without a live backend is not there');
  t.throws(() => parseShowStat('Unknown command.\n'), /did not answer "show stat"/);
  t.equal(parseShowStat(`No such server.\n${csv}`).preamble, 'No such server.');
});

t.test('window - counters between two looks, a reset counts from zero', async (t) => {
  t.same(windowBetween([{ requests: 100, errors: 1 }], [{ requests: 1100, errors: 3 }]), { requests: 1000, errors: 2, errorRate: 0.002 });
  t.same(
    windowBetween(
      [
        { requests: 100, errors: 1 },
        { requests: 0, errors: 0 },
      ],
      [
        { requests: 40, errors: 0 },
        { requests: 10, errors: 0 },
      ],
    ),
    { requests: 50, errors: 0, errorRate: 0 },
  );
  t.same(windowBetween([{ requests: 0, errors: 0 }], [{ requests: 0, errors: 0 }]), { requests: 0, errors: 0, errorRate: 0 });
  t.equal(
    windowProblem({ requests: 1000, errors: 2, errorRate: 0.002 }, 'green', 0.001, 0, false),
    'green error rate 0.2% (2 of 1000 requests) is above --max-error-rate 0.1%',
  );
  t.equal(windowProblem({ requests: 1000, errors: 1, errorRate: 0.001 }, 'green', 0.001, 0, true), undefined);
  t.equal(windowProblem({ requests: 5, errors: 0, errorRate: 0 }, 'green', 0.001, 10, false), undefined, 'too few requests only fails the final look');
  t.match(windowProblem({ requests: 5, errors: 0, errorRate: 0 }, 'green', 0.001, 10, true), /fewer than --min-requests 10/);
});

t.test('layout - per-server weights share 200 per color; fragment and staging map', async (t) => {
  t.equal(serverWeight(10, 1), 20);
  t.equal(serverWeight(90, 1), 180);
  t.equal(serverWeight(50, 2), 50);
  t.equal(serverWeight(1, 3), 1, 'a color that takes any traffic keeps at least weight 1');
  t.equal(serverWeight(0, 2), 0);
  t.same(stageShares(['blue', 'green'], 'blue', 'green', 10), [
    { color: 'blue', weight: 90 },
    { color: 'green', weight: 10 },
  ]);
  t.equal(weightVariable('wine-cellar', 'blue'), 'FORKLIFT_wine_cellar_blue_WEIGHT');
  t.equal(
    renderFragment('shop', { green: 20, blue: 180 }),
    '# promote-color state for shop: per-server weights of each color (written atomically; do not edit)\nglobal\n    setenv FORKLIFT_shop_blue_WEIGHT 180\n    setenv FORKLIFT_shop_green_WEIGHT 20\n',
  );
  t.equal(renderStagingMap('shop', 'green'), 'staged shop_green\n');
});

t.test('cli - usage errors are exit 64 with one line', async (t) => {
  const lb = node('lb-1', 'lb') + '\n';
  for (const [argv, message] of [
    [['shop'], /missing --to COLOR/],
    [['shop', '--to', 'Green!'], /--to must name a color/],
    [['shop', '--to', 'green', '--stages', '10,50'], /must end at 100/],
    [['shop', '--to', 'green', '--hold', 'forever'], /--hold must be a duration/],
    [['shop', '--status', '--rollback'], /--status cannot be combined/],
    [['shop', '--status', '--hold', '5s'], /only applies to a promotion/],
    [['shop', '--to', 'green', '--fast'], /unknown option --fast/],
    [['sh op', '--to', 'green'], /APP must be a name/],
  ] as const) {
    const result = await run([...argv], lb);
    t.equal(result.code, 64, `${argv.join(' ')}: exit 64`);
    t.match(result.stderr, message);
    t.equal(result.stderr.trim().split('\n').length, 1, 'one line');
  }
});

t.test('cli - no LB node on stdin, or a color no node has: exit 65 before any connection', async (t) => {
  const noLb = await run(['shop', '--to', 'green'], node('blue-web-1', 'blue-web', { color: 'blue', roles: ['web'] }) + '\n');
  t.equal(noLb.code, 65);
  t.equal(
    noLb.stderr,
    'promote-color: no LB node on stdin: no running node of group "lb" and none with role lb (pipe the load balancer\'s node records in, or name its group with --lb GROUP)\n',
  );
  const wrongGroup = await run(['shop', '--to', 'green', '--lb', 'balancers'], node('lb-1', 'lb') + '\n');
  t.equal(wrongGroup.code, 65);
  t.match(wrongGroup.stderr, /no running node of group "balancers"/);
  // 192.0.2.1 (TEST-NET) is never contacted: the color check comes first
  const purple = await run(
    ['shop', '--to', 'purple'],
    [node('lb-1', 'lb'), node('blue-web-1', 'blue-web', { color: 'blue' }), node('green-web-1', 'green-web', { color: 'green' })].join('\n') + '\n',
  );
  t.equal(purple.code, 65);
  t.equal(purple.stderr, 'promote-color: unknown color "purple": the node records on stdin have colors blue, green\n');
  const records = purple.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { kind: string });
  t.same(
    records.map((r) => r.kind),
    ['node', 'node', 'node', 'error', 'summary'],
    'nodes pass through, then the error and the summary',
  );
});

t.test('cli - --help and --version', async (t) => {
  const help = await run(['--help'], '');
  t.equal(help.code, 0);
  t.match(help.stdout, /promote-color APP --to COLOR/);
  t.match(help.stdout, /Exit codes/);
  const version = await run(['--version'], '');
  t.match(version.stdout, /^promote-color \d+\.\d+\.\d+/);
});

t.test('remote scripts - every script run on an LB node passes shellcheck (POSIX sh)', async (t) => {
  const scripts = {
    preflight: preflightScript('wine-cellar'),
    lock: lockScript('wine-cellar', "promote-color pid 1 on it's host"),
    persist: persistScript({ '/var/lib/forklift/promote/wine-cellar.json': '{"a": "EOF\\n$(rm -rf /)"}\n', '/var/lib/haproxy/server-state': '1\n# be_id\n' }),
    health: healthScript(['10.0.0.3:80', '10.0.0.4:80'], '/healthz'),
  };
  for (const [name, script] of Object.entries(scripts)) {
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = execFile('shellcheck', ['-s', 'sh', '-'], (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
      child.stdin!.end(script);
    });
    if (result.code === 127 || /ENOENT/.test(result.out)) throw new Error('shellcheck is missing: apt-get install shellcheck');
    t.equal(result.code, 0, `${name}: ${result.out}`);
  }
  t.match(
    scripts.persist,
    /<<'PROMOTE_[0-9a-f]{18}'\n\{"a": "EOF\\n\$\(rm -rf \/\)"\}\nPROMOTE_[0-9a-f]{18}\n/,
    'content goes through a quoted here-document with a random delimiter',
  );
});

t.test('health script - answers from a proxy that drops a request when the client half-closes (nginx)', async (t) => {
  // like nginx in front of an app: the answer comes a moment after the request (the upstream's time);
  // a client that shut its side down meanwhile is taken for an abort and gets no answer at all
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    let request = '';
    let aborted = false;
    socket.on('end', () => {
      if (!request.includes('\r\n\r\n')) return;
      aborted = true;
      socket.destroy();
    });
    socket.on('data', (chunk) => {
      request += String(chunk);
      if (!request.includes('\r\n\r\n')) return;
      setTimeout(() => {
        if (aborted) return;
        const status = request.startsWith('GET /healthz ') ? '200 OK' : '404 Not Found';
        socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok`);
      }, 50);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as { port: number };
  const target = `127.0.0.1:${port}`;
  const run = (path: string) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      execFile('sh', ['-c', healthScript([target], path)], { timeout: 20_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
    });
  const which = await new Promise<boolean>((resolve) => execFile('sh', ['-c', 'command -v socat'], (error) => resolve(!error)));
  if (!which) throw new Error('socat is missing: apt-get install socat');
  t.same(await run('/healthz'), { code: 0, out: `${target} 200\n` }, 'the answer is read: the request is not cut short');
  t.same(await run('/other'), { code: 0, out: `${target} 404\n` });
});
