import { runBin } from '@forklift/contract';
import { browserDriveTool } from './tool.js';

await runBin(browserDriveTool);
