import t from 'tap';
import { shellQuote } from '../src/index.js';
t.test('quote', async (t) => { t.equal(shellQuote("it's"), `'it'\\''s'`); });
