// render-crate's library; the spec types, loader and helpers are @forklift/spec's, re-exported here as before.
export * from '@forklift/spec';
// named exports win over the star export: loadSpec here knows the crates of @forklift/crates by name
export { loadSpec } from './load.js';
export { resolveCrateRef, CRATES_PACKAGE } from './crate-ref.js';
export { renderPlans, defaultPhases, nodesForSpec, projectFilesFor, type RenderPlansOptions, type PlanFields } from './render.js';
export { flattenSpec, mergeSettings } from './compose.js';
export { phaseNotes, type PhaseNotes } from './phase-notes.js';
export { genericNode, genericOs, GENERIC_RELEASES } from './generic.js';
export { renderCrateTool, RENDER_CRATE_VERSION, allowedFolders } from './tool.js';
export { ProjectFiles, type FileRoots, type ControllerFiles } from './project-files.js';
