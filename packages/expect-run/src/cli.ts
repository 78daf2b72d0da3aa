import { runExpectRunBin } from './bin-run.js';

await runExpectRunBin();
