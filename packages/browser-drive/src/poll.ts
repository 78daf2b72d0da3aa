import * as seleniumError from 'selenium-webdriver/lib/error.js';

/** A step that did not hold: an expectation not met, a wait that timed out, an element not found. */
export class StepFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StepFailure';
  }
}

/** Poll interval while waiting for the page (small: each poll is one WebDriver round trip). */
export const POLL_MS = 50;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Selenium errors that a retry can cure (the page is still changing). */
export function isTransient(error: unknown): boolean {
  return (
    error instanceof seleniumError.StaleElementReferenceError ||
    error instanceof seleniumError.ElementNotInteractableError ||
    error instanceof seleniumError.ElementClickInterceptedError ||
    error instanceof seleniumError.NoSuchElementError ||
    error instanceof seleniumError.NoSuchAlertError ||
    error instanceof seleniumError.InvalidElementStateError
  );
}

/**
 * Run `attempt` until it returns a value other than undefined, retrying transient selenium errors,
 * until timeoutMs has passed; then throw a StepFailure built from `describe` (and the last error).
 * @example const el = await pollUntil(5000, async () => (await driver.findElements(by))[0], () => 'no #x')
 */
export async function pollUntil<T>(timeoutMs: number, attempt: () => Promise<T | undefined>, describe: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      if (!isTransient(error)) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (${lastError.message.split('\n')[0]})` : '';
      throw new StepFailure(`${describe()} after ${formatSeconds(timeoutMs)}${why}`, { cause: lastError });
    }
    await sleep(POLL_MS);
  }
}

/** A duration as seconds for messages. @example formatSeconds(1500) // "1.5 s" */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(2))} s`;
}
