// Started as root, browser-drive ran Chromium with --no-sandbox and its DevTools port (and chromedriver's WebDriver
// port, which can start any program as its "browser") open to every local user: driving them was driving root
// (issue 12 item 11). As root, both now run as nobody: whoever reaches those ports gets nobody's rights.
import t, { type Test } from 'tap';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_BROWSER_UID, isAlive, launchChromium, type Session } from '../src/index.js';
import { PAGES_DIR } from './page-server.js';
import { runCli } from './run-cli.js';

process.env.SE_MANAGER_PATH = '/nonexistent/selenium-manager';
const run = promisify(execFile);

/** An account of /etc/passwd, read here independently of browser-drive's own lookup. */
function passwdEntry(match: (fields: string[]) => boolean): { name: string; uid: number; gid: number } | undefined {
  const fields = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((each) => each.length >= 7 && match(each));
  return fields && { name: fields[0]!, uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** The processes of a session that are still alive, with their /proc status and environment. */
function liveProcesses(session: Session): Array<{ pid: number; comm: string; cmdline: string[]; status: string; environ: string }> {
  const found = [];
  for (const pid of session.pids()) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
      found.push({ pid, comm, cmdline, status, environ });
    } catch {
      // exited since it was seen (a short-lived helper)
    }
  }
  return found;
}

/** The ids on one line of /proc/PID/status (`Uid:`, `Gid:`, `Groups:`). */
function idsOf(status: string, field: 'Uid' | 'Gid' | 'Groups'): number[] {
  const line = new RegExp(`^${field}:(.*)$`, 'm').exec(status);
  if (!line) throw new Error(`no ${field}: line in /proc/PID/status`);
  return line[1]!.trim().split(/\s+/).filter(Boolean).map(Number);
}

/** Asserts the session has a live chromium and a live chromedriver process, and returns every live process. */
function browserAndDriver(t: Test, session: Session): ReturnType<typeof liveProcesses> {
  const live = liveProcesses(session);
  t.ok(
    live.some((each) => each.comm === 'chromium'),
    `a chromium process is running (${live.map((each) => `${each.pid}:${each.comm}`).join(' ')})`,
  );
  t.ok(
    live.some((each) => each.comm === 'chromedriver'),
    'the chromedriver process is running',
  );
  return live;
}

/**
 * The names the test harness adds to the environment of every child this process spawns, even one given an
 * empty environment (tap's process-info hook adds NODE_OPTIONS and _TAPJS_PROCESSINFO_*): not browser-drive's doing.
 */
async function addedToEveryChild(): Promise<Set<string>> {
  const { stdout } = await run('/bin/cat', ['/proc/self/environ'], { env: {} });
  return new Set(
    stdout
      .split('\0')
      .filter(Boolean)
      .map((entry) => entry.slice(0, entry.indexOf('='))),
  );
}

/** Set process.env[name] for this test only. */
function setEnvFor(t: Test, name: string, value: string): void {
  const before = process.env[name];
  process.env[name] = value;
  t.teardown(() => {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  });
}

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

