import { packageVersion } from '@forklift/contract/lite';

/** The version of run-actions (its package.json's). */
export const RUN_ACTIONS_VERSION = packageVersion(import.meta.url);
