import { runBin } from '@forklift/contract/lite';
import { runActionsTool } from './tool.js';

// A SPEC argument needs render-crate (zod, the action registry): start loading it while the records on stdin
// arrive (in a pipeline the upstream tool is still starting); the run awaits the same import. Errors surface there.
if (process.argv.slice(2).some((arg) => !arg.startsWith('-'))) import('@forklift/render-crate').catch(() => undefined);

await runBin(runActionsTool);
