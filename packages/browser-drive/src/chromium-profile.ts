import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Host names chromium resolves on its own at start-up (account list, network time, component and
 * safe-browsing updates, even with background networking off): they resolve to nothing, so a run
 * sends no DNS query for them. Pages under test use node addresses, loopback or their own names.
 */
const NO_GOOGLE_SERVICES =
  '--host-resolver-rules=' +
  ['*.google.com', '*.googleapis.com', '*.gvt1.com', '*.gstatic.com', '*.googleusercontent.com', '*.doubleclick.net']
    .map((host) => `MAP ${host} ~NOTFOUND`)
    .join(', ');

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

/** A fresh per-run profile directory holding the settings chromedriver would have written. @example const dir = createProfile() */
export function createProfile(): string {
  const userDataDir = mkdtempSync(join(tmpdir(), 'browser-drive-profile-'));
  mkdirSync(join(userDataDir, 'Default'));
  writeFileSync(join(userDataDir, 'Default', 'Preferences'), JSON.stringify(PREFERENCES));
  writeFileSync(join(userDataDir, 'Local State'), JSON.stringify(LOCAL_STATE));
  return userDataDir;
}

/** Remove a profile; a process that could not be killed may still write there, which is left as it is. */
export function removeProfile(userDataDir: string): void {
  try {
    rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // a process we could not kill still writes there; nothing more to do at exit
  }
}

/**
 * chromium's command line: headless unless asked, the profile, DevTools on a loopback port it picks, then the caller's flags.
 * @example chromiumArgs('/tmp/profile', { headed: false }) // ['--headless=new', ...CHROMIUM_FLAGS, '--user-data-dir=/tmp/profile', ...]
 */
export function chromiumArgs(userDataDir: string, options: { headed?: boolean; args?: readonly string[] }): string[] {
  return [
    ...(options.headed ? [] : ['--headless=new']),
    ...CHROMIUM_FLAGS,
    `--user-data-dir=${userDataDir}`,
    '--remote-debugging-port=0',
    ...(options.args ?? []),
    'about:blank',
  ];
}
