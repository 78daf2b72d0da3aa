import { packageVersion, secondsFlag, UsageError, type ToolDefinition } from '@forklift/contract';
import { runScript } from './run.js';
import { loadScript, STEP_VERBS, stepLabel } from './script.js';

/** The package version (its package.json's). */
export const BROWSER_DRIVE_VERSION = packageVersion(import.meta.url);

const BROWSERS = new Set(['chrome', 'chromium']);

/** browser-drive as a forklift tool: node records in, one step record per step and a summary out. */
export const browserDriveTool: ToolDefinition = {
  name: 'browser-drive',
  version: BROWSER_DRIVE_VERSION,
  stdin: 'optional',
  minArgs: 1,
  maxArgs: 1,
  argsName: 'SCRIPT argument',
  failure: 'a step failed (later steps are skipped)',
  flags: {
    string: ['browser', 'screenshots', 'base-url', 'timeout', 'chromium', 'chromedriver'],
    boolean: ['headed'],
  },
  usage: `browser-drive — run a JSON5 step script in a real browser (Debian's chromium via chromedriver)

Usage:
  [node records |] browser-drive SCRIPT.json5 [--browser chrome] [--headed] [--screenshots DIR]
                                [--base-url URL] [--timeout S] [--chromium PATH] [--chromedriver PATH]

Reads node records on stdin when piped (addresses like { node: { group: 'web', index: 0 }, port: 80 }),
passes them through, writes one step record per step, then a summary. On stderr: a failed step with
its reason and snapshot, -v a line per step, and a closing count. Messages number steps from 1, as
the script's author counts them ("step 2 (steps[1], fill)"); a step record's index counts from 0.

Options:
  --browser chrome     the browser (only chrome/chromium)
  --headed             show the window (needs DISPLAY); headless by default
  --screenshots DIR    where screenshot steps and failure snapshots go (default: a new temp dir)
  --base-url URL       base for relative URLs in open steps (overrides the script's baseUrl)
  --timeout S          seconds to wait for elements and conditions (default 10)
  --chromium PATH      browser binary (default $FORKLIFT_CHROMIUM, else /usr/lib/chromium/chromium,
                       else /usr/bin/chromium)
  --chromedriver PATH  driver binary (default $FORKLIFT_CHROMEDRIVER or /usr/bin/chromedriver)

Started as root, the browser and the driver run as nobody (FORKLIFT_BROWSER_UID=UID picks another
account: a uid from 1 with an entry in /etc/passwd) with that account's group and an allow-listed
environment, never the caller's.

Steps: ${STEP_VERBS.join(', ')}`,
  async run(ctx) {
    const browserName = String(ctx.flags.browser ?? 'chrome');
    if (!BROWSERS.has(browserName)) throw new UsageError(`--browser ${browserName}: only chrome (chromium) is supported`);
    const timeoutMs = secondsFlag('timeout', ctx.flags.timeout);
    const script = loadScript(ctx.args[0]);
    const result = await runScript(script, {
      nodes: ctx.nodes,
      headed: Boolean(ctx.flags.headed),
      screenshotsDir: ctx.flags.screenshots as string | undefined,
      baseUrl: ctx.flags['base-url'] as string | undefined,
      timeoutMs,
      chromiumPath: ctx.flags.chromium as string | undefined,
      driverPath: ctx.flags.chromedriver as string | undefined,
      env: ctx.env,
      signal: ctx.signal,
      onStep: async (record) => {
        await ctx.emit('step', record);
        const label = stepLabel(record.index, record.step);
        if (record.status === 'failed') ctx.warn(ctx.colors.red(`browser-drive: ${record.error ?? `${label} failed`}`));
        else
          ctx.detail(
            `browser-drive: ${label} ${record.status === 'passed' ? ctx.colors.green('passed') : ctx.colors.dim('skipped')} (${record.durationMs} ms)`,
          );
      },
    });
    ctx.log(`browser-drive: ${script.name}: ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped (of ${script.steps.length} steps)`);
    return { ok: result.ok, counts: { passed: result.passed, failed: result.failed, skipped: result.skipped } };
  },
};
