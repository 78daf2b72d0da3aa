import { runBin } from '@forklift/contract';
import { renderCrateTool } from './tool.js';

await runBin(renderCrateTool);
