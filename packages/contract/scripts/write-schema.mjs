#!/usr/bin/env node
// Regenerate schema/<kind>.schema.json from the zod schemas, and generated/validators.js (+ .d.ts), the
// quick check's Ajv standalone validators, from those JSON Schemas (run after `tsc -b`).
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KNOWN_KINDS, jsonSchemaFor } from '../dist/index.js';
import { validatorsModule } from './validators.mjs';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(packageDir, 'schema');
mkdirSync(dir, { recursive: true });
const schemas = Object.fromEntries(KNOWN_KINDS.map((kind) => [kind, jsonSchemaFor(kind)]));
for (const kind of KNOWN_KINDS) {
  writeFileSync(join(dir, `${kind}.schema.json`), JSON.stringify(schemas[kind], null, 2) + '\n');
}
console.error(`wrote ${KNOWN_KINDS.length} schemas to ${dir}`);
const generated = join(packageDir, 'generated');
mkdirSync(generated, { recursive: true });
const { js, dts } = validatorsModule(schemas);
writeFileSync(join(generated, 'validators.js'), js);
writeFileSync(join(generated, 'validators.d.ts'), dts);
console.error(`wrote the validators of the quick check to ${join(generated, 'validators.js')}`);
