#!/usr/bin/env node
// Regenerate schema/<kind>.schema.json from the zod schemas (run after `tsc -b`).
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KNOWN_KINDS, jsonSchemaFor } from '../dist/index.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schema');
mkdirSync(dir, { recursive: true });
for (const kind of KNOWN_KINDS) {
  writeFileSync(join(dir, `${kind}.schema.json`), JSON.stringify(jsonSchemaFor(kind), null, 2) + '\n');
}
console.error(`wrote ${KNOWN_KINDS.length} schemas to ${dir}`);
