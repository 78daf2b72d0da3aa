import type { Browser, BrowserOptions } from '@forklift/browser-drive';
import { onFileEnd, runnerState } from './state.js';

export type { Browser, BrowserOptions } from '@forklift/browser-drive';

const open = new Set<Browser>();

/**
 * A real headless chromium session (browser-drive's fluent Browser), closed automatically when the
 * test file is done. selenium is loaded only when a test asks for a browser.
 * @example const page = await browser(); await page.open(`http://${web.address}/`); expect(/Wine/, await page.title())
 */
export async function browser(options: BrowserOptions = {}): Promise<Browser> {
  const file = runnerState().file;
  const { browser: launch } = await import('@forklift/browser-drive');
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
