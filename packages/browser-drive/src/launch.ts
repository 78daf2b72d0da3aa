import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnavailableError } from '@forklift/contract';
import type { WebDriver } from 'selenium-webdriver';
import chrome from 'selenium-webdriver/chrome.js';
import http from 'selenium-webdriver/http/index.js';
import { isAlive, ProcessSet, waitGone } from './processes.js';

/** Debian's chromium launcher, used unless FORKLIFT_CHROMIUM or an option says otherwise. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
/** Debian's chromedriver (package chromium-driver). */
export const DEFAULT_CHROMEDRIVER = '/usr/bin/chromedriver';
const APT_HINT = 'install it with: apt-get install chromium chromium-driver';

/** The flags that make chromium work as root on a machine without internet, without GUI unless headed. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--disable-extensions',
  '--window-size=1280,800',
];

/** How to start a browser session. */
export interface LaunchOptions {
  /** Path of the chromium binary (default: $FORKLIFT_CHROMIUM, else /usr/bin/chromium). */
  chromiumPath?: string;
  /** Path of chromedriver (default: $FORKLIFT_CHROMEDRIVER, else /usr/bin/chromedriver). */
  driverPath?: string;
  /** Show the window (needs a DISPLAY); headless otherwise. */
  headed?: boolean;
  /** More chromium command-line flags. */
  args?: string[];
  /** Environment to read FORKLIFT_CHROMIUM/FORKLIFT_CHROMEDRIVER/DISPLAY from (default process.env). */
  env?: Record<string, string | undefined>;
}

/** A running chromedriver + chromium pair with its WebDriver session. */
export interface Session {
  driver: WebDriver;
  /** PIDs of chromedriver and every browser process seen so far. */
  pids(): number[];
  /** The per-run profile directory (removed by close). */
  userDataDir: string;
  /** Quit the session and kill every tracked process by PID; removes the profile. Idempotent. */
  close(): Promise<void>;
}

const liveSessions = new Set<{ kill(): void }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // last resort when the process ends without close(): synchronous kills and removal only
  process.on('exit', () => {
    for (const session of liveSessions) session.kill();
  });
}

function checkExecutable(path: string, what: string, envName: string): void {
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
    accessSync(path, constants.X_OK);
  } catch {
    throw new UnavailableError(`${what} not found or not executable at ${path}: ${APT_HINT} (or set ${envName})`, { code: 'no-browser' });
  }
}

/** Resolve and check the browser and driver paths; throws UnavailableError (exit 69) with the apt command. */
export function resolveBinaries(options: LaunchOptions = {}): { chromiumPath: string; driverPath: string } {
  const env = options.env ?? process.env;
  const chromiumPath = options.chromiumPath ?? env.FORKLIFT_CHROMIUM ?? DEFAULT_CHROMIUM;
  const driverPath = options.driverPath ?? env.FORKLIFT_CHROMEDRIVER ?? DEFAULT_CHROMEDRIVER;
  checkExecutable(chromiumPath, 'chromium', 'FORKLIFT_CHROMIUM');
  checkExecutable(driverPath, 'chromedriver', 'FORKLIFT_CHROMEDRIVER');
  if (options.headed && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    throw new UnavailableError('--headed needs a display (DISPLAY or WAYLAND_DISPLAY is unset); run headless or start an X server', { code: 'no-display' });
  }
  return { chromiumPath, driverPath };
}

function waitForDriverPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => finish(new Error(`chromedriver did not report its port within ${timeoutMs} ms: ${output.trim()}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /started successfully on port (\d+)/.exec(output);
      if (match) finish(undefined, Number(match[1]));
    };
    const onExit = (code: number | null, signal: string | null): void =>
      finish(new UnavailableError(`chromedriver exited early (${signal ?? `status ${code}`}): ${output.trim()}`, { code: 'no-browser' }));
    const onError = (error: Error): void => finish(new UnavailableError(`chromedriver could not start: ${error.message}; ${APT_HINT}`, { code: 'no-browser', cause: error }));
    function finish(error?: Error, port?: number): void {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      // keep draining so the driver never blocks on a full pipe
      child.stdout!.resume();
      if (error) reject(error);
      else resolve(port!);
    }
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/**
 * Start chromedriver (the given path, on a port it picks) and a fresh chromium session.
 * The driver path is always explicit, so selenium's driver finder (Selenium Manager) never runs.
 * @example const session = await launchChromium({ headed: false }); await session.driver.get(url); await session.close()
 */
export async function launchChromium(options: LaunchOptions = {}): Promise<Session> {
  const { chromiumPath, driverPath } = resolveBinaries(options);
  const userDataDir = mkdtempSync(join(tmpdir(), 'browser-drive-profile-'));
  const known = new ProcessSet();
  // its own process group: chromium and everything it starts stay in it, even when orphaned
  const driverProcess = spawn(driverPath, ['--port=0'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (driverProcess.pid !== undefined) {
    known.add(driverProcess.pid);
    known.trackGroup(driverProcess.pid, () => driverProcess.exitCode === null && driverProcess.signalCode === null);
  }
  driverProcess.stderr!.resume();
  // a Browser nobody closed must not keep the process alive: the 'exit' hook kills it instead
  driverProcess.unref();
  (driverProcess.stdout as unknown as { unref?: () => void }).unref?.();
  (driverProcess.stderr as unknown as { unref?: () => void }).unref?.();
  const driverExited = new Promise<void>((resolve) => {
    if (driverProcess.exitCode !== null || driverProcess.pid === undefined) resolve();
    else driverProcess.once('exit', () => resolve());
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  let closed = false;

  const removeProfile = (): void => {
    try {
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // a process we could not kill still writes there; nothing more to do at exit
    }
  };
  const exitEntry = {
    kill(): void {
      known.killAll();
      removeProfile();
    },
  };
  liveSessions.add(exitEntry);
  installExitHook();

  // No graceful quit: the profile is thrown away anyway, and chromium takes seconds to shut down
  // politely on a busy machine. Stopping and killing the tracked tree by PID is quick and certain.
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    known.killAll();
    // unref'd while running; waiting for its exit must keep the process alive
    driverProcess.ref();
    await driverExited;
    const left = await waitGone(known.alive(), 3000);
    agent.destroy();
    removeProfile();
    liveSessions.delete(exitEntry);
    if (left.length > 0) throw new Error(`browser processes still alive after SIGKILL: ${left.join(' ')}`);
  };

  let driver: WebDriver | undefined;
  try {
    const port = await waitForDriverPort(driverProcess, 20_000);
    const chromeOptions = new chrome.Options();
    chromeOptions.setChromeBinaryPath(chromiumPath);
    chromeOptions.addArguments(...(options.headed ? [] : ['--headless=new']), ...CHROMIUM_FLAGS, `--user-data-dir=${userDataDir}`, ...(options.args ?? []));
    const client = new http.HttpClient(`http://127.0.0.1:${port}`, agent);
    const executor = new http.Executor(client);
    // an http.Executor makes createSession skip selenium's driver finder entirely (no Selenium Manager)
    const created = chrome.Driver.createSession(chromeOptions, executor);
    await created.getSession();
    driver = created;
    known.addDescendants();
  } catch (error) {
    await close().catch(() => undefined);
    if (error instanceof UnavailableError) throw error;
    throw new UnavailableError(`chromium did not start (${chromiumPath} via ${driverPath}): ${(error as Error).message.split('\n')[0]}`, {
      code: 'no-browser',
      cause: error,
    });
  }
  const live = driver;
  return {
    driver: live,
    pids: () => {
      if (!closed) known.addDescendants();
      return known.pids();
    },
    userDataDir,
    close,
  };
}

/** Whether any of the given PIDs is still running. @example anyAlive(session.pids()) */
export function anyAlive(pids: number[]): boolean {
  return pids.some(isAlive);
}
