// The inference table of expect(expected, actual): each kind of expected value with the exact
// one-line failure message it gives, checked through the same functions expect() uses.
import t from 'tap';
import { checkValue, formatMessage, fromEach, inArray, inObj, inSet, inside, more, moreOf } from '../src/index.js';
import { evaluate } from '../src/evaluate.js';

const message = (expected: unknown, actual: unknown): string => formatMessage(checkValue(expected, actual));

function isEven(n: number): boolean {
  return n % 2 === 0;
}
class Web {
  constructor(public port = 80) {}
}
function body(response: { body: string }): string {
  return response.body;
}

// [title, expected, actual, exact message or '' for a pass]
const table: Array<[string, unknown, unknown, string]> = [
  ['value - equal numbers pass', 3306, 3306, ''],
  ['value - different numbers show both', 3306, 3307, 'expected: 3306 was: 3307'],
  ['value - a string is not a number', '3306', 3306, 'expected: "3306" was: 3306'],
  ['value - null is not undefined', null, undefined, 'expected: null was: undefined'],
  ['value - NaN equals NaN', NaN, NaN, ''],
  ['object - equal nested objects pass', { db: { port: 3306, users: ['a'] } }, { db: { port: 3306, users: ['a'] } }, ''],
  [
    'object - a nested difference shows only its key path',
    { db: { port: 3306, host: 'db-1' } },
    { db: { port: 3307, host: 'db-1' } },
    '.db.port expected: 3306 was: 3307',
  ],
  ['object - keys only in one side are named', { a: 1, b: 2 }, { a: 1, c: 3 }, '.b only in expected: 2; .c only in actual: 3'],
  [
    'object - more than three differences are counted',
    { a: 1, b: 2, c: 3, d: 4 },
    { a: 2, b: 3, c: 4, d: 5 },
    '.a expected: 1 was: 2; .b expected: 2 was: 3; .c expected: 3 was: 4; and 1 more difference',
  ],
  ['object - an array inside shows its items only on one side', { list: ['a', 'b'] }, { list: ['a'] }, '.list only in expected: ["b"]'],
  ['array - items only in expected and only in actual', [1, 2, 3], [1, 2, 4], 'only in expected: [3], only in actual: [4]'],
  ['array - same items in another order', [1, 2, 3], [3, 2, 1], 'same items, different order'],
  ['array - object items are compared deeply', [{ a: 1 }], [{ a: 2 }], 'only in expected: [{a: 1}], only in actual: [{a: 2}]'],
  ['set - order does not matter', new Set([1, 2]), new Set([2, 1]), ''],
  ['set - items only on one side', new Set([1, 2]), new Set([2, 3]), 'only in expected: [1], only in actual: [3]'],
  ['map - a differing key shows its path', new Map([['a', 1]]), new Map([['a', 2]]), '["a"] expected: 1 was: 2'],
  ['string - the common prefix and where they diverge', 'hello world', 'hello there', 'strings differ after "hello ": expected "world" was "there"'],
  ['string - no common prefix', 'abc', 'xyz', 'strings differ from the start: expected "abc" was "xyz"'],
  ['string - actual longer than expected', 'hello', 'hello world', 'strings differ after "hello": expected "" was " world"'],
  ['regexp - a match passes', /ok/, 'status: ok', ''],
  ['regexp - no match in a string', /ok/, 'down', '/ok/ not found in "down"'],
  ['regexp - a number cannot match', /ok/, 42, '/ok/ cannot match 42, not a string'],
  ['class - an instance passes', Web, new Web(), ''],
  ['class - a plain object is no instance', Web, { port: 80 }, 'expected an instance of Web, was: {port: 80}'],
  ['class - String accepts a primitive string', String, 'x', ''],
  ['class - String refuses a number', String, 3, 'expected an instance of String, was: 3'],
  ['class - Date', Date, new Date(0), ''],
  [
    'error class + function - throws that error',
    TypeError,
    () => {
      throw new TypeError('not a function');
    },
    '',
  ],
  ['error class + function - did not throw', TypeError, () => null, 'did not throw TypeError'],
  [
    'error class + function - threw another error',
    TypeError,
    () => {
      throw new RangeError('bad');
    },
    'threw RangeError: bad, not TypeError',
  ],
  ['predicate - truthy passes', isEven, 4, ''],
  ['predicate - falsy names the function and the value', isEven, 3, 'predicate isEven returned false for 3'],
  ['inObj - a subset passes', inObj({ port: 80 }), { port: 80, host: 'web-1' }, ''],
  ['inObj - a differing key', inObj({ port: 80 }), { port: 8080, host: 'web-1' }, '.port expected: 80 was: 8080'],
  ['inObj - a missing key', inObj({ port: 80 }), { host: 'web-1' }, '.port only in expected: 80'],
  ['inObj - not an object', inObj({ port: 80 }), 'web', 'expected an object containing {port: 80}, was: "web"'],
  ['inArray - member passes', inArray('nginx'), ['haproxy', 'nginx'], ''],
  ['inArray - not a member', inArray('nginx'), ['haproxy'], '"nginx" not found in ["haproxy"]'],
  ['inSet - member passes', inSet(2), new Set([1, 2]), ''],
  ['inSet - not a member', inSet(3), new Set([1, 2]), '3 not found in Set {1, 2}'],
  ['inSet - a subset with a missing item', inSet(new Set([1, 3])), new Set([1, 2]), '[3] not found in Set {1, 2}'],
  ['inside - substring', inside('ok'), 'down', '"ok" not found in "down"'],
  ['inside - object subset', inside({ port: 80 }), { port: 81 }, '.port expected: 80 was: 81'],
  ['inside - array item', inside(3), [1, 2], '3 not found in [1, 2]'],
  ['inside - set item passes', inside(1), new Set([1]), ''],
  ['more - all of several checks pass', more(Number, isEven), 4, ''],
  ['more - the failing check is reported', more(Number, isEven), 3, 'predicate isEven returned false for 3'],
  [
    'moreOf - checks on parts name each part',
    moreOf([200, 'status'], [/ok/, body]),
    { status: 500, body: 'down' },
    '.status expected: 200 was: 500; [body] /ok/ not found in "down"',
  ],
  ['moreOf - a key path', moreOf([3306, 'db.port']), { db: { port: 3306 } }, ''],
];

