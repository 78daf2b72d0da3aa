/** The version of run-actions (kept in step with package.json). */
export const RUN_ACTIONS_VERSION = '0.1.0';
