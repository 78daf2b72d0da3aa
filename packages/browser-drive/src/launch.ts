import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnavailableError } from '@forklift/contract';
import type { WebDriver } from 'selenium-webdriver';
import { ProcessSet, waitGone } from './processes.js';

/**
 * Debian's chromium binary. /usr/bin/chromium is a shell launcher in front of it that only adds
 * flags we override; starting the binary itself saves ~100 ms. Used unless FORKLIFT_CHROMIUM or an
 * option says otherwise; when it is missing, /usr/bin/chromium is tried.
 */
export const DEFAULT_CHROMIUM = '/usr/lib/chromium/chromium';
/** The launcher script of Debian's chromium package, the fallback when DEFAULT_CHROMIUM is missing. */
export const CHROMIUM_LAUNCHER = '/usr/bin/chromium';
/** Debian's chromedriver (package chromium-driver). */
export const DEFAULT_CHROMEDRIVER = '/usr/bin/chromedriver';
const APT_HINT = 'install it with: apt-get install chromium chromium-driver';

/**
 * Host names chromium resolves on its own at start-up (account list, network time, component and
 * safe-browsing updates, even with background networking off): they resolve to nothing, so a run
 * sends no DNS query for them. Pages under test use node addresses, loopback or their own names.
 */
const NO_GOOGLE_SERVICES =
  '--host-resolver-rules=' +
  ['*.google.com', '*.googleapis.com', '*.gvt1.com', '*.gstatic.com', '*.googleusercontent.com', '*.doubleclick.net'].map((host) => `MAP ${host} ~NOTFOUND`).join(', ');

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
  '--disable-domain-reliability',
  '--no-pings',
  '--window-size=1280,800',
  // what chromedriver passes when it starts the browser itself (here it attaches to ours)
  '--enable-automation',
  '--test-type=webdriver',
  '--allow-pre-commit-input',
  '--disable-popup-blocking',
  '--disable-hang-monitor',
  '--disable-prompt-on-repost',
  '--disable-client-side-phishing-detection',
  '--disable-default-apps',
  '--no-service-autorun',
  '--password-store=basic',
  '--use-mock-keychain',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
  // the omnibox popups are WebUI pages, each in its own renderer started with the browser even when
  // headless (nothing shows them): without them the first page is ready ~0.3 s sooner here
  '--disable-features=IgnoreDuplicateNavs,Prewarm,NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter,WebUIOmniboxPopup,WebUIOmniboxAimPopup',
  NO_GOOGLE_SERVICES,
];

/** The profile settings chromedriver writes before it starts a browser: no first-run UI, prompts, autofill or prefetching. */
const PREFERENCES = {
  alternate_error_pages: { enabled: false },
  autofill: { enabled: false },
  browser: { check_default_browser: false },
  distribution: { import_bookmarks: false, import_history: false, import_search_engine: false, make_chrome_default_for_user: false, skip_first_run_ui: true },
  dns_prefetching: { enabled: false },
  profile: {
    content_settings: { pattern_pairs: { 'https://*,*': { 'media-stream': { audio: 'Default', video: 'Default' } } } },
    default_content_setting_values: { geolocation: 1 },
    default_content_settings: { geolocation: 1, mouselock: 1, notifications: 1, popups: 1, 'ppapi-broker': 1 },
    password_manager_enabled: false,
  },
  safebrowsing: { enabled: false },
  search: { suggest_enabled: false },
  translate: { enabled: false },
};
const LOCAL_STATE = { background_mode: { enabled: false }, ssl: { rev_checking: { enabled: false } } };

/** How to start a browser session. */
export interface LaunchOptions {
  /** Path of the chromium binary (default: $FORKLIFT_CHROMIUM, else /usr/lib/chromium/chromium, else /usr/bin/chromium). */
  chromiumPath?: string;
  /** Path of chromedriver (default: $FORKLIFT_CHROMEDRIVER, else /usr/bin/chromedriver). */
  driverPath?: string;
  /** Show the window (needs a DISPLAY); headless otherwise. */
  headed?: boolean;
  /** More chromium command-line flags. */
  args?: string[];
  /** The environment: where FORKLIFT_CHROMIUM/FORKLIFT_CHROMEDRIVER/DISPLAY are read, and what the browser and driver run with (default process.env). */
  env?: Record<string, string | undefined>;
  /**
   * When started as root, the unprivileged uid (and gid) chromium and chromedriver run as (default
   * $FORKLIFT_BROWSER_UID, else 65534, nobody): their DevTools and WebDriver ports take no password, so any
   * local user could drive them, and chromedriver can start any program as its browser.
   */
  runAsUid?: number;
}

/** The uid browser-drive drops to when started as root (nobody). */
export const DEFAULT_BROWSER_UID = 65534;

/**
 * The command prefix that runs the browser and the driver unprivileged when this process is root
 * (`setpriv --reuid --regid --clear-groups`), or none.
 */
