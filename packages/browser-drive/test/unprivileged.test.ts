// Started as root, browser-drive ran Chromium with --no-sandbox and its DevTools port (and chromedriver's WebDriver
// port, which can start any program as its "browser") open to every local user: driving them was driving root
// (issue 12 item 11). As root, both now run as nobody: whoever reaches those ports gets nobody's rights.
import t from 'tap';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_BROWSER_UID, launchChromium } from '../src/index.js';

process.env.SE_MANAGER_PATH = '/nonexistent/selenium-manager';
const run = promisify(execFile);

t.test('browser-drive as root - chromium and chromedriver run as nobody; a root-only file stays unreadable to them', async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this test checks what happens when browser-drive is started as root: run it as root');
  const secret = `/root/.browser-drive-secret-${randomBytes(4).toString('hex')}`;
  const token = `ROOTONLY${randomBytes(6).toString('hex')}`;
  writeFileSync(secret, `${token}\n`, { mode: 0o600 });
  t.teardown(() => rmSync(secret, { force: true }));
  const session = await launchChromium();
  t.teardown(() => session.close());
  const uidOf = (pid: number): number | undefined => {
    try {
      return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    } catch {
      return undefined;
    }
  };
  const uids = session
    .pids()
    .map(uidOf)
    .filter((uid) => uid !== undefined);
  t.ok(uids.length >= 2, 'the driver and the browser are running');
  t.same([...new Set(uids)], [DEFAULT_BROWSER_UID], 'every browser and driver process runs as nobody');
  await session.driver.get(`file://${secret}`);
  t.notMatch(await session.driver.getPageSource(), token, "the browser cannot read root's files");
});

// The attack itself: chromedriver's WebDriver port takes no password, and a new session may name any program as
// the browser binary. A local user who finds the port makes the driver run their program; it must not run as root.
t.test('browser-drive as root - a program planted through the open WebDriver port runs as nobody, not root', async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this test checks what happens when browser-drive is started as root: run it as root');
  const dir = mkdtempSync(join(tmpdir(), 'browser-drive-planted-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o1777);
  const planted = join(dir, 'planted.sh');
  const out = join(dir, 'ran-as');
  writeFileSync(planted, `#!/bin/sh\nid -u >'${out}'\nexit 1\n`, { mode: 0o755 });
  const session = await launchChromium();
  t.teardown(() => session.close());
  const driverPid = session.pids().find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'chromedriver';
    } catch {
      return false;
    }
  });
  if (driverPid === undefined) throw new Error('no chromedriver process in the session');
  const { stdout } = await run('ss', ['-ltnpH']);
  const port = new RegExp(`127\\.0\\.0\\.1:(\\d+) .*pid=${driverPid},`).exec(stdout)?.[1];
  if (port === undefined) throw new Error(`chromedriver ${driverPid} listens on no loopback port:\n${stdout}`);
  // what any local user can send: no credentials, a browser binary of their choosing
  const body = JSON.stringify({ capabilities: { alwaysMatch: { browserName: 'chrome', 'goog:chromeOptions': { binary: planted, args: [] } } } });
  await fetch(`http://127.0.0.1:${port}/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(60_000),
  })
    .then((response) => response.text())
    .catch(() => undefined);
  t.equal(readFileSync(out, 'utf8').trim(), String(DEFAULT_BROWSER_UID), 'the planted program ran as nobody');
});
