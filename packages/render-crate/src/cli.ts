import { runBin } from '@forklift/contract/lite';
import { renderCrateTool } from './tool.js';

await runBin(renderCrateTool);
