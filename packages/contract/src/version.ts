import { packageVersion } from './package-version.js';

/** Version of @forklift/contract (its package.json's). */
export const CONTRACT_VERSION = packageVersion(import.meta.url);
