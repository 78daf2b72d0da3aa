import { runBin } from '@forklift/contract/lite';
import { runActionsTool } from './tool.js';

await runBin(runActionsTool);
