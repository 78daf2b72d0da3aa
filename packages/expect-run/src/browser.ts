import type { Browser, BrowserOptions } from '@forklift/browser-drive';
import { onFileEnd } from './state.js';

export type { Browser, BrowserOptions } from '@forklift/browser-drive';

/**
 * A real headless chromium session (browser-drive's fluent Browser), closed automatically when the
 * test file is done. selenium is loaded only when a test asks for a browser.
 * @example const page = await browser(); await page.open(`http://${web.address}/`); expect(/Wine/, await page.title())
 */
export async function browser(options: BrowserOptions = {}): Promise<Browser> {
  const { browser: launch } = await import('@forklift/browser-drive');
  const session = await launch(options);
  onFileEnd(() => session.close());
  return session;
}