// Any process of the browser's account may read /proc/PID/environ of the browser and of the driver: whatever the caller
// had in its environment (tokens, passwords, secret file paths, an SSH agent socket) must not reach them.
t.test("browser-drive as root - the browser and the driver get an allow-listed environment, never the caller's secrets", async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this test checks what happens when browser-drive is started as root: run it as root');
  if (!process.env.PATH) throw new Error('this test needs PATH set in its environment');
  const canary = `canary-${randomBytes(8).toString('hex')}`;
  setEnvFor(t, 'FORKLIFT_TEST_CANARY_TOKEN', canary);
  setEnvFor(t, 'FORKLIFT_SECRETS_FILE', `/root/${canary}.secret`);
  setEnvFor(t, 'SSH_AUTH_SOCK', `/tmp/ssh-${canary}/agent.1`);
  setEnvFor(t, 'LC_MEASUREMENT', 'C.UTF-8');
  const session = await launchChromium();
  t.teardown(() => session.close());
  const live = browserAndDriver(t, session);
  // what the README's security notes allow, written out here on its own
  const allowed = /^(PATH|HOME|TMPDIR|XDG_CONFIG_HOME|XDG_CACHE_HOME|LANG|LANGUAGE|LC_[A-Z_]+|TZ|FONTCONFIG_FILE|FONTCONFIG_PATH|FONTCONFIG_SYSROOT)$/;
  // the processes browser-drive starts: chromedriver and the browser itself (its helpers have --type=...)
  const harness = await addedToEveryChild();
  t.comment(`added by the test harness to every child: ${[...harness].join(' ') || 'nothing'}`);
  const started = live.filter(({ comm, cmdline }) => comm === 'chromedriver' || (comm === 'chromium' && !/(^| )--type=/.test(cmdline.join(' '))));
  t.equal(started.length, 2, `browser-drive started one browser and one driver: ${started.map(({ pid, comm }) => `${pid}:${comm}`).join(' ')}`);
  for (const { pid, comm, environ } of live) {
    // every process: what any process of that account reads in /proc/PID/environ (chromium's helpers
    // write their process titles over that area, so only the started two show a parseable environment)
    t.notOk(environ.includes(canary), `${comm} ${pid}: the canary is nowhere in /proc/${pid}/environ`);
    t.notOk(environ.includes('SSH_AUTH_SOCK='), `${comm} ${pid}: no SSH_AUTH_SOCK in /proc/${pid}/environ`);
  }
  for (const { pid, comm, environ } of started) {
    const entries = environ.split('\0').filter(Boolean);
    const env = new Map(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
    t.same(
      [...env.keys()].filter((name) => !allowed.test(name) && !harness.has(name)),
      [],
      `${comm} ${pid}: only allow-listed variables`,
    );
    t.equal(env.get('PATH'), process.env.PATH, `${comm} ${pid}: PATH is the caller's`);
    t.equal(env.get('LC_MEASUREMENT'), 'C.UTF-8', `${comm} ${pid}: LC_* is the caller's`);
    t.equal(env.get('HOME'), session.userDataDir, `${comm} ${pid}: HOME is its own profile`);
    t.equal(env.get('TMPDIR'), join(session.userDataDir, 'tmp'), `${comm} ${pid}: TMPDIR is a directory in its own profile`);
  }
  // and it still works: a page loads
  await session.driver.get('data:text/html,<title>env</title>');
  t.equal(await session.driver.getTitle(), 'env', 'the browser loads a page');
});

// A uid's group is its passwd entry's primary group, not a group that happens to have the uid's number; and the
// caller's supplementary groups (here root's plus shadow, which reads /etc/shadow) never reach the browser.
t.test("browser-drive as root - the browser runs with its account's primary group and no supplementary groups", async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this test checks what happens when browser-drive is started as root: run it as root');
  // Debian's base-passwd gives games uid 5 and primary group 60 (games) on every Debian system
  const account = passwdEntry((fields) => fields[0] === 'games');
  if (!account) throw new Error("no games account in /etc/passwd (Debian's base-passwd creates it): this test needs an account whose gid differs from its uid");
  if (account.gid === account.uid) throw new Error(`games has gid ${account.gid} = its uid: this test needs an account whose gid differs from its uid`);
  const shadow = /^shadow:[^:]*:(\d+):/m.exec(readFileSync('/etc/group', 'utf8'));
  if (!shadow) throw new Error("no shadow group in /etc/group (Debian's base-passwd creates it)");
  const groupsBefore = process.getgroups!();
  process.setgroups!([0, Number(shadow[1])]);
  t.teardown(() => process.setgroups!(groupsBefore));
  const session = await launchChromium({ runAsUid: account.uid });
  t.teardown(() => session.close());
  const live = browserAndDriver(t, session);
  for (const { pid, comm, status } of live) {
    t.same(
      idsOf(status, 'Uid'),
      [account.uid, account.uid, account.uid, account.uid],
      `${comm} ${pid}: real, effective, saved and fs uid are games (${account.uid})`,
    );
    t.same(
      idsOf(status, 'Gid'),
      [account.gid, account.gid, account.gid, account.gid],
      `${comm} ${pid}: real, effective, saved and fs gid are games's primary group (${account.gid})`,
    );
    t.same(idsOf(status, 'Groups'), [], `${comm} ${pid}: no supplementary groups (the caller had 0 and ${shadow[1]})`);
  }
  for (const dir of [session.userDataDir, join(session.userDataDir, 'tmp')]) {
    const stat = statSync(dir);
    t.same([stat.uid, stat.gid, stat.mode & 0o777], [account.uid, account.gid, 0o700], `${dir} belongs to games and its group, mode 0700`);
  }
  await session.driver.get('file:///etc/shadow');
  t.notMatch(await session.driver.getPageSource(), /root:/, 'the browser cannot read /etc/shadow');
});

