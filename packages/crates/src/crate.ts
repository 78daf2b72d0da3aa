import { InputError, issueLine } from '@forklift/contract';
import type { ServerSpec } from '@forklift/spec';
import type { z } from 'zod';

/** What a crate is made of: its name (the JSON5 `crate:` name), a one-line summary, its options schema and the spec it builds. */
export interface CrateDefinition<Schema extends z.ZodType> {
  /** The name JSON5 specs use (`{ crate: 'zookeeper' }`) and messages show; kebab-case. */
  name: string;
  /** One line for the README and listings. */
  summary: string;
  /** The options, declared first: a `z.strictObject` so a misspelt option is an error. */
  schema: Schema;
  /** Build the server spec from validated options (pure: no IO, no clock). */
  build(options: z.output<Schema>): ServerSpec;
}

/** A crate: call it with options to get a server spec; it also carries its name, summary and schema. */
export interface Crate<Schema extends z.ZodType = z.ZodType> {
  (options: z.input<Schema>): ServerSpec;
  /** The JSON5 name, e.g. `zookeeper`. */
  readonly crateName: string;
  readonly summary: string;
  readonly schema: Schema;
  /** Validate options and build the spec; a bad option throws InputError whose message starts at the field (`options.port: ...`), for callers that say where the options were written. */
  fromOptions(options: unknown): ServerSpec;
}

/**
 * Define a crate: a typed function `(options) => ServerSpec` whose options are validated with zod.
 * A bad option is an InputError (exit 65) naming the crate and the field: `crate zookeeper: options.heapMiB: expected number, received string`.
 * @example export const motd = defineCrate({ name: 'motd', summary: 'writes /etc/motd', schema: z.strictObject({ text: z.string() }), build: ({ text }) => serverSpec({ phases: { configure: [{ action: 'file', path: '/etc/motd', content: text }] } }) })
 */
export function defineCrate<Schema extends z.ZodType>(definition: CrateDefinition<Schema>): Crate<Schema> {
  const fromOptions = (options: unknown): ServerSpec => {
    const parsed = definition.schema.safeParse(options ?? {});
    if (!parsed.success)
      throw new InputError(issueLine(parsed.error, { where: 'options', input: options ?? {}, unknownKey: 'option' }), { code: 'bad-crate-options' });
    return { ...definition.build(parsed.data), name: definition.name };
  };
  const crate = (options: z.input<Schema>): ServerSpec => {
    try {
      return fromOptions(options);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(`crate ${definition.name}: ${error.message}`, { code: error.code, cause: error });
      throw error;
    }
  };
  return Object.assign(crate, { crateName: definition.name, summary: definition.summary, schema: definition.schema, fromOptions });
}

/**
 * A render-time error of a crate (a peer missing among the nodes, a bad color on a node): InputError naming the field.
 * The spec loader's label (`groups/db.json5 extends[0] (mariadb)`) names the file and the crate in front of it.
 * @example throw crateError('primary', 'no node "blue-db-1" with role db among the nodes')
 */
export function crateError(field: string, message: string): InputError {
  return new InputError(`${field}: ${message}`, { code: 'bad-crate-input' });
}
