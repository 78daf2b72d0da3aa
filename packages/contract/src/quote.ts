import { InputError } from './errors.js';

/**
 * Quote one value for POSIX sh: the only way a value reaches a shell command in forklift.
 * Safe words pass as they are; everything else is single-quoted. NUL cannot be represented and is rejected.
 * @example shellQuote("it's") // 'it'\''s'
 */
export function shellQuote(value: string | number): string {
  const text = String(value);
  if (text.includes('\0')) throw new InputError('a value for the shell contains a NUL byte, which no shell argument can carry', { code: 'nul-byte' });
  if (text !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) && !text.startsWith('-')) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
