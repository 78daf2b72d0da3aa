import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { InputError, type NodeRecord, type RecordFields } from '@forklift/contract';
import { AddressError, resolveUrlInput } from './address.js';
import { browser as startBrowser, DEFAULT_TIMEOUT_MS, type Browser, type BrowserOptions } from './browser.js';
import { stepLabel, type Step, type StepScript } from './script.js';
import { describeStep, runStep } from './steps.js';

/** Fields of one step record (without v and kind), plus an execute/alert `result` and a `pageSource` path. */
export type StepRecordFields = RecordFields<'step'> & { result?: unknown; pageSource?: string };

/** Options of runScript. */
export interface RunScriptOptions extends BrowserOptions {
  /** Node records addresses come from. */
  nodes?: readonly NodeRecord[];
  /** Where screenshots and failure snapshots go (default: a new directory under the system temp dir). */
  screenshotsDir?: string;
  /** Called with each step record, in order. */
  onStep?: (record: StepRecordFields) => Promise<void> | void;
  /** Stop between or during steps (the rest are skipped, the browser closed). */
  signal?: AbortSignal;
  /** Run in this already open browser (left open afterwards) instead of starting one. */
  browser?: Browser;
}

/** Counts of a finished script run. */
export interface RunScriptResult {
  ok: boolean;
  passed: number;
  failed: number;
  skipped: number;
  /** Set when the run was stopped by the signal (its reason). */
  interrupted?: unknown;
}

/**
 * Resolve every address of a script against node records; an address that names no node is an
 * InputError naming the step index and field, raised before any browser starts.
 */
export function resolveAddresses(script: StepScript, nodes: readonly NodeRecord[], baseUrlFlag?: string): { urls: Map<number, string>; baseUrl?: string } {
  const urls = new Map<number, string>();
  let baseUrl = baseUrlFlag;
  try {
    if (baseUrl === undefined && script.baseUrl !== undefined) baseUrl = resolveUrlInput(script.baseUrl, nodes);
  } catch (error) {
    if (error instanceof AddressError) throw new InputError(`${script.name}: field "baseUrl.${error.field}": ${error.message}`, { code: 'bad-script' });
    throw error;
  }
  for (const step of script.steps) {
    if (step.verb !== 'open') continue;
    let url: string;
    try {
      url = resolveUrlInput(step.fields.open, nodes);
    } catch (error) {
      if (error instanceof AddressError)
        throw new InputError(`${script.name}: ${stepLabel(step.index, 'open')}: field "open.${error.field}": ${error.message}`, { code: 'bad-script' });
      throw error;
    }
    if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) {
      if (baseUrl === undefined)
        throw new InputError(`${script.name}: ${stepLabel(step.index, 'open')}: field "open": relative URL "${url}" needs --base-url or baseUrl`, {
          code: 'bad-script',
        });
      url = new URL(url, baseUrl).href;
    }
    urls.set(step.index, url);
  }
  return { urls, baseUrl };
}

function abortPromise(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (!signal) return;
    const fire = (): void => reject(new Error(`interrupted (${String(signal.reason ?? 'abort')})`));
    if (signal.aborted) fire();
    else signal.addEventListener('abort', fire, { once: true });
  });
}

/** A directory for screenshots, made on first use: the given one, else a new one under the temp dir named after the script. */
function screenshotsDirMaker(given: string | undefined, scriptBase: string): () => string {
  let dir = given;
  return () => {
    if (dir === undefined) dir = mkdtempSync(join(tmpdir(), `browser-drive-${scriptBase.replace(/[^\w.-]/g, '_')}-`));
    else mkdirSync(dir, { recursive: true });
    return dir;
  };
}

/** What running the steps of one script shares. */
interface ScriptRun {
  script: StepScript;
  browser: Browser;
  urls: Map<number, string>;
  defaultTimeoutMs: number;
  scriptBase: string;
  screenshotsDir: () => string;
  /** Rejects when the signal fires. */
  aborted: Promise<never>;
  signal?: AbortSignal;
  result: RunScriptResult;
  emit(record: StepRecordFields): Promise<void>;
}

/** The record of a step that failed on its own: a screenshot and the page source saved, both named in its error. */
async function failedStepRecord(run: ScriptRun, step: Step, name: string, why: string, durationMs: number): Promise<StepRecordFields> {
  const snapshot = await run.browser.snapshot(run.screenshotsDir(), `${run.scriptBase}-step${step.index + 1}-failed`);
  const saved = [
    snapshot.screenshot ? `screenshot ${snapshot.screenshot}` : undefined,
    snapshot.pageSource ? `page source ${snapshot.pageSource}` : undefined,
    ...snapshot.problems,
  ].filter(Boolean);
  return {
    script: run.script.name,
    index: step.index,
    step: name,
    status: 'failed',
    durationMs,
    error: `${stepLabel(step.index, name)} failed: ${why}; ${saved.join(', ')}`,
    ...(snapshot.screenshot ? { screenshot: snapshot.screenshot } : {}),
    ...(snapshot.pageSource ? { pageSource: snapshot.pageSource } : {}),
  };
}