for (const [title, expected, actual, text] of table) {
  t.test(title, async (t) => {
    t.equal(message(expected, actual), text);
  });
}

t.test('predicate - an anonymous function is shown by its source text', async (t) => {
  const text = message((n: number) => n > 1024, 80);
  t.match(text, /^predicate \(?n\)?\s*=>\s*n\s*>\s*1024 returned false for 80$/);
});

t.test('fromEach - each item is checked under its index', async (t) => {
  const verdict = await evaluate(
    isEven,
    fromEach([1, 2, 3], (n) => n * 2 + (n === 3 ? 1 : 0)),
    1000,
  );
  t.same(verdict.kind === 'checked' && formatMessage(verdict.mismatches), '[2] predicate isEven returned false for 7');
  const mismatches = (evaluate(/up/, fromEach(['up', 'down']), 1000) as { mismatches: Array<{ path: string }> }).mismatches;
  t.same(
    mismatches.map((item) => item.path),
    ['[1]'],
  );
});

t.test('promise - a resolved actual value is awaited and checked', async (t) => {
  const verdict = await evaluate(200, Promise.resolve(500), 1000);
  t.equal(verdict.kind === 'checked' && formatMessage(verdict.mismatches), 'expected: 200 was: 500');
});

t.test('promise - a rejected actual value is an error', async (t) => {
  const verdict = await evaluate(200, Promise.reject(new Error('connection refused')), 1000);
  t.equal(verdict.kind, 'error');
  t.match(verdict.kind === 'error' && verdict.error, { message: 'connection refused' });
});

t.test('async function - called and awaited within the timeout', async (t) => {
  const verdict = await evaluate(/ok/, async () => 'ok', 1000);
  t.same(verdict.kind === 'checked' && verdict.mismatches, []);
});

t.test('async function - a slow one times out with the limit in the message', async (t) => {
  const started = Date.now();
  const verdict = await evaluate(1, async () => new Promise((resolve) => setTimeout(() => resolve(1), 2000)), 100);
  t.same(verdict, { kind: 'timeout', message: 'timed out after 100 ms waiting for the actual value' });
  t.ok(Date.now() - started < 1500, 'did not wait for the slow value');
});

t.test('error class + async function - a rejection with that error passes, a resolve fails', async (t) => {
  const rejected = await evaluate(
    TypeError,
    async () => {
      throw new TypeError('x');
    },
    1000,
  );
  t.same(rejected.kind === 'checked' && rejected.mismatches, []);
  const resolved = await evaluate(TypeError, async () => 1, 1000);
  t.equal(resolved.kind === 'checked' && formatMessage(resolved.mismatches), 'did not throw TypeError');
});