function unprivilegedPrefix(options: LaunchOptions, env: Record<string, string | undefined>): { prefix: string[]; uid?: number } {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const fromEnv = env.FORKLIFT_BROWSER_UID !== undefined && /^[1-9][0-9]*$/.test(env.FORKLIFT_BROWSER_UID) ? Number(env.FORKLIFT_BROWSER_UID) : undefined;
  const uid = options.runAsUid ?? fromEnv ?? DEFAULT_BROWSER_UID;
  if (uid === 0) return { prefix: [] };
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));
  if (!setpriv) throw new UnavailableError(`browser-drive runs the browser as uid ${uid} when started as root, which needs setpriv: apt-get install util-linux`, { code: 'no-setpriv' });
  return { prefix: [setpriv, `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'], uid };
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

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function checkExecutable(path: string, what: string, envName: string): void {
  if (!isExecutable(path)) throw new UnavailableError(`${what} not found or not executable at ${path}: ${APT_HINT} (or set ${envName})`, { code: 'no-browser' });
}

/** Resolve and check the browser and driver paths; throws UnavailableError (exit 69) with the apt command. */
export function resolveBinaries(options: LaunchOptions = {}): { chromiumPath: string; driverPath: string } {
  const env = options.env ?? process.env;
  const chromiumPath =
    options.chromiumPath ?? env.FORKLIFT_CHROMIUM ?? (isExecutable(DEFAULT_CHROMIUM) || !isExecutable(CHROMIUM_LAUNCHER) ? DEFAULT_CHROMIUM : CHROMIUM_LAUNCHER);
  const driverPath = options.driverPath ?? env.FORKLIFT_CHROMEDRIVER ?? DEFAULT_CHROMEDRIVER;
  checkExecutable(chromiumPath, 'chromium', 'FORKLIFT_CHROMIUM');
  checkExecutable(driverPath, 'chromedriver', 'FORKLIFT_CHROMEDRIVER');
  if (options.headed && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    throw new UnavailableError('--headed needs a display (DISPLAY or WAYLAND_DISPLAY is unset); run headless or start an X server', { code: 'no-display' });
  }
  return { chromiumPath, driverPath };
}

/** Keep the last few KiB a child wrote on a stream, for error messages; keeps draining so it never blocks. */
function tail(stream: NodeJS.ReadableStream | null): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-4096);
  });
  return () => text.trim();
}

function exitedEarly(child: ChildProcess, what: string, output: () => string): Promise<never> {
  return new Promise((_, reject) => {
    const onExit = (code: number | null, signal: string | null): void =>
      reject(new UnavailableError(`${what} exited early (${signal ?? `status ${code}`}): ${lastLines(output())}`, { code: 'no-browser' }));
    const onError = (error: Error): void => reject(new UnavailableError(`${what} could not start: ${error.message}; ${APT_HINT}`, { code: 'no-browser', cause: error }));
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function lastLines(text: string): string {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  return lines.slice(-3).join(' | ') || 'no output';
}

/** The port chromedriver reports on stdout once it listens (its exit is watched by exitedEarly). */
function waitForDriverPort(stdout: NodeJS.ReadableStream, timeoutMs: number, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => finish(new Error(`chromedriver did not report its port within ${timeoutMs} ms: ${output.trim()}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /started successfully on port (\d+)/.exec(output);
      if (match) finish(undefined, Number(match[1]));
    };
    const onAbort = (): void => finish(new Error('start abandoned'));
    function finish(error?: Error, port?: number): void {
      clearTimeout(timer);
      stdout.off('data', onData);
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(port!);
    }
    stdout.on('data', onData);
    signal.addEventListener('abort', onAbort);
  });
}

