import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IWebDriverOptionsCookie, WebDriver, WebElement } from 'selenium-webdriver';
import { By } from 'selenium-webdriver/lib/by.js';
import { describeFinder, toLocator, type Finder } from './finder.js';
import { keySequence } from './keys.js';
import { launchChromium, type LaunchOptions, type Session } from './launch.js';
import { isTransient, pollUntil, StepFailure } from './poll.js';
import { describeTextMatch, textMatches, type TextMatch } from './text-match.js';

/** Default time to wait for elements, alerts, windows and wait-for conditions. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Options of browser(): how to launch, plus the default timeout and base URL. */
export interface BrowserOptions extends LaunchOptions {
  /** How long element lookups and waits wait (default 10 s). */
  timeoutMs?: number;
  /** Base for relative URLs given to open(). */
  baseUrl?: string;
}

/** Which option of a <select> to choose: its visible text (a string), `{ text }`, `{ value }` or `{ index }`. */
export type SelectOption = string | { text: string } | { value: string } | { index: number };

/** A condition to wait for. */
export type WaitCondition =
  { present: Finder } | { visible: Finder } | { gone: Finder } | { text: TextMatch; in?: Finder } | { url: TextMatch } | { title: TextMatch };

/** A frame to switch to: an element finder, a frame index, or 'top' / 'parent'. */
export type FrameTarget = Finder | number | 'top' | 'parent';

/** A window to switch to: its index among the open windows, or the first whose title or URL matches. */
export type WindowTarget = number | { title: TextMatch } | { url: TextMatch };

/** A cookie to set: name and value, optionally path, domain, secure, httpOnly, expiry (epoch seconds), sameSite. */
export type CookieInput = IWebDriverOptionsCookie;

/** Where a failure snapshot was written. */
export interface Snapshot {
  screenshot?: string;
  pageSource?: string;
  /** Why a part could not be written (e.g. an alert was open). */
  problems: string[];
}

const openBrowsers = new Set<Browser>();

/**
 * A real browser session with a taxi-like API: every element method waits for its element
 * (present; visible for interaction) up to the timeout, and throws StepFailure with a clear message.
 * @example const b = await browser(); await b.open('http://127.0.0.1:8080/'); await b.click({ text: 'Sign in' }); await b.close()
 */
export class Browser {
  /** The selenium WebDriver, for anything this API does not cover. */
  readonly driver: WebDriver;
  /** Default timeout of waits, in ms. */
  timeoutMs: number;
  /** Base for relative URLs. */
  baseUrl?: string;
  readonly #session: Session;

  constructor(session: Session, options: BrowserOptions = {}) {
    this.#session = session;
    this.driver = session.driver;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.baseUrl = options.baseUrl;
  }

  /** PIDs of chromedriver and the browser processes started for this session. */
  pids(): number[] {
    return this.#session.pids();
  }

  /** Load a URL (relative ones resolve against baseUrl). */
  async open(url: string): Promise<void> {
    await this.driver.get(this.resolveUrl(url));
  }

  /** An absolute URL for a possibly relative one. @example b.resolveUrl('/login') */
  resolveUrl(url: string): string {
    if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return url;
    if (!this.baseUrl) throw new StepFailure(`relative URL "${url}" needs a base URL (--base-url or baseUrl)`);
    return new URL(url, this.baseUrl).href;
  }

  /** The first element matching, waiting until one is present (and visible when asked). */
  async find(finder: Finder, options: { visible?: boolean; timeoutMs?: number } = {}): Promise<WebElement> {
    const locator = toLocator(finder);
    const what = describeFinder(finder);
    return pollUntil(
      options.timeoutMs ?? this.timeoutMs,
      async () => {
        const elements = await this.driver.findElements(locator);
        if (!options.visible) return elements[0];
        for (const element of elements) if (await element.isDisplayed()) return element;
        return undefined;
      },
      () => `no ${options.visible ? 'visible ' : ''}element matches ${what}`,
    );
  }

  /** Every element matching now (no waiting). */
  async findAll(finder: Finder): Promise<WebElement[]> {
    return this.driver.findElements(toLocator(finder));
  }

