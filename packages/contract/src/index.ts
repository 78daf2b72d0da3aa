export * from './errors.js';
export * from './records.js';
export * from './ndjson.js';
export * from './tool.js';
export * from './quote.js';
export { forkliftCatTool } from './cat.js';
export { CONTRACT_VERSION } from './version.js';
