export * from './types.js';
export { GROUP_NAME_PATTERN, LABEL_PATTERN, actionEntrySchema, nodeSpecSchema, specSchema } from './schema.js';
export { SPEC_EXTENSIONS, resolveSpecPath, projectRootOf } from './paths.js';
export { specOfModule, readSpecFile } from './module.js';
export { loadSpec, checkSpecShape, type LoadSpecOptions, type CrateResolver } from './load.js';
export { peers, type PeerSelector } from './peers.js';
export { selectNodes, DEFAULT_GROUP, type NodeSelection } from './select.js';
