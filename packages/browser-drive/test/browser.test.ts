import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browser, closeAllBrowsers, type Browser } from '../src/browser.js';
import { isAlive } from '../src/processes.js';
import { StepFailure } from '../src/poll.js';
import { runScript } from '../src/run.js';
import { parseScript } from '../src/script.js';
import { startPageServer, type PageServer } from './page-server.js';

// If selenium ever fell back to Selenium Manager (a driver download), it would fail on this path.
process.env.SE_MANAGER_PATH = '/nonexistent/selenium-manager';

let server: PageServer;
let b: Browser;
let pidsSeen: number[] = [];
let profile = '';

t.before(async () => {
  server = await startPageServer();
  b = await browser({ baseUrl: server.url, timeoutMs: 5000 });
});

t.teardown(async () => {
  await closeAllBrowsers();
  await server?.close();
});

t.test('browser - starts Debian chromium headless through the explicit chromedriver with a fresh profile', async (t) => {
  const pids = b.pids();
  t.ok(pids.length >= 2, `driver and browser processes tracked (${pids.join(' ')})`);
  const exe = (pid: number): string => {
    try {
      return readlinkSync(`/proc/${pid}/exe`);
    } catch {
      return '';
    }
  };
  // compare resolved paths: Debian's chromium-driver may make /usr/bin/chromedriver a symlink to /usr/lib/chromium/chromedriver
  t.ok(
    pids.some((pid) => exe(pid) === realpathSync('/usr/bin/chromedriver')),
    'the explicit chromedriver runs',
  );
  // the browser itself is started by browser-drive (Debian's binary, not the launcher script); the driver attaches to it
  const browserPid = pids.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--remote-debugging-port=0'));
  t.ok(browserPid, 'a chromium browser process with DevTools on a port it picked');
  t.equal(exe(browserPid!), realpathSync('/usr/lib/chromium/chromium'));
  const argv = readFileSync(`/proc/${browserPid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  t.ok(argv.includes('--headless=new'));
  t.ok(argv.includes('--no-sandbox'));
  t.ok(argv.includes('--disable-background-networking'));
  t.ok(argv.includes('--enable-automation'), 'the flags chromedriver would have passed');
  t.ok(argv.includes('--disable-popup-blocking'));
  t.ok(
    argv.some((arg) => arg.startsWith('--host-resolver-rules=') && arg.includes('MAP *.google.com ~NOTFOUND')),
    'no lookups of Google services',
  );
  const cmdline = (pid: number): string => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  };
  t.notOk(
    b.pids().some((pid) => cmdline(pid).includes('--top-chrome-webui')),
    'no renderer for the omnibox popup WebUI, which nothing shows in a headless browser',
  );
  t.equal(argv.at(-1), 'about:blank', `starts on the initial empty page, which needs no navigation (${argv.slice(-3).join(' ')})`);
  profile = argv.find((arg) => arg.startsWith('--user-data-dir='))!.slice('--user-data-dir='.length);
  t.match(profile, /browser-drive-profile-/);
  t.ok(existsSync(profile));
});

t.test('browser - a form is filled, ticked and submitted', async (t) => {
  await b.open('/form.html');
  t.equal(await b.title(), 'Sign in');
  await b.fill({ tag: 'input', name: 'email' }, 'ann@example.test');
  await b.fill('input[name=password]', 'secret');
  await b.clear({ tag: 'input', name: 'note' });
  t.equal(await b.value({ tag: 'input', name: 'note' }), '');
  await b.uncheck({ tag: 'input', name: 'remember' });
  await b.check({ tag: 'input', name: 'newsletter' });
  await b.check({ tag: 'input', name: 'newsletter' });
  await b.press('Enter', '#email');
  t.equal(await b.text('#typed'), 'enter pressed', 'Enter reached the email field');
  await b.click({ text: 'Sign in' });
  await b.waitFor({ title: { equals: 'Welcome' } });
  t.equal(await b.text('h1'), 'Welcome, ann@example.test');
  t.equal(await b.text('#fields'), 'email=ann@example.test\nremember=-\nnewsletter=yes');
  t.equal((await b.cookie('session'))?.value, 's-1234');
});

t.test('browser - submit() submits the form of a field', async (t) => {
  await b.open('/form.html');
  await b.fill('#email', 'bo@example.test');
  await b.submit('#email');
  await b.waitFor({ text: 'Welcome, bo@example.test', in: 'h1' });
  t.equal(await b.url(), `${server.url}/login`);
  await b.back();
  await b.waitFor({ url: 'form.html' });
  await b.forward();
  await b.waitFor({ url: /\/login$/ });
});

t.test('browser - content that appears after a delay is waited for', async (t) => {
  await b.open('/delayed.html?ms=1500');
  t.equal(await b.count('#result'), 0, 'not there at first');
  await b.waitFor({ visible: '#result' });
  await b.waitFor({ gone: '#spinner' });
  await b.waitFor({ url: '#loaded' });
  t.equal(await b.text('#result'), 'Stock: 42 pallets');
  await b.refresh();
  t.equal(await b.count('#result'), 0, 'gone again after refresh');
});

t.test('browser - a wait that times out is a StepFailure saying what and how long', async (t) => {
  await b.open('/delayed.html?ms=60000');
  await t.rejects(b.waitFor({ visible: '#result' }, 300), new StepFailure('no visible element matches #result after 0.3 s'));
  await t.rejects(b.waitFor({ text: 'Stock' }, 200), {
    name: 'StepFailure',
    message: /^text "Stock" did not appear in body \(last: "Delayed content Loading\.\.\."\) after 0\.2 s$/,
  });
  const before = b.timeoutMs;
  b.timeoutMs = 200;
  await t.rejects(b.click({ link: 'Nowhere' }), { message: 'no element matches link "Nowhere" after 0.2 s' });
  b.timeoutMs = before;
});

t.test('browser - a select is chosen by text, value and index', async (t) => {
  await b.open('/select.html');
  await b.select('#warehouse', 'Lisbon');
  t.equal(await b.text('#chosen'), 'lis:Lisbon');
  await b.select('#warehouse', { value: 'osl' });
  t.equal(await b.text('#chosen'), 'osl:Oslo');
  await b.select({ tag: 'select', name: 'warehouse' }, { index: 1 });
  t.equal(await b.text('#chosen'), 'ber:Berlin');
  await t.rejects(b.select('#warehouse', 'Paris'), { message: '#warehouse has no option with text "Paris"' });
});

t.test('browser - a frame is entered, used and left', async (t) => {
  await b.open('/frame.html');
  await b.frame('#inner');
  t.equal(await b.text('#inner-title'), 'Inside the frame');
  await b.click({ button: 'Bump' });
  await b.click('#bump');
  t.equal(await b.text('#count'), '2');
  await b.frame('top');
  t.equal(await b.text('h1'), 'Outer page');
  t.equal(await b.count('#count'), 0, 'frame content not visible from the top document');
  await b.frame(0);
  t.equal(await b.text('#count'), '2', 'the frame by index keeps its state');
  await b.frame('parent');
});

t.test('browser - alerts, confirms and prompts are accepted or dismissed', async (t) => {
  await b.open('/alert.html');
  await b.click('#alert');
  t.equal(await b.acceptAlert({ text: 'Order placed' }), 'Order placed');
  t.equal(await b.text('#result'), 'alert closed');
  await b.click('#confirm');
  await b.dismissAlert();
  t.equal(await b.text('#result'), 'cancelled');
  await b.click('#confirm');
  await b.acceptAlert({ text: /delete/i });
  t.equal(await b.text('#result'), 'confirmed');
  await b.click('#prompt');
  await b.acceptAlert({ answer: 'Ann' });
  t.equal(await b.text('#result'), 'hello Ann');
  b.timeoutMs = 200;
  await t.rejects(b.acceptAlert(), { message: /^no alert open after 0\.2 s/ });
  b.timeoutMs = 5000;
});

t.test('browser - a new window is switched to by title and back by index', async (t) => {
  await b.open('/windows.html');
  await b.click('#open-other');
  await b.window({ title: 'Other window' });
  t.equal(await b.text('h1'), 'The other window');
  await b.driver.close();
  await b.window(0);
  t.equal(await b.title(), 'Windows');
});

t.test('browser - cookies are set, read and deleted; scripts run with arguments', async (t) => {
  await b.open('/index.html');
  await b.setCookie({ name: 'cart', value: '3-pallets' });
  t.equal((await b.cookie('cart'))?.value, '3-pallets');
  await b.deleteCookies('cart');
  t.equal(await b.cookie('cart'), undefined);
  t.equal(await b.execute('return arguments[0] + document.querySelectorAll("li.item").length', 10), 13);
  t.equal(await b.count({ tag: 'li', class: 'special' }), 1);
  t.equal(await b.isVisible({ tag: 'li', text: 'Crate' }), true);
  const png = await b.screenshot();
  t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
});

t.test('runScript - every step verb runs in the open browser, with results and screenshots in the records', async (t) => {
  const shots = mkdtempSync(join(tmpdir(), 'browser-drive-verbs-'));
  t.teardown(() => rmSync(shots, { recursive: true, force: true }));
  const script = parseScript(
    {
      name: 'verbs.json5',
      steps: [
        { open: '/form.html' },
        { fill: '#email', with: 'old' },
        { clear: '#email' },
        { press: ['x', 'Enter'], on: '#email' },
        { expectText: 'enter pressed', in: '#typed' },
        { press: 'Backspace' },
        { execute: 'return document.activeElement.value', expect: '' },
        { uncheck: { tag: 'input', name: 'remember' } },
        { check: { tag: 'input', name: 'newsletter' } },
        { fill: '#email', with: 'cy@example.test' },
        { submit: { tag: 'form', id: 'login' } },
        { expectTitle: 'Welcome' },
        { expectVisible: { tag: 'ul', id: 'fields' } },
        { expectCount: '#fields li', count: 3 },
        { expectCookie: { name: 'session' } },
        { setCookie: { name: 'cart', value: '2' } },
        { deleteCookie: 'cart' },
        'deleteCookies',
        'back',
        'forward',
        'refresh',
        { 'expect-url': { matches: '/login$' } },
        { open: '/select.html' },
        { select: '#warehouse', option: { index: 3 } },
        { expectText: { equals: 'osl:Oslo' }, in: '#chosen' },
        { open: '/delayed.html?ms=300' },
        { waitFor: { gone: '#spinner' } },
        { waitFor: { present: '#result' } },
        { waitFor: { title: 'Delayed' } },
        'screenshot',
        { open: '/frame.html' },
        { frame: { tag: 'iframe', name: 'inner' } },
        { click: { button: 'Bump' } },
        { expectText: '1', in: '#count' },
        { frame: 'top' },
        { open: '/alert.html' },
        { click: '#prompt' },
        { acceptAlert: { text: 'Your name?', answer: 'Di' } },
        { click: '#confirm' },
        { dismissAlert: { text: { contains: 'Delete' } } },
        { expectText: 'cancelled', in: '#result' },
        { open: '/windows.html' },
        { click: { link: 'Open the other window' } },
        { window: { url: 'other.html' } },
        { expectText: 'The other window', in: 'h1', name: 'in the other window' },
        { window: { title: 'Windows' } },
      ],
    },
    'verbs.json5',
  );
  const records: Array<Record<string, unknown>> = [];
  const result = await runScript(script, { browser: b, screenshotsDir: shots, onStep: (record) => void records.push(record) });
  const failed = records.find((record) => record.status === 'failed');
  t.equal(failed, undefined, String(failed?.error ?? ''));
  t.match(result, { ok: true, passed: script.steps.length, failed: 0, skipped: 0 });
  t.equal(records.find((record) => record.step === 'acceptAlert {"text":"Your name?","answer":"Di"}')?.result, 'Your name?');
  t.equal(records.find((record) => record.step === 'screenshot')?.screenshot, join(shots, 'verbs-step30.png'));
  t.equal(records.at(-2)?.step, 'in the other window');
  t.equal(await b.title(), 'Windows', 'left in the first window');
  t.equal(b.timeoutMs, 5000, 'the browser keeps its own timeout');
});

t.test('closeAllBrowsers - ends every browser and driver process by PID and removes the profile', async (t) => {
  const alive = b.pids().filter(isAlive);
  t.ok(alive.length >= 2 && alive.includes(b.pids()[0]), `driver and browser alive before (${alive.join(' ')})`);
  pidsSeen = b.pids();
  await closeAllBrowsers();
  t.same(pidsSeen.filter(isAlive), [], 'none alive after');
  t.notOk(existsSync(profile), 'profile removed');
  await b.close();
});

t.test('browser - a process that never calls close() still ends, and its browser processes with it', async (t) => {
  const helper = fileURLToPath(new URL('./helpers/forgotten-browser.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', helper], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise((resolve) => child.once('close', resolve));
  clearTimeout(killer);
  t.equal(code, 0, 'exited by itself');
  const pids = JSON.parse(out) as number[];
  t.ok(pids.length >= 2, `it had a driver and a browser (${pids.join(' ')})`);
  t.same(pids.filter(isAlive), [], 'none of them alive');
});
