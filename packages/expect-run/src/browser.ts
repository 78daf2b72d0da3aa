import type { Browser, BrowserOptions } from '@forklift/browser-drive';
import { UnavailableError } from '@forklift/contract/lite';
import { onFileEnd, runnerState } from './state.js';

export type { Browser, BrowserOptions } from '@forklift/browser-drive';

const open = new Set<Browser>();

/** The package browser() needs: an optional peer of @forklift/expect-run, so a test run without browsers does not install selenium and chromium's driver stack. */
export const BROWSER_PACKAGE = '@forklift/browser-drive';

async function loadBrowserDrive(): Promise<typeof import('@forklift/browser-drive')> {
  try {
    return await import('@forklift/browser-drive');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' || !String((error as Error).message).includes(BROWSER_PACKAGE)) throw error;
    throw new UnavailableError(
      `browser() needs ${BROWSER_PACKAGE}, which is not installed: npm install --save-dev ${BROWSER_PACKAGE} (and Debian's browser: apt-get install chromium chromium-driver)`,
      { code: 'no-browser', cause: error },
    );
  }
}

/**
 * A real headless chromium session (browser-drive's fluent Browser), closed automatically when the
 * test file is done. selenium is loaded only when a test asks for a browser.
 * @example const page = await browser(); await page.open(`http://${web.address}/`); expect(/Wine/, await page.title())
 */
export async function browser(options: BrowserOptions = {}): Promise<Browser> {
  const file = runnerState().file;
  const { browser: launch } = await loadBrowserDrive();
  const session = await launch(options);
  if (file && runnerState().file !== file) {
    // the test timed out (or Ctrl-C) while chromium started: nobody will close it later
    await session.close();
    throw new Error('the test file ended before the browser started');
  }
  open.add(session);
  onFileEnd(async () => {
    open.delete(session);
    await session.close();
  });
  return session;
}

/** Close every browser a test file opened and that is still open (the runner's last cleanup). */
export async function closeOpenBrowsers(): Promise<void> {
  const sessions = [...open];
  open.clear();
  await Promise.allSettled(sessions.map((session) => session.close()));
}
