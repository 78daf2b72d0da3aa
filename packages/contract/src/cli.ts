import { forkliftCatTool } from './cat.js';
import { runBin } from './tool.js';

await runBin(forkliftCatTool);
