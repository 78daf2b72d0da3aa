/** The version of promote-color (kept in step with package.json). */
export const PROMOTE_COLOR_VERSION = '0.1.0';
