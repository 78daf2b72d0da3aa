import { runBin } from '@forklift/contract';
import { provisionNodeTool } from './tool.js';

await runBin(provisionNodeTool);
