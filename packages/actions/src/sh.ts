import { shellQuote } from '@forklift/contract/lite';

/** Shell text inserted as is by `sh` (never user data). */
export class RawShell {
  constructor(readonly text: string) {}
}

/** Mark trusted shell text (a helper call, an operator) for `sh`. @example sh`${raw('fl_changed')}` */
export function raw(text: string): RawShell {
  return new RawShell(text);
}

/** A value `sh` can interpolate: quoted strings and numbers, lists (each element quoted), or raw shell. */
export type ShValue = string | number | RawShell | readonly (string | number)[];

function interpolate(value: ShValue): string {
  if (value instanceof RawShell) return value.text;
  if (Array.isArray(value)) return value.map((item) => shellQuote(item)).join(' ');
  return shellQuote(value as string | number);
}

/**
 * Tagged template for shell: every interpolated value goes through `shellQuote` (zx's model).
 * @example sh`mkdir -p -- ${path}` // "mkdir -p -- '/srv/my dir'"
 */
export function sh(strings: TemplateStringsArray, ...values: ShValue[]): string {
  let out = strings[0]!;
  for (let index = 0; index < values.length; index += 1) out += interpolate(values[index]!) + strings[index + 1]!;
  return out;
}

/**
 * A value for `VAR=value`, quoted even when it needs no quotes (an unquoted `ps`, `ls` or `cat` after `=`
 * reads as a command to shellcheck: SC2209).
 * @example assigned('cat') // "'cat'"
 */
export function assigned(value: string): string {
  if (value.includes('\0')) return shellQuote(value);
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
