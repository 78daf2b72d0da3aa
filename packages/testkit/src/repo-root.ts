import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (testkit lives in packages/testkit/{src,dist}). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
