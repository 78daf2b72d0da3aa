import { z } from 'zod';

/** Expected text: a string (contained), `{ equals }` (exact, whitespace-trimmed), `{ contains }` or `{ matches, flags? }` (a RegExp source). */
export type TextMatch = string | RegExp | { equals: string } | { contains: string } | { matches: string; flags?: string };

/** The zod schema of a TextMatch in a step script (RegExp objects only through the library). */
export const TextMatchSchema = z.union([
  z.string(),
  z.strictObject({ equals: z.string() }),
  z.strictObject({ contains: z.string() }),
  z
    .strictObject({
      matches: z.string(),
      flags: z
        .string()
        .regex(/^[dgimsuyv]*$/, 'unknown RegExp flag')
        .optional(),
    })
    .refine((value) => isValidRegExp(value.matches, value.flags), 'not a valid regular expression'),
]);

function isValidRegExp(source: string, flags?: string): boolean {
  try {
    new RegExp(source, flags);
    return true;
  } catch {
    return false;
  }
}

/** Whether actual text satisfies the expectation. @example textMatches('Welcome, Ann', 'Welcome') // true */
export function textMatches(actual: string, expected: TextMatch): boolean {
  if (typeof expected === 'string') return actual.includes(expected);
  if (expected instanceof RegExp) return new RegExp(expected.source, expected.flags.replace('g', '')).test(actual);
  if ('equals' in expected) return actual.trim() === expected.equals.trim();
  if ('contains' in expected) return actual.includes(expected.contains);
  return new RegExp(expected.matches, (expected.flags ?? '').replace('g', '')).test(actual);
}

/** A short human form of an expectation. @example describeTextMatch({ matches: '^Hi' }) // /^Hi/ */
export function describeTextMatch(expected: TextMatch): string {
  if (typeof expected === 'string') return JSON.stringify(expected);
  if (expected instanceof RegExp) return String(expected);
  if ('equals' in expected) return `exactly ${JSON.stringify(expected.equals)}`;
  if ('contains' in expected) return JSON.stringify(expected.contains);
  return `/${expected.matches}/${expected.flags ?? ''}`;
}
