/** Version of @forklift/expect-run. */
export const EXPECT_RUN_VERSION = '0.1.0';
