import { Agent } from 'node:http';
import { UnavailableError } from '@forklift/contract';
import type { WebDriver } from 'selenium-webdriver';
import { resolveBinaries, type BinaryOptions } from './binaries.js';
import { chromiumArgs, createProfile, removeProfile } from './chromium-profile.js';
import { exitedEarly, LaunchedProcesses, tail } from './launched-processes.js';
import { browserAccount, runAsFor, type RunAs } from './run-as.js';
import { waitForDevToolsPort, waitForDriverPort } from './start-ports.js';
import { attachWebDriver } from './webdriver-session.js';

/** How to start a browser session. */
export interface LaunchOptions extends BinaryOptions {
  /** More chromium command-line flags. */
  args?: string[];
  /**
   * When started as root, the unprivileged uid chromium and chromedriver run as (default
   * $FORKLIFT_BROWSER_UID, else 65534, nobody), with its primary group from /etc/passwd, no supplementary
   * groups and an allow-listed environment: their DevTools and WebDriver ports take no password, so any
   * local user could drive them, and chromedriver can start any program as its browser. A uid without a
   * passwd entry is refused (UnavailableError, exit 69).
   */
  runAsUid?: number;
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

const killedAtExit = new Set<() => void>();
let exitHookInstalled = false;

/** Run `kill` when the process ends without close() (synchronous kills and removal only); returns the way to forget it. */
function killAtExit(kill: () => void): () => void {
  killedAtExit.add(kill);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const each of killedAtExit) each();
    });
  }
  return () => killedAtExit.delete(kill);
}

/**
 * Start chromium (headless unless asked, a fresh profile, DevTools on a loopback port it picks) and
 * chromedriver (the given path, on a port it picks) side by side, then attach a WebDriver session
 * to that browser. The driver path is always explicit, so selenium's driver finder (Selenium
 * Manager) never runs. Starting the browser ourselves instead of through the driver saves the
 * driver's wait for its initial data: page (~0.7 s here) and the time the driver needs to start.
 * @example const session = await launchChromium({ headed: false }); await session.driver.get(url); await session.close()
 */
export async function launchChromium(options: LaunchOptions = {}): Promise<Session> {
  const { chromiumPath, driverPath } = resolveBinaries(options);
  // the injected environment is the whole environment (the CLI passes its own): nothing read past it;
  // as root the browser and the driver run unprivileged, with the profile as home and an allow-listed environment
  const given = options.env ?? process.env;
  const account = browserAccount(options.runAsUid, given);
  const userDataDir = createProfile();
  let runAs: RunAs;
  try {
    runAs = runAsFor(account, given, userDataDir, options.headed === true);
  } catch (error) {
    removeProfile(userDataDir);
    throw error;
  }
  const { prefix, env } = runAs;
  const processes = new LaunchedProcesses(env, prefix);
  const browserProcess = processes.start(chromiumPath, chromiumArgs(userDataDir, options));
  const browserOutput = tail(browserProcess.stderr);
  browserProcess.stdout!.resume();
  const driverProcess = processes.start(driverPath, ['--port=0']);
  const driverStdout = tail(driverProcess.stdout);
  const driverStderr = tail(driverProcess.stderr);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  // at exit: nothing may outlive this process, so wait for the kills to land (at most 3 s)
  const forgetAtExit = killAtExit(() => {
    processes.killAllAndWait(3000);
    removeProfile(userDataDir);
  });

  // No graceful quit: the profile is thrown away anyway, and chromium takes seconds to shut down
  // politely on a busy machine. Stopping and killing the tracked tree by PID is quick and certain.
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    const left = await processes.stop();
    agent.destroy();
    removeProfile(userDataDir);
    forgetAtExit();
    if (left.length > 0) throw new Error(`browser processes still alive after SIGKILL: ${left.join(' ')}`);
  };

  let driver: WebDriver;
  // ends the wait for the DevTools port when the start failed elsewhere
  const abandon = new AbortController();
  try {
    const browserDied = exitedEarly(browserProcess, `chromium (${chromiumPath})`, browserOutput);
    const driverDied = exitedEarly(driverProcess, 'chromedriver', () => `${driverStdout()}\n${driverStderr()}`);
    const [driverPort, devToolsPort] = await Promise.all([
      Promise.race([waitForDriverPort(driverProcess.stdout!, 20_000, abandon.signal), driverDied]),
      Promise.race([waitForDevToolsPort(userDataDir, 30_000, abandon.signal), browserDied]),
    ]);
    driver = await attachWebDriver(driverPort, devToolsPort, agent, browserDied);
    processes.addDescendants();
  } catch (error) {
    abandon.abort();
    await close().catch(() => undefined);
    if (error instanceof UnavailableError) throw error;
    throw new UnavailableError(`chromium did not start (${chromiumPath} via ${driverPath}): ${(error as Error).message.split('\n')[0]}`, {
      code: 'no-browser',
      cause: error,
    });
  }
  return {
    driver,
    pids: () => {
      if (!closed) processes.addDescendants();
      return processes.pids();
    },
    userDataDir,
    close,
  };
}
