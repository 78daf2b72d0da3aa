import { packageVersion } from '@forklift/contract/lite';

/** The version of promote-color (its package.json's). */
export const PROMOTE_COLOR_VERSION = packageVersion(import.meta.url);
