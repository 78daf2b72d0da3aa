import { packageVersion } from '@forklift/contract/lite';

/** Version of @forklift/expect-run (its package.json's). */
export const EXPECT_RUN_VERSION = packageVersion(import.meta.url);
