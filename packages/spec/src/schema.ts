// The structure of a spec as written (TS or JSON5). Actions' own options are checked later, by the
// action vocabulary (render-crate), which this package does not depend on.
import { ACTION_ID_PATTERN, PHASE_NAME_PATTERN } from '@forklift/contract/lite';
import { z } from 'zod';

/** Group names: they make node ids (`<group>-<n>`), host-side names and file names. @example GROUP_NAME_PATTERN.test('blue-web') // true */
export const GROUP_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Colors and roles: short lowercase labels (`blue`, `web`), used in names of backends and files. */
export const LABEL_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;

const fn = z.custom<(...args: unknown[]) => unknown>((value) => typeof value === 'function', { message: 'expected a function' });
const plainObject = z.record(z.string(), z.unknown());
const label = z.string().regex(LABEL_PATTERN, 'must be lowercase letters, digits, _ and - (at most 40)');

/** One action entry as written in a spec (its options are checked by the action's own schema). */
export const actionEntrySchema = z.looseObject({
  action: z.string().min(1),
  id: z.string().regex(ACTION_ID_PATTERN, 'must match [A-Za-z0-9_.-]+').optional(),
});

/** A node spec: image, hardware minimums, network, provider extras; unknown keys are errors. */
export const nodeSpecSchema = z.strictObject({
  image: z.union([z.string().min(1), z.strictObject({ osFamily: z.string().optional(), osVersion: z.string().optional() })]).optional(),
  hardware: z
    .strictObject({
      minCores: z.number().positive().optional(),
      minRamMiB: z.number().positive().optional(),
      minDiskGiB: z.number().positive().optional(),
    })
    .optional(),
  network: z.strictObject({ inboundPorts: z.array(z.number().int().min(1).max(65535)).optional() }).optional(),
  provider: z.record(z.string(), plainObject).optional(),
});

/** The structure of a spec; functions are allowed where TS specs may compute. */
export const specSchema = z
  .strictObject({
    name: z.string().optional(),
    group: z.string().regex(GROUP_NAME_PATTERN, 'must be lowercase letters, digits and -, at most 40').optional(),
    count: z.number().int().nonnegative().optional(),
    node: nodeSpecSchema.optional(),
    color: label.optional(),
    roles: z.array(label).optional(),
    extends: z.array(z.union([z.string().min(1), plainObject])).optional(),
    settings: z.union([plainObject, fn]).optional(),
    phases: z
      .record(z.string().regex(PHASE_NAME_PATTERN, 'phase names match [A-Za-z0-9_-]+'), z.union([z.array(actionEntrySchema), fn, plainObject]))
      .optional(),
    source: z.string().optional(),
    cwd: z.string().optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.group !== undefined) return;
    // the fields of a group spec without a group: say so rather than provision or render for "every node"
    for (const key of ['count', 'node', 'color', 'roles'] as const) {
      if (spec[key] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['group'],
          message: `missing: a spec with "${key}" is a group spec and names its group with "group" ("name" is only a label)`,
        });
        return;
      }
    }
  });
