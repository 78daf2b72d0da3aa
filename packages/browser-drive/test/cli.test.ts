import t, { type Test } from 'tap';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { descendantPids, isAlive } from '../src/processes.js';
import { PAGES_DIR, startPageServer, type PageServer } from './page-server.js';
import { runCli, runInProcess, startCli } from './run-cli.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/browser-drive.js', import.meta.url));

const scripts = join(PAGES_DIR, 'scripts');
let server: PageServer;
let work: string;

t.before(async () => {
  server = await startPageServer();
  work = mkdtempSync(join(tmpdir(), 'browser-drive-cli-test-'));
  // started as root, browser-drive runs the browser and the driver as nobody: the stand-ins written here must be reachable
  chmodSync(work, 0o755);
});
t.teardown(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Checks a file is a PNG: the 8-byte signature, then an IHDR chunk with a non-zero size. */
function assertPng(t: Test, path: string): void {
  const png = readFileSync(path);
  t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${path} has the PNG signature`);
  t.equal(png.readUInt32BE(8), 13, 'IHDR length 13');
  t.equal(png.subarray(12, 16).toString('latin1'), 'IHDR', 'first chunk is IHDR');
  t.ok(png.readUInt32BE(16) > 0 && png.readUInt32BE(20) > 0, `non-empty image ${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`);
}

const webNode = {
  v: 1,
  kind: 'node',
  id: 'web-1',
  group: 'web',
  service: 'local',
  provider: 'nspawn',
  address: '127.0.0.1',
  port: 22,
  user: 'root',
  state: 'running',
};

t.test('browser-drive - a passing script exits 0, re-emits nodes, one record per step, no process left, no download attempted', async (t) => {
  const home = join(work, 'home');
  const shots = join(work, 'shots-pass');
  const result = await runCli([join(scripts, 'login.json5'), '--base-url', server.url, '--screenshots', shots], {
    stdin: JSON.stringify(webNode) + '\n',
    // Selenium Manager would run from here (and cache under HOME) if the driver path were not explicit
    env: { SE_MANAGER_PATH: '/nonexistent/selenium-manager', HOME: home },
  });
  t.equal(result.code, 0, result.stderr);
  t.same(result.records[0], webNode, 'the node record comes first, unchanged');
  const steps = result.records.filter((record) => record.kind === 'step');
  t.equal(steps.length, 18);
  t.same(
    steps.map((step) => [step.index, step.status]),
    steps.map((_, index) => [index, 'passed']),
  );
  t.match(steps[0], { script: 'login', step: `open ${server.url}/index.html` });
  t.match(steps[14], { step: /^execute /, result: 3 });
  t.equal(steps[15].screenshot, join(shots, 'welcome.png'));
  assertPng(t, join(shots, 'welcome.png'));
  t.match(result.records.at(-1), { kind: 'summary', tool: 'browser-drive', ok: true, counts: { passed: 18, failed: 0, skipped: 0 } });
  t.ok(result.descendants.length >= 2, `saw the driver and browser processes (${result.descendants.length})`);
  t.same(result.descendants.filter(isAlive), [], 'no chromium or chromedriver process left');
  t.notOk(existsSync(join(home, '.cache', 'selenium')), 'no Selenium Manager cache created');
});

t.test('browser-drive - a failing step exits 1 with a PNG screenshot and page source; later steps skipped', async (t) => {
  const shots = join(work, 'shots-fail');
  const result = await runCli([join(scripts, 'failing.json5'), '--base-url', server.url, '--screenshots', shots, '--timeout', '3']);
  t.equal(result.code, 1, result.stderr);
  const steps = result.records.filter((record) => record.kind === 'step');
  t.same(
    steps.map((step) => step.status),
    ['passed', 'passed', 'failed', 'skipped', 'skipped'],
  );
  const failed = steps[2];
  const screenshot = join(shots, 'failing-step3-failed.png');
  const pageSource = join(shots, 'failing-step3-failed.html');
  t.equal(failed.screenshot, screenshot);
  t.equal(failed.pageSource, pageSource);
  t.equal(
    failed.error,
    `step 3 (steps[2], expectText "Hovercraft" in h1) failed: expected text "Hovercraft" in h1, found "Forklift shop"; screenshot ${screenshot}, page source ${pageSource}`,
  );
  assertPng(t, screenshot);
  t.match(readFileSync(pageSource, 'utf8'), /<h1>Forklift shop<\/h1>/);
  t.match(result.records.at(-1), { kind: 'summary', ok: false, counts: { passed: 2, failed: 1, skipped: 2 } });
  t.same(result.descendants.filter(isAlive), [], 'no chromium or chromedriver process left');
  t.match(result.stderr, `browser-drive: ${failed.error}\n`, 'the failed step, numbered from 1, on stderr');
  t.match(result.stderr, /browser-drive: failing: 2 passed, 1 failed, 2 skipped \(of 5 steps\)\n$/);
});

/** PIDs of the processes whose environment holds `marker` (every process a run started inherits it, reparented or not). */
function processesWithMarker(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(marker)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

t.test('browser-drive - when it exits, every process it started is gone (renderers, zygotes, crash handlers included)', async (t) => {
  for (let round = 1; round <= 3; round += 1) {
    // a directory that does not exist at the end of PATH: harmless, and PATH is one of the few variables a browser
    // run as another account still gets from the caller (it is inherited by every process of the run)
    const path = `${process.env.PATH}:/nonexistent/browser-drive-test-${process.pid}-${round}`;
    const marker = `PATH=${path}`;
    // the built binary (no tsx, whose esbuild helper would carry the marker too)
    const child = spawn(
      process.execPath,
      [BIN, join(scripts, 'failing.json5'), '--base-url', server.url, '--screenshots', join(work, `shots-gone-${round}`), '--timeout', '3'],
      {
        env: { ...process.env, NODE_OPTIONS: '', PATH: path },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    let seenWhileRunning = 0;
    const poll = setInterval(() => (seenWhileRunning = Math.max(seenWhileRunning, processesWithMarker(marker).length)), 100);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    const left = processesWithMarker(marker);
    clearInterval(poll);
    t.equal(code, 1, stderr);
    t.ok(seenWhileRunning >= 3, `round ${round}: the marker finds the run's processes while it runs (${seenWhileRunning})`);
    t.same(left, [], `round ${round}: nothing left at the moment it exited`);
  }
});