/** Wait for chromium to write its DevTools port into the profile (it listens on 127.0.0.1 only). */
async function waitForDevToolsPort(userDataDir: string, timeoutMs: number, signal: AbortSignal): Promise<number> {
  const file = join(userDataDir, 'DevToolsActivePort');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal.aborted) throw new Error('start abandoned');
    if (existsSync(file)) {
      // the file is written whole, but may be seen between creation and write: retry until it has a port
      const port = Number(readFileSync(file, 'utf8').split('\n')[0]);
      if (Number.isInteger(port) && port > 0) return port;
    }
    if (Date.now() >= deadline) throw new Error(`chromium did not open its DevTools port within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A W3C New Session request; resolves to the session id and capabilities, rejects with the driver's message. */
function newSession(port: number, alwaysMatch: Record<string, unknown>, agent: Agent): Promise<{ sessionId: string; capabilities: Record<string, unknown> }> {
  const body = JSON.stringify({ capabilities: { alwaysMatch, firstMatch: [{}] } });
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, path: '/session', method: 'POST', agent, headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          let value: { sessionId?: string; capabilities?: Record<string, unknown>; error?: string; message?: string } | undefined;
          try {
            value = (JSON.parse(text) as { value?: typeof value }).value;
          } catch {
            // not JSON: reported below
          }
          if (response.statusCode === 200 && typeof value?.sessionId === 'string') resolve({ sessionId: value.sessionId, capabilities: value.capabilities ?? {} });
          else reject(new Error(`chromedriver refused the session (HTTP ${response.statusCode}): ${value?.message ?? text.slice(0, 200)}`));
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** chown a fresh profile directory (and what is in it) to the browser's uid. */
function chownTree(dir: string, uid: number): void {
  chownSync(dir, uid, uid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) chownTree(path, uid);
    else chownSync(path, uid, uid);
  }
}

/** Spawn a child in its own process group (so everything it starts stays findable), not keeping this process alive. */
function spawnDetached(path: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) resolve();
    else child.once('exit', () => resolve());
  });
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
  const userDataDir = mkdtempSync(join(tmpdir(), 'browser-drive-profile-'));
  mkdirSync(join(userDataDir, 'Default'));
  writeFileSync(join(userDataDir, 'Default', 'Preferences'), JSON.stringify(PREFERENCES));
  writeFileSync(join(userDataDir, 'Local State'), JSON.stringify(LOCAL_STATE));
  // the injected environment is the whole environment (the CLI passes its own): nothing read past it
  const given = options.env ?? process.env;
  // as root: the browser and the driver run unprivileged (their ports take no password), with the profile as home
  const { prefix, uid } = unprivilegedPrefix(options, given);
  const env = uid === undefined ? given : { ...given, HOME: userDataDir, XDG_CONFIG_HOME: join(userDataDir, '.config'), XDG_CACHE_HOME: join(userDataDir, '.cache') };
  if (uid !== undefined) chownTree(userDataDir, uid);
  const known = new ProcessSet();
  const children: ChildProcess[] = [];
  const start = (path: string, args: string[]): ChildProcess => {
    // setpriv execs the program: the pid (and process group) stay the same
    const child = prefix.length ? spawnDetached(prefix[0]!, [...prefix.slice(1), path, ...args], env) : spawnDetached(path, args, env);
    children.push(child);
    if (child.pid !== undefined) {
      known.add(child.pid);
      // chromium and everything it starts stay in its group, even when orphaned
      known.trackGroup(child.pid, () => child.exitCode === null && child.signalCode === null);
    }
    return child;
  };
  const browserArgs = [
    ...(options.headed ? [] : ['--headless=new']),
    ...CHROMIUM_FLAGS,
    `--user-data-dir=${userDataDir}`,
    '--remote-debugging-port=0',
    ...(options.args ?? []),
    'about:blank',
  ];
  const browserProcess = start(chromiumPath, browserArgs);
  const browserOutput = tail(browserProcess.stderr);
  browserProcess.stdout!.resume();
  const driverProcess = start(driverPath, ['--port=0']);
  const driverStdout = tail(driverProcess.stdout);
  const driverStderr = tail(driverProcess.stderr);
  const driverOutput = (): string => `${driverStdout()}\n${driverStderr()}`;
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
      // at exit: nothing may outlive this process, so wait for the kills to land (at most 3 s)
      known.killAllAndWait(3000);
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
    // unref'd while running; waiting for their exit must keep the process alive
    for (const child of children) child.ref();
    await Promise.all(children.map(exited));
    const left = await waitGone(known.alive(), 3000);
    agent.destroy();
    removeProfile();
    liveSessions.delete(exitEntry);
    if (left.length > 0) throw new Error(`browser processes still alive after SIGKILL: ${left.join(' ')}`);
  };

  let driver!: WebDriver;
  // ends the wait for the DevTools port when the start failed elsewhere
  const abandon = new AbortController();
  try {
    const browserDied = exitedEarly(browserProcess, `chromium (${chromiumPath})`, browserOutput);
    browserDied.catch(() => undefined);
    const driverDied = exitedEarly(driverProcess, 'chromedriver', driverOutput);
    driverDied.catch(() => undefined);
    const [driverPort, devToolsPort] = await Promise.all([
      Promise.race([waitForDriverPort(driverProcess.stdout!, 20_000, abandon.signal), driverDied]),
      Promise.race([waitForDevToolsPort(userDataDir, 30_000, abandon.signal), browserDied]),
    ]);
    // The session request goes out at once; selenium's modules (~150 ms of CPU) load while the driver
    // attaches, not while chromium starts. The session is created with a plain W3C New Session
    // request to the driver we started, so selenium's driver finder (Selenium Manager) never runs.
    const creating = newSession(driverPort, { browserName: 'chrome', 'goog:chromeOptions': { debuggerAddress: `127.0.0.1:${devToolsPort}` } }, agent);
    creating.catch(() => undefined);
    const [{ WebDriver, Session, Capabilities }, { default: http }] = await Promise.all([
      import('selenium-webdriver'),
      import('selenium-webdriver/http/index.js'),
    ]);
    const created = await Promise.race([creating, browserDied]);
    const executor = new http.Executor(new http.HttpClient(`http://127.0.0.1:${driverPort}`, agent));
    driver = new WebDriver(new Session(created.sessionId, new Capabilities(new Map(Object.entries(created.capabilities)))), executor);
    known.addDescendants();
  } catch (error) {
    abandon.abort();
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
