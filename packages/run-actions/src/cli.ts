import { runBin } from '@forklift/contract';
import { runActionsTool } from './tool.js';

await runBin(runActionsTool);
