// What build.mjs made: the version, bundle and runtime the app servers get. Read when a spec loads.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Release {
  version: string;
  sha256: string;
  bytes: number;
  runtime: string;
}

/** The project folder (examples/wine-cellar): the specs' paths (build/, secrets/) are relative to it. */
export const PROJECT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** build/release.json, or a one-line error saying how to make it. */
export function readRelease(): Release {
  const file = join(PROJECT, 'build', 'release.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Release;
  } catch {
    throw new Error(`${file} is missing: build the app first (make -C examples/wine-cellar build)`);
  }
}