t.test('browser-drive - script errors exit 65 naming step and field before any browser starts', async (t) => {
  const marker = join(work, 'driver-started');
  const fakeDriver = join(work, 'fake-chromedriver');
  writeFileSync(fakeDriver, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`);
  chmodSync(fakeDriver, 0o755);
  const env = { FORKLIFT_CHROMEDRIVER: fakeDriver };
  const bad = await runInProcess([join(scripts, 'bad.json5')], { env });
  t.equal(bad.code, 65);
  t.equal(
    bad.stderr,
    `browser-drive: ${join(scripts, 'bad.json5')}: step 2 (steps[1]): unknown step "clik" (steps: ${'open, click, fill, clear, select, check, uncheck, submit, press, waitFor, expectText, expectTitle, expectUrl, expectVisible, expectCount, screenshot, execute, back, forward, refresh, frame, window, setCookie, deleteCookie, deleteCookies, expectCookie, acceptAlert, dismissAlert'})\n`,
  );
  const missing = join(work, 'missing-field.json5');
  writeFileSync(missing, "{ steps: [{ open: 'about:blank' }, { click: '#a' }, { fill: '#email' }] }");
  const noField = await runInProcess([missing], { env });
  t.equal(noField.code, 65);
  t.equal(noField.stderr, `browser-drive: ${missing}: step 3 (steps[2], fill): field "with": missing, expected the text to type (a string)\n`);
  const noNode = await runInProcess([join(scripts, 'node.json5')], { env });
  t.equal(noNode.code, 65);
  t.match(
    noNode.stderr,
    /^browser-drive: node-web: step 1 \(steps\[0\], open\): field "open\.node": no running node number 0 in group "web" in the input \(that group has 0\)\n$/,
  );
  t.notOk(existsSync(marker), 'the driver was never started');
  t.same(
    bad.records.map((record) => record.kind),
    ['error', 'summary'],
  );
});

t.test('browser-drive - a driver or browser that dies at start exits 69 and leaves no process behind', async (t) => {
  // the browser and the driver start side by side: when one fails, the other is ended too
  const deadDriver = join(work, 'dead-chromedriver');
  writeFileSync(deadDriver, '#!/bin/sh\necho "cannot bind: address in use" >&2\nexit 3\n');
  chmodSync(deadDriver, 0o755);
  const noDriver = await runCli([join(scripts, 'failing.json5'), '--base-url', server.url], { env: { FORKLIFT_CHROMEDRIVER: deadDriver } });
  t.equal(noDriver.code, 69, noDriver.stderr);
  t.match(noDriver.stderr, /^browser-drive: chromedriver exited early \(status 3\): cannot bind: address in use\n$/);
  t.same(noDriver.descendants.filter(isAlive), [], 'no chromium process left');
  const deadBrowser = join(work, 'dead-chromium');
  writeFileSync(deadBrowser, '#!/bin/sh\necho "Trace/breakpoint trap: no usable GPU" >&2\nexit 5\n');
  chmodSync(deadBrowser, 0o755);
  const noBrowser = await runCli([join(scripts, 'failing.json5'), '--base-url', server.url, '--chromium', deadBrowser]);
  t.equal(noBrowser.code, 69, noBrowser.stderr);
  t.match(noBrowser.stderr, /^browser-drive: chromium \(.*dead-chromium\) exited early \(status 5\): Trace\/breakpoint trap: no usable GPU\n$/);
  t.same(noBrowser.descendants.filter(isAlive), [], 'no chromedriver process left');
});

t.test('browser-drive - a missing browser or driver exits 69 with the apt command', async (t) => {
  const childrenBefore = descendantPids(process.pid);
  const noBrowser = await runInProcess([join(scripts, 'failing.json5'), '--base-url', server.url], { env: { FORKLIFT_CHROMIUM: '/nonexistent/chromium' } });
  t.equal(noBrowser.code, 69);
  t.equal(
    noBrowser.stderr,
    'browser-drive: chromium not found or not executable at /nonexistent/chromium: install it with: apt-get install chromium chromium-driver (or set FORKLIFT_CHROMIUM)\n',
  );
  const noDriver = await runInProcess([join(scripts, 'failing.json5'), '--base-url', server.url, '--chromedriver', '/nonexistent/chromedriver']);
  t.equal(noDriver.code, 69);
  t.match(
    noDriver.stderr,
    /chromedriver not found or not executable at \/nonexistent\/chromedriver: install it with: apt-get install chromium chromium-driver/,
  );
  const headed = await runInProcess([join(scripts, 'failing.json5'), '--base-url', server.url, '--headed'], { env: { DISPLAY: '', WAYLAND_DISPLAY: '' } });
  t.equal(headed.code, 69);
  t.match(headed.stderr, /--headed needs a display/);
  t.same(
    descendantPids(process.pid).filter((pid) => !childrenBefore.includes(pid)),
    [],
    'nothing was started',
  );
});

t.test('browser-drive - usage errors exit 64', async (t) => {
  const firefox = await runInProcess([join(scripts, 'failing.json5'), '--browser', 'firefox']);
  t.equal(firefox.code, 64);
  t.equal(firefox.stderr, 'browser-drive: --browser firefox: only chrome (chromium) is supported (see browser-drive --help)\n');
  const timeout = await runInProcess([join(scripts, 'failing.json5'), '--timeout', 'soon']);
  t.equal(timeout.code, 64);
  const negative = await runInProcess([join(scripts, 'failing.json5'), '--timeout', '-1']);
  t.equal(negative.code, 64);
  t.equal(negative.stderr, 'browser-drive: --timeout must be positive (seconds), got "-1" (see browser-drive --help)\n');
  const none = await runInProcess([]);
  t.equal(none.code, 64);
  t.equal(none.stderr, 'browser-drive: missing SCRIPT argument (see browser-drive --help)\n');
  for (const run of [firefox, timeout, negative, none]) t.equal(run.stdout, '', 'a usage error writes no records');
});

t.test('browser-drive - SIGINT during a step ends the run with 130 and leaves no browser process or profile', async (t) => {
  const run = startCli([join(scripts, 'slow.json5'), '--base-url', server.url, '--screenshots', join(work, 'shots-int')]);
  const deadline = Date.now() + 60_000;
  while (!run.stdout().includes('"index":0') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.match(run.stdout(), /"status":"passed"/, 'the first step passed');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const live = descendantPids(run.child.pid!);
  const profileArg = live
    .map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
          .split('\0')
          .find((arg) => arg.startsWith('--user-data-dir='));
      } catch {
        return undefined;
      }
    })
    .find(Boolean);
  t.ok(profileArg, 'the browser runs with its own profile');
  run.child.kill('SIGINT');
  const result = await run.result;
  t.equal(result.code, 130, result.stderr);
  const steps = result.records.filter((record) => record.kind === 'step');
  t.same(
    steps.map((step) => step.status),
    ['passed', 'failed', 'skipped'],
  );
  t.match(steps[1].error, /interrupted \(SIGINT\)/);
  t.match(result.records.at(-1), { kind: 'summary', ok: false });
  t.same(result.descendants.filter(isAlive), [], 'no chromium or chromedriver process left');
  t.notOk(existsSync(profileArg!.slice('--user-data-dir='.length)), 'profile removed');
});