t.test("browser-drive as root - the default account nobody runs with nobody's primary group from /etc/passwd", async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this test checks what happens when browser-drive is started as root: run it as root');
  const nobody = passwdEntry((fields) => Number(fields[2]) === DEFAULT_BROWSER_UID);
  if (!nobody) throw new Error(`no account with uid ${DEFAULT_BROWSER_UID} in /etc/passwd`);
  const session = await launchChromium();
  t.teardown(() => session.close());
  for (const { pid, comm, status } of browserAndDriver(t, session)) {
    t.same(idsOf(status, 'Gid'), [nobody.gid, nobody.gid, nobody.gid, nobody.gid], `${comm} ${pid}: gid ${nobody.gid}`);
    t.same(idsOf(status, 'Groups'), [], `${comm} ${pid}: no supplementary groups`);
  }
});

/**
 * browser-drive as root with FORKLIFT_BROWSER_UID=`value`: it stops with `code` and one line matching `message`
 * before anything starts — no step ran, no profile is left in TMPDIR (reachable by any account, so only the
 * account can stop the run), no process of the run is alive.
 */
async function refusedBeforeStart(t: Test, value: string, code: number, message: string | RegExp, what: string): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'browser-drive-refused-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  chmodSync(tmp, 0o755);
  const result = await runCli([join(PAGES_DIR, 'scripts', 'hello.json5')], { env: { FORKLIFT_BROWSER_UID: value, TMPDIR: tmp } });
  t.equal(result.code, code, `FORKLIFT_BROWSER_UID=${JSON.stringify(value)}: exit ${code} (${result.stderr.trim()})`);
  const lines = result.stderr.trim().split('\n');
  t.equal(lines.length, 1, `one line on stderr: ${result.stderr}`);
  t.match(lines[0], message, what);
  t.same(
    result.records.filter((record) => record.kind === 'step' && record.status === 'passed'),
    [],
    'no step ran',
  );
  t.same(
    readdirSync(tmp).filter((name) => name.startsWith('browser-drive-')),
    [],
    'no profile left behind',
  );
  t.same(result.descendants.filter(isAlive), [], 'no process of the run is left');
}

t.test('browser-drive as root - a FORKLIFT_BROWSER_UID with no passwd entry: exit 69, one line, nothing started or left', async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this test checks what happens when browser-drive is started as root: run it as root');
  let uid = 42_420;
  while (passwdEntry((fields) => Number(fields[2]) === uid)) uid += 1;
  await refusedBeforeStart(t, String(uid), 69, new RegExp(`uid ${uid}.*/etc/passwd`), 'it names the uid and where it was looked up');
});

t.test('browser-drive as root - a FORKLIFT_BROWSER_UID that is not an account other than root: exit 64, one line, nothing started or left', async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this test checks what happens when browser-drive is started as root: run it as root');
  for (const value of ['abc', '0', '-5', '5x', ' 5', '99999999999']) {
    await refusedBeforeStart(
      t,
      value,
      64,
      `FORKLIFT_BROWSER_UID ${JSON.stringify(value)}: not the uid of an account other than root`,
      'it names the variable and its value',
    );
  }
});
