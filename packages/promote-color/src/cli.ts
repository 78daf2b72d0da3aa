import { runBin } from '@forklift/contract/lite';
import { promoteColorTool } from './tool.js';

await runBin(promoteColorTool);
