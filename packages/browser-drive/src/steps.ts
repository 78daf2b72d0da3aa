import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Browser } from './browser.js';
import { describeFinder, type Finder } from './finder.js';
import { StepFailure } from './poll.js';
import type { Step } from './script.js';
import { describeTextMatch, textMatches } from './text-match.js';

/** What running a step gave beyond pass/fail: a screenshot path, an execute result. */
export interface StepOutput {
  screenshot?: string;
  result?: unknown;
}

/** Where a step runs: the browser, resolved URLs of open steps, and the screenshots directory. */
export interface StepContext {
  browser: Browser;
  /** URL of each open step by step index (node addresses already resolved). */
  urls: Map<number, string>;
  /** Directory for screenshot steps, created on first use. */
  screenshotsDir: () => string;
  /** Base of screenshot file names (the script's name without extension). */
  scriptBase: string;
}

/** A JSON-representable copy of a script result (elements and cycles become strings). */
function jsonSafe(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value, (_key, item: unknown) => (item !== null && typeof item === 'object' && 'getId' in item ? '[element]' : item)));
  } catch {
    return String(value);
  }
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * A one-line human name of a step for its record (`click #submit`, `fill input[name="email"]`).
 * @example describeStep({ verb: 'click', index: 0, fields: { click: '#go' } }) // click #go
 */
export function describeStep(step: Step, urls?: Map<number, string>): string {
  if (step.fields.name) return step.fields.name;
  const f = step.fields as Record<string, unknown>;
  const arg = f[step.verb];
  switch (step.verb) {
    case 'open':
      return `open ${urls?.get(step.index) ?? short(arg)}`;
    case 'fill':
      return `fill ${describeFinder(arg as Finder)}`;
    case 'select':
      return `select ${short(f.option)} in ${describeFinder(arg as Finder)}`;
    case 'press':
      return `press ${short(arg)}${f.on ? ` on ${describeFinder(f.on as Finder)}` : ''}`;
    case 'expectText':
      return `expectText ${describeTextMatch(arg as never)}${f.in ? ` in ${describeFinder(f.in as Finder)}` : ''}`;
    case 'expectTitle':
    case 'expectUrl':
      return `${step.verb} ${describeTextMatch(arg as never)}`;
    case 'expectCount':
      return `expectCount ${f.count} of ${describeFinder(arg as Finder)}`;
    case 'waitFor': {
      const [kind, what] = Object.entries(arg as object)[0];
      const target = kind === 'text' || kind === 'url' || kind === 'title' ? describeTextMatch(what) : describeFinder(what as Finder);
      return `waitFor ${kind} ${target}`;
    }
    case 'execute':
      return `execute ${short(arg)}`;
    case 'frame':
      return `frame ${typeof arg === 'number' || arg === 'top' || arg === 'parent' ? String(arg) : describeFinder(arg as Finder)}`;
    case 'click':
    case 'clear':
    case 'check':
    case 'uncheck':
    case 'submit':
    case 'expectVisible':
      return `${step.verb} ${describeFinder(arg as Finder)}`;
    default:
      return arg === true ? step.verb : `${step.verb} ${short(arg)}`;
  }
}

/** Run one validated step; throws StepFailure (or a selenium error) when it does not hold. */
export async function runStep(step: Step, ctx: StepContext): Promise<StepOutput> {
  const b = ctx.browser;
  switch (step.verb) {
    case 'open':
      await b.open(ctx.urls.get(step.index)!);
      return {};
    case 'click':
      await b.click(step.fields.click);
      return {};
    case 'fill':
      await b.fill(step.fields.fill, step.fields.with);
      return {};
    case 'clear':
      await b.clear(step.fields.clear);
      return {};
    case 'select':
      await b.select(step.fields.select, step.fields.option);
      return {};
    case 'check':
      await b.check(step.fields.check);
      return {};
    case 'uncheck':
      await b.uncheck(step.fields.uncheck);
      return {};
    case 'submit':
      await b.submit(step.fields.submit);
      return {};
    case 'press':
      await b.press(step.fields.press, step.fields.on);
      return {};
    case 'waitFor':
      await b.waitFor(step.fields.waitFor);
      return {};
    case 'expectText': {
      const where = step.fields.in ?? 'body';
      const actual = await b.text(where);
      if (!textMatches(actual, step.fields.expectText)) {
        throw new StepFailure(
          `expected text ${describeTextMatch(step.fields.expectText)} in ${describeFinder(where)}, found ${short(actual.replace(/\s+/g, ' ').trim())}`,
        );
      }
      return {};
    }
    case 'expectTitle': {
      const actual = await b.title();
      if (!textMatches(actual, step.fields.expectTitle))
        throw new StepFailure(`expected title ${describeTextMatch(step.fields.expectTitle)}, found ${JSON.stringify(actual)}`);
      return {};
    }
    case 'expectUrl': {
      const actual = await b.url();
      if (!textMatches(actual, step.fields.expectUrl)) throw new StepFailure(`expected URL ${describeTextMatch(step.fields.expectUrl)}, found ${actual}`);
      return {};
    }
    case 'expectVisible':
      await b.find(step.fields.expectVisible, { visible: true });
      return {};
    case 'expectCount': {
      const actual = await b.count(step.fields.expectCount);
      if (actual !== step.fields.count)
        throw new StepFailure(`expected ${step.fields.count} elements matching ${describeFinder(step.fields.expectCount)}, found ${actual}`);
      return {};
    }
    case 'screenshot': {
      const name = step.fields.screenshot === true ? `${ctx.scriptBase}-step${step.index + 1}` : step.fields.screenshot.replace(/\.png$/, '');
      const path = join(ctx.screenshotsDir(), `${name}.png`);
      await b.screenshot(path);
      return { screenshot: path };
    }
    case 'execute': {
      const result = await b.execute(step.fields.execute, ...(step.fields.args ?? []));
      if ('expect' in step.fields && !isDeepStrictEqual(result ?? null, step.fields.expect ?? null)) {
        throw new StepFailure(`script returned ${short(result ?? null)}, expected ${short(step.fields.expect)}`);
      }
      return { result: jsonSafe(result ?? null) };
    }
    case 'back':
      await b.back();
      return {};
    case 'forward':
      await b.forward();
      return {};
    case 'refresh':
      await b.refresh();
      return {};
    case 'frame':
      await b.frame(step.fields.frame);
      return {};
    case 'window':
      await b.window(step.fields.window);
      return {};
    case 'setCookie':
      await b.setCookie(step.fields.setCookie);
      return {};
    case 'deleteCookie':
      await b.deleteCookies(step.fields.deleteCookie);
      return {};
    case 'deleteCookies':
      await b.deleteCookies();
      return {};
    case 'expectCookie': {
      const { name, value } = step.fields.expectCookie;
      const found = await b.cookie(name);
      if (!found) throw new StepFailure(`no cookie named ${JSON.stringify(name)}`);
      if (value !== undefined && !textMatches(String(found.value), value)) {
        throw new StepFailure(`cookie ${name} is ${JSON.stringify(found.value)}, expected ${describeTextMatch(value)}`);
      }
      return {};
    }
    case 'acceptAlert': {
      const options = step.fields.acceptAlert === true ? {} : step.fields.acceptAlert;
      return { result: await b.acceptAlert(options) };
    }
    case 'dismissAlert': {
      const options = step.fields.dismissAlert === true ? {} : step.fields.dismissAlert;
      return { result: await b.dismissAlert(options) };
    }
  }
}
