import t from 'tap';
import { InputError, type NodeRecord } from '@forklift/contract';
import { parseScript, loadScript } from '../src/script.js';
import { resolveAddresses } from '../src/run.js';
import { attributeMapXpath, toLocator, xpathLiteral } from '../src/finder.js';
import { textMatches } from '../src/text-match.js';
import { keySequence } from '../src/keys.js';
import { Key } from 'selenium-webdriver';
import { PAGES_DIR } from './page-server.js';
import { join } from 'node:path';

function scriptError(value: unknown): string {
  try {
    parseScript(value, 's.json5');
  } catch (error) {
    if (error instanceof InputError) return error.message;
    throw error;
  }
  throw new Error('script was accepted');
}

const node = (id: string, group: string, address: string, state: 'running' | 'destroyed' = 'running'): NodeRecord => ({
  v: 1,
  kind: 'node',
  id,
  group,
  service: 'local',
  provider: 'nspawn',
  address,
  port: 22,
  user: 'root',
  state,
});

t.test('parseScript - unknown step names its index and the verb', async (t) => {
  t.match(scriptError([{ open: 'http://x/' }, { clik: '#a' }]), /^s\.json5: step 2 \(steps\[1\]\): unknown step "clik" \(steps: open, click/);
});

t.test('parseScript - missing field names the step, verb and field', async (t) => {
  t.equal(scriptError([{ fill: '#email' }]), 's.json5: step 1 (steps[0], fill): field "with": missing, expected the text to type (a string)');
  t.equal(scriptError([{ expectCount: 'li' }]), 's.json5: step 1 (steps[0], expectCount): field "count": missing, expected a number');
});

t.test('parseScript - a wrong selector is reported as the verb field', async (t) => {
  t.match(scriptError([{ click: '' }]), /step 1 \(steps\[0\], click\): field "click": must not be empty/);
  t.match(scriptError([{ click: 42 }]), /step 1 \(steps\[0\], click\): field "click": expected a finder: a CSS selector string/);
  t.match(scriptError([{ click: {} }]), /step 1 \(steps\[0\], click\): field "click": a finder map needs at least one/);
  t.match(scriptError([{ click: { css: 'a', tag: 'b' } }]), /field "click": css, xpath, link and button stand alone/);
  t.match(scriptError(['click']), /step 1 \(steps\[0\]\): step "click" needs an argument/);
});

t.test('parseScript - unknown fields, two verbs, bad regex and empty scripts are rejected', async (t) => {
  t.match(scriptError([{ click: '#a', extra: 1 }]), /step 1 \(steps\[0\], click\): field "extra": unknown field for click/);
  t.match(scriptError([{ click: '#a', fill: '#b', with: 'x' }]), /step 1 \(steps\[0\]\): one verb per step, found click and fill/);
  t.match(scriptError([{ expectTitle: { matches: '(' } }]), /field "expectTitle": not a valid regular expression/);
  t.match(scriptError({ steps: [] }), /field "steps": the script has no steps/);
  t.match(scriptError({ steps: [{ back: true }], bogus: 1 }), /field "bogus": unknown field/);
  t.match(scriptError([{ waitFor: { shown: '#a' } }]), /field "waitFor": expected one of \{ present \}/);
});

t.test('parseScript - bare verbs, kebab-case verbs and common fields are accepted', async (t) => {
  const script = parseScript([{ 'wait-for': { visible: '#x' }, timeout: 2, name: 'spinner gone' }, 'back', 'acceptAlert', { screenshot: true }], 'demo.json5');
  t.equal(script.name, 'demo.json5');
  t.same(
    script.steps.map((step) => [step.verb, step.index]),
    [
      ['waitFor', 0],
      ['back', 1],
      ['acceptAlert', 2],
      ['screenshot', 3],
    ],
  );
  t.equal(script.steps[0].fields.timeout, 2);
});

t.test('loadScript - fixture scripts validate; a bad one fails naming its second step (step 2, steps[1]); a missing file is exit 65', async (t) => {
  t.equal(loadScript(join(PAGES_DIR, 'scripts', 'login.json5')).steps.length, 18);
  t.throws(() => loadScript(join(PAGES_DIR, 'scripts', 'bad.json5')), { message: /step 2 \(steps\[1\]\): unknown step "clik"/ });
  t.throws(() => loadScript('/nonexistent/x.json5'), { message: /cannot read the script \(ENOENT\)/, exitCode: 65 });
});

t.test('resolveAddresses - node addresses become URLs from running node records', async (t) => {
  const nodes = [
    node('web-0', 'web', '10.1.0.2', 'destroyed'),
    node('web-1', 'web', '10.1.0.3'),
    node('web-2', 'web', 'fd00::5'),
    node('db-1', 'db', '10.1.0.9'),
  ];
  const script = parseScript(
    [
      { open: { node: { group: 'web' }, port: 8080, path: '/health' } },
      { open: { node: { group: 'web', index: 1 } } },
      { open: { node: { id: 'db-1' }, scheme: 'https', path: 'x' } },
      { open: '/relative' },
    ],
    's.json5',
  );
  const { urls } = resolveAddresses(script, nodes, 'http://127.0.0.1:9000/base/');
  t.same([...urls.values()], ['http://10.1.0.3:8080/health', 'http://[fd00::5]:80/', 'https://10.1.0.9:443/x', 'http://127.0.0.1:9000/relative']);
});

t.test('resolveAddresses - a node that is not in the input is a script error naming the step and field', async (t) => {
  const script = parseScript([{ open: 'about:blank' }, { open: { node: { group: 'web', index: 2 }, port: 80 } }], 's.json5');
  t.throws(() => resolveAddresses(script, [node('web-1', 'web', '10.1.0.3')]), {
    message: 's.json5: step 2 (steps[1], open): field "open.node": no running node number 2 in group "web" in the input (that group has 1)',
    exitCode: 65,
  });
  const relative = parseScript([{ open: '/x' }], 's.json5');
  t.throws(() => resolveAddresses(relative, []), { message: /step 1 \(steps\[0\], open\): field "open": relative URL "\/x" needs --base-url/ });
});

t.test('finders - taxi maps, link and button text become XPath', async (t) => {
  t.equal(attributeMapXpath({ tag: 'input', name: 'email' }), "//input[@name='email']");
  t.equal(attributeMapXpath({ tag: 'a', text: 'Login' }), "//a[normalize-space(.)='Login'][not(.//*[normalize-space(.)='Login'])]");
  t.match(
    attributeMapXpath({ text: 'Sign in' }),
    /^\/\/\*\[self::a or self::button .*\]\[normalize-space\(\.\)='Sign in'\] \| \/\/input\[@type='submit' or @type='button' or @type='reset'\]\[@value='Sign in'\] \| .*\[count\(.*\)=0\]$/,
  );
  t.equal(
    attributeMapXpath({ tag: 'li', class: 'item special' }),
    "//li[contains(concat(' ', normalize-space(@class), ' '), ' item ')][contains(concat(' ', normalize-space(@class), ' '), ' special ')]",
  );
  t.equal(xpathLiteral(`it's "x"`), `concat('it', "'", 's "x"')`);
  t.same(toLocator('#a'), { using: 'css selector', value: '#a' });
  t.same(toLocator({ xpath: '//a' }), { using: 'xpath', value: '//a' });
});

t.test('text matches and key names', async (t) => {
  t.ok(textMatches('Welcome, Ann', 'Welcome'));
  t.notOk(textMatches('Welcome, Ann', { equals: 'Welcome' }));
  t.ok(textMatches('  Welcome  ', { equals: 'Welcome' }));
  t.ok(textMatches('Order 42', { matches: 'order \\d+', flags: 'i' }));
  t.notOk(textMatches('Order', /^x/));
  t.equal(keySequence('Enter'), Key.ENTER);
  t.equal(keySequence('Control+a'), Key.chord(Key.CONTROL, 'a'));
  t.equal(keySequence('hello world'), 'hello world');
});
