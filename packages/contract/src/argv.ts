// The command-line parser every forklift binary shares, so the same argv means the same thing to all
// of them: `--name value` and `--name=value`, short aliases (`-h`, `-qv`), `--` ends the options,
// and a token that looks like a negative number (`-1`, `-0.5`) is a value, never an option.
import { UsageError } from './errors.js';
import { closest } from './suggest.js';

/** Which flags a command takes. Keys are long names without `--` (kebab-case). */
export interface ArgvSpec {
  /** Flags without a value (`--plan`). */
  boolean?: readonly string[];
  /** Flags with one value (`--timeout 5`, `--timeout=5`). */
  string?: readonly string[];
  /** Flags with a value that may be given several times; always an array in the result. */
  multiple?: readonly string[];
  /** Short or extra names: `{ h: 'help' }` makes `-h` mean `--help`. */
  alias?: Readonly<Record<string, string>>;
  /** Values of flags not given. */
  default?: Readonly<Record<string, unknown>>;
}

/** What parseArgv returns: the positional arguments and the flags given (booleans true, values strings). */
export interface ParsedArgv {
  args: string[];
  flags: Record<string, unknown>;
}

const NEGATIVE_NUMBER = /^-(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/** Whether a token is an option (`--x`, `-x`) rather than a value: `-`, `-1` and `-0.5` are values. */
function isOption(token: string): boolean {
  return token.length > 1 && token.startsWith('-') && !NEGATIVE_NUMBER.test(token);
}

/**
 * Parse argv the forklift way. Errors are UsageError (exit 64) with one line: an unknown option
 * names the closest known one, a value-taking option without a value says so, and a single-value
 * option given twice is refused.
 * @example parseArgv(['groups/web', '--timeout', '-1'], { string: ['timeout'] }) // { args: ['groups/web'], flags: { timeout: '-1' } }
 */
export function parseArgv(argv: readonly string[], spec: ArgvSpec): ParsedArgv {
  const booleans = new Set(spec.boolean ?? []);
  const multiples = new Set(spec.multiple ?? []);
  const singles = new Set(spec.string ?? []);
  const alias = spec.alias ?? {};
  const longNames = [...booleans, ...singles, ...multiples];
  const known = new Set(longNames);
  const args: string[] = [];
  const flags: Record<string, unknown> = {};

  const unknown = (shown: string): UsageError => {
    const bare = shown.replace(/^-+/, '');
    const suggestion = closest(bare, [...longNames, ...Object.keys(alias).filter((name) => name.length > 1)]);
    const hint = suggestion ? ` (did you mean --${suggestion}?)` : '';
    return new UsageError(`unknown option ${shown}${hint}`);
  };
  const set = (name: string, value: unknown, shown: string): void => {
    if (multiples.has(name)) {
      (flags[name] as string[] | undefined) ?? (flags[name] = []);
      (flags[name] as string[]).push(value as string);
      return;
    }
    if (name in flags) throw new UsageError(`option ${shown} given more than once`);
    flags[name] = value;
  };
  const takesValue = (name: string): boolean => singles.has(name) || multiples.has(name);

  for (let index = 0; index < argv.length; index += 1) {
    const token = argv[index]!;
    if (token === '--') {
      args.push(...argv.slice(index + 1));
      break;
    }
    if (!isOption(token)) {
      args.push(token);
      continue;
    }
    if (token.startsWith('--')) {
      const equals = token.indexOf('=');
      const given = equals === -1 ? token.slice(2) : token.slice(2, equals);
      const name = alias[given] ?? given;
      const shown = `--${given}`;
      if (!known.has(name)) throw unknown(shown);
      if (!takesValue(name)) {
        if (equals !== -1) throw new UsageError(`option ${shown} takes no value`);
        set(name, true, shown);
        continue;
      }
      let value: string | undefined;
      if (equals !== -1) value = token.slice(equals + 1);
      else if (index + 1 < argv.length && !isOption(argv[index + 1]!)) value = argv[++index];
      if (value === undefined || value === '') throw new UsageError(`option ${shown} needs a value`);
      set(name, value, shown);
      continue;
    }
    // short options: -h, -qv, -n 5
    const letters = token.slice(1);
    for (let at = 0; at < letters.length; at += 1) {
      const letter = letters[at]!;
      const name = alias[letter];
      const shown = `-${letter}`;
      if (name === undefined || !known.has(name)) throw unknown(letters.length > 1 && at === 0 ? token : shown);
      if (!takesValue(name)) {
        set(name, true, shown);
        continue;
      }
      let value: string | undefined = letters.slice(at + 1) || undefined;
      if (value === undefined && index + 1 < argv.length && !isOption(argv[index + 1]!)) value = argv[++index];
      if (value === undefined || value === '') throw new UsageError(`option ${shown} needs a value`);
      set(name, value, shown);
      break;
    }
  }
  for (const name of multiples) flags[name] ??= [];
  for (const [name, value] of Object.entries(spec.default ?? {})) if (!(name in flags)) flags[name] = value;
  return { args, flags };
}
