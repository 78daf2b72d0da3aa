/** Version of @forklift/contract (kept in step with package.json by a test). */
export const CONTRACT_VERSION = '0.1.0';
