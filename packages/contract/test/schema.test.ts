import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KNOWN_KINDS, jsonSchemaFor, makeRecord, CONTRACT_VERSION } from '../src/index.js';
import { validatorsModule } from '../scripts/validators.mjs';

const dir = fileURLToPath(new URL('../schema/', import.meta.url));
const generated = fileURLToPath(new URL('../generated/', import.meta.url));

t.test('schema - committed JSON Schemas match the zod schemas (run `npm run schema` after changing records)', async (t) => {
  t.same(readdirSync(dir).sort(), KNOWN_KINDS.map((k) => `${k}.schema.json`).sort());
  for (const kind of KNOWN_KINDS) {
    const committed = readFileSync(`${dir}${kind}.schema.json`, 'utf8');
    t.equal(committed, JSON.stringify(jsonSchemaFor(kind), null, 2) + '\n', `${kind}.schema.json is up to date`);
  }
});

t.test('schema - committed quick-check validators match the JSON Schemas (run `npm run schema` after changing records)', async (t) => {
  const { js, dts } = validatorsModule(Object.fromEntries(KNOWN_KINDS.map((kind) => [kind, jsonSchemaFor(kind)])));
  t.same(readdirSync(generated).sort(), ['validators.d.ts', 'validators.js']);
  t.equal(readFileSync(`${generated}validators.js`, 'utf8'), js, 'generated/validators.js is up to date');
  t.equal(readFileSync(`${generated}validators.d.ts`, 'utf8'), dts, 'generated/validators.d.ts is up to date');
});

t.test('schema - node schema requires the contract fields', async (t) => {
  const schema = jsonSchemaFor('node') as { required: string[] };
  t.same([...schema.required].sort(), ['address', 'group', 'id', 'kind', 'port', 'provider', 'service', 'state', 'user', 'v']);
});

t.test('makeRecord - validates and stamps v and kind', async (t) => {
  t.same(makeRecord('error', { code: 'x', message: 'y' }), { v: 1, kind: 'error', code: 'x', message: 'y' });
  t.throws(() => makeRecord('summary', { tool: 't', ok: true, counts: {}, durationMs: -1 }));
});

t.test('version - CONTRACT_VERSION matches package.json', async (t) => {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8'));
  t.equal(CONTRACT_VERSION, pkg.version);
});
