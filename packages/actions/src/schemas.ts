import { z } from 'zod';

/** A string that contains no NUL byte (no shell argument can carry one). */
export const noNul = z.string().refine((value) => !value.includes('\0'), { message: 'contains a NUL byte, which no shell argument can carry' });

/** A normalized absolute path: starts with `/`, no `.`/`..` segments, no empty segment, no trailing `/`, no NUL. */
export const absolutePath = noNul.refine(
  (value) =>
    value === '/' ||
    (value.startsWith('/') &&
      !value.endsWith('/') &&
      value
        .slice(1)
        .split('/')
        .every((part) => part !== '' && part !== '.' && part !== '..')),
  { message: 'must be a normalized absolute path (starts with /, no ., .. or empty segments, no trailing /)' },
);

/** An octal file mode like `0644` or `755`. */
export const fileMode = z.string().regex(/^[0-7]{3,4}$/, 'must be an octal mode like "0644"');

/** A user or group: a name or a numeric id. */
export const principal = z
  .union([z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*\$?$|^[0-9]+$/, 'must be a user/group name or a numeric id'), z.number().int().nonnegative()])
  .transform((value) => String(value));

/** A lowercase hex sha256. */
export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

/** An http(s) URL. */
export const httpUrl = noNul.refine((value) => /^https?:\/\/[^\s]+$/.test(value), { message: 'must be an http:// or https:// URL without spaces' });

/** `stat -c` format and expected value for a mode. @example normalizeMode('0644') // '644' */
export function normalizeMode(mode: string): string {
  return parseInt(mode, 8).toString(8);
}

/** `stat -c` formats comparing a principal by name or by number. @example ownerFormat('0') // '%u' */
export function ownerFormat(owner: string, kind: 'user' | 'group'): string {
  const numeric = /^[0-9]+$/.test(owner);
  if (kind === 'user') return numeric ? '%u' : '%U';
  return numeric ? '%g' : '%G';
}

/** The parent directory of a normalized absolute path. @example parentDir('/etc/motd') // '/etc' */
export function parentDir(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}
