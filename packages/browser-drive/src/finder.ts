import { z } from 'zod';
import { By } from 'selenium-webdriver/lib/by.js';

/**
 * Where to find elements: a CSS selector string, `{ css }`, `{ xpath }`, `{ link: 'text' }`,
 * `{ button: 'text' }`, or a taxi-style map of tag, text and attributes (`{ tag: 'input', name: 'email' }`).
 */
export type Finder = string | { css: string } | { xpath: string } | { link: string } | { button: string } | AttributeMap;

/** A taxi-style map: optional tag, optional exact (whitespace-normalised) text, any attributes (`class` matches one token). */
export type AttributeMap = { tag?: string; text?: string } & { [attribute: string]: string | undefined };

const nonEmpty = z.string().min(1, 'must not be empty');
const FINDER_FORMS = 'expected a finder: a CSS selector string, { css }, { xpath }, { link }, { button } or a map of tag, text and attributes';
const SOLE_KEYS = new Set(['css', 'xpath', 'link', 'button']);
const ATTRIBUTE_NAME = /^[A-Za-z_][\w.:-]*$/;

/** The zod schema of a finder, used to validate step scripts before a browser starts. */
export const FinderSchema: z.ZodType<Finder> = z.union(
  [
    nonEmpty,
    z.strictObject({ css: nonEmpty }),
    z.strictObject({ xpath: nonEmpty }),
    z.strictObject({ link: nonEmpty }),
    z.strictObject({ button: nonEmpty }),
    z
      .record(z.string(), z.string())
      .refine((map) => Object.keys(map).length > 0, 'a finder map needs at least one of tag, text or an attribute')
      .refine((map) => Object.keys(map).every((key) => ATTRIBUTE_NAME.test(key)), 'finder map keys must be attribute names')
      .refine((map) => !Object.keys(map).some((key) => SOLE_KEYS.has(key)), 'css, xpath, link and button stand alone in a finder')
      .refine((map) => map.tag === undefined || /^[A-Za-z][\w-]*$/.test(map.tag), 'tag must be an element name') as z.ZodType<AttributeMap>,
  ],
  {
    error: (issue) => {
      // a finder map that broke one of its rules says which; anything else gets the list of forms
      const branches = issue.code === 'invalid_union' ? ((issue as { errors?: Array<Array<{ code: string; message: string }>> }).errors ?? []) : [];
      return branches.flat().find((inner) => inner.code === 'custom')?.message ?? FINDER_FORMS;
    },
  },
);

/**
 * An XPath string literal for any text, using concat() when it holds both quote kinds.
 * @example xpathLiteral(`it's "x"`) // concat('it', "'", 's "x"')
 */
export function xpathLiteral(text: string): string {
  if (!text.includes("'")) return `'${text}'`;
  if (!text.includes('"')) return `"${text}"`;
  return `concat(${text
    .split("'")
    .map((part) => `'${part}'`)
    .join(`, "'", `)})`;
}

function textEquals(text: string): string {
  return `normalize-space(.)=${xpathLiteral(text.trim().replace(/\s+/g, ' '))}`;
}

/**
 * The XPath of a taxi-style map. With `text`, the innermost matching element wins over its ancestors,
 * `<input type=submit|button|reset>` match on their value, and without a tag, links, buttons and
 * other clickable elements win over any other element with the same text.
 * @example attributeMapXpath({ tag: 'input', name: 'email' }) // //input[@name='email']
 */
export function attributeMapXpath(map: AttributeMap): string {
  const tag = map.tag ?? '*';
  const predicates: string[] = [];
  for (const [key, value] of Object.entries(map)) {
    if (key === 'tag' || key === 'text' || value === undefined) continue;
    if (key === 'class') {
      for (const token of value.split(/\s+/).filter(Boolean))
        predicates.push(`contains(concat(' ', normalize-space(@class), ' '), ${xpathLiteral(` ${token} `)})`);
    } else predicates.push(`@${key}=${xpathLiteral(value)}`);
  }
  const attributes = predicates.map((predicate) => `[${predicate}]`).join('');
  if (map.text === undefined) return `//${tag}${attributes}`;
  const equals = textEquals(map.text);
  const byText = `//${tag}${attributes}[${equals}][not(.//*[${equals}])]`;
  if (tag !== '*') {
    if (tag.toLowerCase() !== 'input') return byText;
    return `${byText} | ${buttonInput(attributes, map.text)}`;
  }
  // no tag: what a user would click (links, buttons, labels ...) wins over other elements with that text
  const clickable = `//*[${CLICKABLE}]${attributes}[${equals}] | ${buttonInput(attributes, map.text)}`;
  return `${clickable} | ${byText}[count(${clickable})=0]`;
}

const CLICKABLE =
  "self::a or self::button or self::label or self::summary or self::option or @role='button' or @role='link' or @role='tab' or @role='menuitem'";

function buttonInput(attributes: string, text: string): string {
  return `//input${attributes}[@type='submit' or @type='button' or @type='reset'][@value=${xpathLiteral(text)}]`;
}

/** A selenium locator for a finder. @example toLocator({ link: 'Login' }) // By.xpath(//a[...]) */
export function toLocator(finder: Finder): By {
  if (typeof finder === 'string') return By.css(finder);
  if ('css' in finder && typeof finder.css === 'string' && Object.keys(finder).length === 1) return By.css(finder.css);
  if ('xpath' in finder && typeof finder.xpath === 'string' && Object.keys(finder).length === 1) return By.xpath(finder.xpath);
  if ('link' in finder && typeof finder.link === 'string' && Object.keys(finder).length === 1)
    return By.xpath(attributeMapXpath({ tag: 'a', text: finder.link }));
  if ('button' in finder && typeof finder.button === 'string' && Object.keys(finder).length === 1) {
    const equals = textEquals(finder.button);
    const literal = xpathLiteral(finder.button);
    return By.xpath(`//button[${equals}] | //*[@role='button'][${equals}] | //input[@type='submit' or @type='button' or @type='reset'][@value=${literal}]`);
  }
  return By.xpath(attributeMapXpath(finder as AttributeMap));
}

/** A short human form of a finder for step names and messages. @example describeFinder({ tag: 'a', text: 'Login' }) // a[text="Login"] */
export function describeFinder(finder: Finder): string {
  if (typeof finder === 'string') return finder;
  const entries = Object.entries(finder);
  if (entries.length === 1) {
    const [key, value] = entries[0];
    if (key === 'css') return String(value);
    if (key === 'xpath') return `xpath ${String(value)}`;
    if (key === 'link' || key === 'button') return `${key} "${String(value)}"`;
  }
  const map = finder as AttributeMap;
  const rest = entries
    .filter(([key]) => key !== 'tag')
    .map(([key, value]) => `${key}="${String(value)}"`)
    .join(' ');
  return `${map.tag ?? '*'}${rest ? `[${rest}]` : ''}`;
}
