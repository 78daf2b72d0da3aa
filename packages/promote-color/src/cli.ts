import { runBin } from '@forklift/contract';
import { promoteColorTool } from './tool.js';

await runBin(promoteColorTool);
