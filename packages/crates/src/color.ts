import type { SpecContext } from '@forklift/spec';
import { z } from 'zod';
import { crateError } from './crate.js';

/** The colors of a blue/green system. */
export const COLORS = ['blue', 'green'] as const;

/** A color: `blue` or `green`. */
export type Color = (typeof COLORS)[number];

/** A crate option naming a color (a wrong one reads `options.color: Invalid option: expected one of "blue"|"green"`). */
export const colorSchema = z.enum(COLORS);

/** 1 for blue, 2 for green: MariaDB's gtid_domain_id and auto_increment_offset per CONTRACTS §3. */
export function colorNumber(color: Color): number {
  return COLORS.indexOf(color) + 1;
}

/**
 * The color a crate renders for: its own `color` option, else the node record's `color`, else blue (topology (a)).
 * A node colored anything but blue/green is an InputError naming the field.
 * @example const color = colorOf(ctx, options.color)
 */
export function colorOf(ctx: SpecContext, option?: Color): Color {
  if (option !== undefined) return option;
  const color = ctx.node.color;
  if (color === undefined) return 'blue';
  if (!(COLORS as readonly string[]).includes(color)) {
    throw crateError('color', `node ${ctx.node.id} has color ${JSON.stringify(color)}; expected one of ${COLORS.join(', ')}`);
  }
  return color as Color;
}
