import { z } from 'zod';

const fn = z.custom<(...args: unknown[]) => unknown>((value) => typeof value === 'function', { message: 'expected a function' });
const plainObject = z.record(z.string(), z.unknown());

/** Phase names: used in records, ids and flag files. */
export const PHASE_NAME = /^[A-Za-z0-9_-]+$/;

/** One action entry as written in a spec (its options are checked by the action's own schema). */
export const actionEntrySchema = z.looseObject({
  action: z.string().min(1),
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must match [A-Za-z0-9_.-]+').optional(),
});

/** The structure of a spec (TS or JSON5); functions allowed where TS specs may compute. */
export const specSchema = z.strictObject({
  name: z.string().optional(),
  group: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must match [A-Za-z0-9_.-]+').optional(),
  count: z.number().int().nonnegative().optional(),
  node: plainObject.optional(),
  extends: z.array(z.union([z.string().min(1), plainObject])).optional(),
  settings: z.union([plainObject, fn]).optional(),
  phases: z.record(z.string().regex(PHASE_NAME, 'phase names match [A-Za-z0-9_-]+'), z.union([z.array(actionEntrySchema), fn, plainObject])).optional(),
  source: z.string().optional(),
  cwd: z.string().optional(),
});
