export * from './spec.js';
export { loadSpec, resolveSpecPath, projectRootOf, checkSpecShape, SPEC_EXTENSIONS, type LoadSpecOptions } from './load.js';
export { renderPlans, defaultPhases, nodesForSpec, type RenderPlansOptions, type PlanFields } from './render.js';
export { flattenSpec, mergeSettings } from './compose.js';
export { genericNode } from './generic.js';
export { renderCrateTool, RENDER_CRATE_VERSION } from './tool.js';
