// Opens a browser and never closes it: the process must still end, taking the browser with it.
import { browser } from '../../src/browser.js';

const b = await browser();
await b.open('data:text/html,<title>forgotten</title>');
process.stdout.write(JSON.stringify(b.pids()) + '\n');