/** Run one step at its timeout and write its record; false when it failed (or the signal stopped it). */
async function runOneStep(run: ScriptRun, step: Step, name: string): Promise<boolean> {
  run.browser.timeoutMs = step.fields.timeout !== undefined ? step.fields.timeout * 1000 : run.defaultTimeoutMs;
  const started = performance.now();
  try {
    const running = runStep(step, { browser: run.browser, urls: run.urls, screenshotsDir: run.screenshotsDir, scriptBase: run.scriptBase });
    // after an abort the step fails late, once its browser is gone: that rejection is expected
    running.catch(() => undefined);
    const output = await Promise.race([running, run.aborted]);
    const durationMs = Math.round(performance.now() - started);
    await run.emit({ script: run.script.name, index: step.index, step: name, status: 'passed', durationMs, ...output });
    return true;
  } catch (error) {
    const durationMs = Math.round(performance.now() - started);
    run.result.ok = false;
    const why = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    if (run.signal?.aborted) {
      run.result.interrupted = run.signal.reason;
      await run.emit({ script: run.script.name, index: step.index, step: name, status: 'failed', durationMs, error: why });
    } else {
      await run.emit(await failedStepRecord(run, step, name, why, durationMs));
    }
    return false;
  }
}

/** Every step in order; after a failed one, or once the signal fired, the rest are skipped. */
async function runSteps(run: ScriptRun): Promise<void> {
  let stopped = false;
  for (const step of run.script.steps) {
    const name = describeStep(step, run.urls);
    if (stopped || run.signal?.aborted) {
      if (run.signal?.aborted) run.result.interrupted = run.signal.reason;
      await run.emit({ script: run.script.name, index: step.index, step: name, status: 'skipped', durationMs: 0 });
      continue;
    }
    stopped = !(await runOneStep(run, step, name));
  }
}

/**
 * Run a validated step script in a real browser, one step record per step: a failed step gets a
 * screenshot and the page source saved, and every later step is skipped. The browser it started is
 * closed (all its processes killed by PID) before it returns, also on abort.
 * @example await runScript(loadScript('checkout.json5'), { nodes, onStep: (r) => console.log(r) })
 */
export async function runScript(script: StepScript, options: RunScriptOptions = {}): Promise<RunScriptResult> {
  const given = options.browser;
  const { urls, baseUrl } = resolveAddresses(script, options.nodes ?? [], options.baseUrl ?? (script.baseUrl === undefined ? given?.baseUrl : undefined));
  const fallbackMs = script.timeout !== undefined ? script.timeout * 1000 : (given?.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const defaultTimeoutMs = options.timeoutMs ?? fallbackMs;
  // a browser lent by the caller gets its own settings back at the end
  const lent = given ? { baseUrl: given.baseUrl, timeoutMs: given.timeoutMs } : undefined;
  const scriptBase = basename(script.name, extname(script.name)) || 'script';
  const result: RunScriptResult = { ok: true, passed: 0, failed: 0, skipped: 0 };
  const emit = async (record: StepRecordFields): Promise<void> => {
    result[record.status as 'passed' | 'failed' | 'skipped'] += 1;
    await options.onStep?.(record);
  };
  const aborted = abortPromise(options.signal);
  aborted.catch(() => undefined);

  const own = options.browser === undefined;
  const launching = options.browser ? Promise.resolve(options.browser) : startBrowser({ ...options, baseUrl, timeoutMs: defaultTimeoutMs });
  let b: Browser;
  try {
    b = await Promise.race([launching, aborted]);
  } catch (error) {
    if (!options.signal?.aborted) throw error;
    // stopped while the browser was starting: let it finish starting, then end it
    if (own) await launching.then((late) => late.close()).catch(() => undefined);
    result.ok = false;
    result.interrupted = options.signal.reason;
    for (const step of script.steps) await emit({ script: script.name, index: step.index, step: describeStep(step, urls), status: 'skipped', durationMs: 0 });
    return result;
  }
  try {
    b.baseUrl = baseUrl ?? b.baseUrl;
    await b.driver.manage().setTimeouts({ pageLoad: Math.max(30_000, defaultTimeoutMs), script: Math.max(30_000, defaultTimeoutMs) });
    const screenshotsDir = screenshotsDirMaker(options.screenshotsDir, scriptBase);
    await runSteps({ script, browser: b, urls, defaultTimeoutMs, scriptBase, screenshotsDir, aborted, signal: options.signal, result, emit });
  } finally {
    if (lent) Object.assign(b, lent);
    if (own) await b.close();
  }
  if (result.interrupted !== undefined) result.ok = false;
  return result;
}