  async #interact(finder: Finder, verb: string, action: (element: WebElement) => Promise<void>): Promise<void> {
    const locator = toLocator(finder);
    let found = false;
    // act on the first match at once (the driver checks it is interactable); only when it is not,
    // look for a displayed one among the others; covered or disabled elements are retried until the timeout
    await pollUntil(
      this.timeoutMs,
      async () => {
        const elements = await this.driver.findElements(locator);
        if (elements.length === 0) return undefined;
        found = true;
        try {
          await action(elements[0]);
          return true;
        } catch (error) {
          if (!isTransient(error) || elements.length === 1) throw error;
          for (const element of elements.slice(1)) {
            if (await element.isDisplayed()) {
              await action(element);
              return true;
            }
          }
          throw error;
        }
      },
      () => (found ? `could not ${verb} ${describeFinder(finder)}` : `no element matches ${describeFinder(finder)}`),
    );
  }

  /** Click an element. */
  async click(finder: Finder): Promise<void> {
    await this.#interact(finder, 'click', (element) => element.click());
  }

  /** Replace an input's content with text. */
  async fill(finder: Finder, text: string): Promise<void> {
    await this.#interact(finder, 'fill', async (element) => {
      // the driver's clear is slow (~100 ms): skip it when the field is empty already
      if ((await element.getProperty('value')) !== '') await element.clear();
      await element.sendKeys(text);
    });
  }

  /** Empty an input. */
  async clear(finder: Finder): Promise<void> {
    await this.#interact(finder, 'clear', (element) => element.clear());
  }

  /** Choose an option of a <select> by visible text, value or index. */
  async select(finder: Finder, option: SelectOption): Promise<void> {
    const element = await this.find(finder, { visible: true });
    const what = describeFinder(finder);
    const options = await element.findElements(By.css('option'));
    let chosen: WebElement | undefined;
    if (typeof option === 'number' || (typeof option === 'object' && 'index' in option)) {
      const index = typeof option === 'number' ? option : option.index;
      chosen = options[index];
      if (!chosen) throw new StepFailure(`${what} has ${options.length} options, no index ${index}`);
    } else {
      const byValue = typeof option === 'object' && 'value' in option;
      const wanted = typeof option === 'string' ? option : 'value' in option ? option.value : option.text;
      for (const candidate of options) {
        const actual = byValue ? await candidate.getAttribute('value') : (await candidate.getText()).trim();
        if (actual === wanted.trim() || (byValue && actual === wanted)) {
          chosen = candidate;
          break;
        }
      }
      if (!chosen) throw new StepFailure(`${what} has no option with ${byValue ? 'value' : 'text'} "${wanted}"`);
    }
    if (!(await chosen.isSelected())) await chosen.click();
  }

  /** Tick a checkbox or radio button (no change when already ticked). */
  async check(finder: Finder): Promise<void> {
    await this.#interact(finder, 'check', async (element) => {
      if (!(await element.isSelected())) await element.click();
    });
  }

  /** Untick a checkbox (no change when already unticked). */
  async uncheck(finder: Finder): Promise<void> {
    await this.#interact(finder, 'uncheck', async (element) => {
      if (await element.isSelected()) await element.click();
    });
  }

  /** Submit the form an element belongs to (or the form itself), as pressing its submit button would. */
  async submit(finder: Finder): Promise<void> {
    const element = await this.find(finder);
    const submitted = await this.driver.executeScript<boolean>(
      `const el = arguments[0]; const form = el.tagName === 'FORM' ? el : el.form || el.closest('form');
       if (!form) return false; if (form.requestSubmit) form.requestSubmit(); else form.submit(); return true;`,
      element,
    );
    if (!submitted) throw new StepFailure(`${describeFinder(finder)} is not in a form`);
  }

  /** Press keys (names like Enter, chords like Control+a, or text) on an element or the focused one. */
  async press(keys: string | string[], finder?: Finder): Promise<void> {
    const sequence = (Array.isArray(keys) ? keys : [keys]).map(keySequence);
    if (finder !== undefined) {
      await this.#interact(finder, 'type into', (element) => element.sendKeys(...sequence));
      return;
    }
    await this.driver
      .actions()
      .sendKeys(...sequence)
      .perform();
  }

  /** Wait until a condition holds (default timeout unless given). */
  async waitFor(condition: WaitCondition, timeoutMs = this.timeoutMs): Promise<void> {
    if ('present' in condition) {
      await this.find(condition.present, { timeoutMs });
    } else if ('visible' in condition) {
      await this.find(condition.visible, { visible: true, timeoutMs });
    } else if ('gone' in condition) {
      const locator = toLocator(condition.gone);
      await pollUntil(
        timeoutMs,
        async () => {
          for (const element of await this.driver.findElements(locator)) if (await element.isDisplayed()) return undefined;
          return true;
        },
        () => `${describeFinder(condition.gone)} still shown`,
      );
    } else if ('text' in condition) {
      const where = condition.in ?? 'body';
      let last = '';
      await pollUntil(
        timeoutMs,
        async () => {
          const element = (await this.driver.findElements(toLocator(where)))[0];
          last = element ? await element.getText() : '';
          return textMatches(last, condition.text) ? true : undefined;
        },
        () => `text ${describeTextMatch(condition.text)} did not appear in ${describeFinder(where)} (last: ${excerpt(last)})`,
      );
    } else if ('url' in condition) {
      let last = '';
      await pollUntil(
        timeoutMs,
        async () => ((last = await this.driver.getCurrentUrl()), textMatches(last, condition.url) ? true : undefined),
        () => `URL did not match ${describeTextMatch(condition.url)} (last: ${last})`,
      );
    } else {
      let last = '';
      await pollUntil(
        timeoutMs,
        async () => ((last = await this.driver.getTitle()), textMatches(last, condition.title) ? true : undefined),
        () => `title did not match ${describeTextMatch(condition.title)} (last: ${JSON.stringify(last)})`,
      );
    }
  }

  /** The visible text of an element (default: the whole body). */
  async text(finder: Finder = 'body'): Promise<string> {
    return (await this.find(finder)).getText();
  }

  /** An attribute or property of an element (null when absent). */
  async attribute(finder: Finder, name: string): Promise<string | null> {
    return (await this.find(finder)).getAttribute(name);
  }

  /** The current value of a form field. */
  async value(finder: Finder): Promise<string> {
    return (await (await this.find(finder)).getAttribute('value')) ?? '';
  }

  /** Whether some element matching is displayed now (no waiting). */
  async isVisible(finder: Finder): Promise<boolean> {
    for (const element of await this.findAll(finder)) if (await element.isDisplayed()) return true;
    return false;
  }

  /** How many elements match now (no waiting). */
  async count(finder: Finder): Promise<number> {
    return (await this.findAll(finder)).length;
  }

  /** The page title. */
  async title(): Promise<string> {
    return this.driver.getTitle();
  }

  /** The current URL. */
  async url(): Promise<string> {
    return this.driver.getCurrentUrl();
  }

  /** The page's HTML source now. */
  async pageSource(): Promise<string> {
    return this.driver.getPageSource();
  }

  /** A PNG screenshot of the viewport, written to `path` when given. */
  async screenshot(path?: string): Promise<Buffer> {
    const png = Buffer.from(await this.driver.takeScreenshot(), 'base64');
    if (path) writeFileSync(path, png);
    return png;
  }

  /** Run a script in the page (`return ...` gives the result; arguments as `arguments[i]`). */
  async execute<T = unknown>(script: string | ((...args: never[]) => T), ...args: unknown[]): Promise<T> {
    return this.driver.executeScript<T>(script as string, ...args);
  }

  /** Go back in history. */
  async back(): Promise<void> {
    await this.driver.navigate().back();
  }

  /** Go forward in history. */
  async forward(): Promise<void> {
    await this.driver.navigate().forward();
  }

  /** Reload the page. */
  async refresh(): Promise<void> {
    await this.driver.navigate().refresh();
  }

  /** Switch into a frame (by element or index), or back to the parent frame or the top document. */
  async frame(target: FrameTarget): Promise<void> {
    if (target === 'top') return this.driver.switchTo().defaultContent();
    if (target === 'parent') return this.driver.switchTo().parentFrame();
    if (typeof target === 'number') {
      await pollUntil(
        this.timeoutMs,
        async () => (await this.driver.switchTo().frame(target), true),
        () => `no frame number ${target}`,
      );
      return;
    }
    const element = await this.find(target);
    await this.driver.switchTo().frame(element);
  }

  /** Switch to another window or tab, waiting for it to appear. */
  async window(target: WindowTarget): Promise<void> {
    const describe =
      typeof target === 'number'
        ? `window number ${target}`
        : 'title' in target
          ? `window titled ${describeTextMatch(target.title)}`
          : `window at ${describeTextMatch(target.url)}`;
    await pollUntil(
      this.timeoutMs,
      async () => {
        const handles = await this.driver.getAllWindowHandles();
        if (typeof target === 'number') {
          if (target >= handles.length) return undefined;
          await this.driver.switchTo().window(handles[target]);
          return true;
        }
        for (const handle of handles) {
          await this.driver.switchTo().window(handle);
          const actual = 'title' in target ? await this.driver.getTitle() : await this.driver.getCurrentUrl();
          if (textMatches(actual, 'title' in target ? target.title : target.url)) return true;
        }
        return undefined;
      },
      () => `no ${describe}`,
    );
  }

  /** Every cookie of the current page. */
  async cookies(): Promise<IWebDriverOptionsCookie[]> {
    return this.driver.manage().getCookies();
  }

  /** One cookie by name, or undefined. */
  async cookie(name: string): Promise<IWebDriverOptionsCookie | undefined> {
    return (await this.cookies()).find((cookie) => cookie.name === name);
  }

  /** Set a cookie for the current page's domain. */
  async setCookie(cookie: CookieInput): Promise<void> {
    await this.driver.manage().addCookie(cookie);
  }

  /** Delete one cookie by name, or all when no name is given. */
  async deleteCookies(name?: string): Promise<void> {
    if (name === undefined) await this.driver.manage().deleteAllCookies();
    else await this.driver.manage().deleteCookie(name);
  }

  async #alert(options: { text?: TextMatch; answer?: string }, accept: boolean): Promise<string> {
    const alert = await pollUntil(
      this.timeoutMs,
      () => this.driver.switchTo().alert(),
      () => 'no alert open',
    );
    const text = await alert.getText();
    if (options.text !== undefined && !textMatches(text, options.text)) {
      throw new StepFailure(`alert text ${JSON.stringify(text)} does not match ${describeTextMatch(options.text)}`);
    }
    if (options.answer !== undefined) await alert.sendKeys(options.answer);
    if (accept) await alert.accept();
    else await alert.dismiss();
    return text;
  }

  /** Wait for an alert/confirm/prompt, check its text when asked, type an answer into a prompt, accept it; returns its text. */
  async acceptAlert(options: { text?: TextMatch; answer?: string } = {}): Promise<string> {
    return this.#alert(options, true);
  }

  /** Wait for an alert/confirm/prompt, check its text when asked, dismiss it; returns its text. */
  async dismissAlert(options: { text?: TextMatch } = {}): Promise<string> {
    return this.#alert(options, false);
  }

  /**
   * Save a screenshot (NAME.png) and the page source (NAME.html) into dir, as far as possible;
   * never throws, says what could not be saved.
   */
  async snapshot(dir: string, name: string): Promise<Snapshot> {
    const result: Snapshot = { problems: [] };
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      result.problems.push(`cannot create ${dir}: ${(error as Error).message}`);
      return result;
    }
    try {
      const path = join(dir, `${name}.png`);
      await this.screenshot(path);
      result.screenshot = path;
    } catch (error) {
      result.problems.push(`no screenshot: ${firstLine(error)}`);
    }
    try {
      const path = join(dir, `${name}.html`);
      writeFileSync(path, await this.pageSource());
      result.pageSource = path;
    } catch (error) {
      result.problems.push(`no page source: ${firstLine(error)}`);
    }
    return result;
  }

  /** End the session and every browser/driver process (by PID); safe to call twice. */
  async close(): Promise<void> {
    openBrowsers.delete(this);
    await this.#session.close();
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > 80 ? `${flat.slice(0, 77)}...` : flat);
}

/**
 * Start a real headless chromium (Debian's, through its chromedriver) and return a Browser.
 * @example const b = await browser(); await b.open(url); await b.fill('#email', 'a@b.c'); await b.close()
 */
export async function browser(options: BrowserOptions = {}): Promise<Browser> {
  const session = await launchChromium(options);
  const opened = new Browser(session, options);
  openBrowsers.add(opened);
  return opened;
}

/**
 * Close every Browser opened by browser() and not closed yet (for test runners at the end of a file).
 * @example afterAll(closeAllBrowsers)
 */
export async function closeAllBrowsers(): Promise<void> {
  const all = [...openBrowsers];
  openBrowsers.clear();
  const results = await Promise.allSettled(all.map((one) => one.close()));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}
