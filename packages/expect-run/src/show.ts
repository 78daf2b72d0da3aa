const MAX_SHOW = 80;

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

function showKey(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
}

function render(value: unknown, seen: Set<unknown>, depth: number): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined || value === null || typeof value === 'boolean' || typeof value === 'symbol') return String(value);
  if (typeof value === 'function') return value.name ? `[Function ${value.name}]` : '[Function]';
  if (value instanceof RegExp) return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : `Date(${value.toISOString()})`;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (seen.has(value)) return '[Circular]';
  if (depth > 3) return Array.isArray(value) ? '[…]' : '{…}';
  seen.add(value);
  try {
    if (Array.isArray(value)) return `[${value.map((item) => render(item, seen, depth + 1)).join(', ')}]`;
    if (value instanceof Set) return `Set {${[...value].map((item) => render(item, seen, depth + 1)).join(', ')}}`;
    if (value instanceof Map) {
      return `Map {${[...value].map(([key, item]) => `${render(key, seen, depth + 1)} => ${render(item, seen, depth + 1)}`).join(', ')}}`;
    }
    const object = value as Record<string, unknown>;
    const body = Object.keys(object)
      .map((key) => `${showKey(key)}: ${render(object[key], seen, depth + 1)}`)
      .join(', ');
    const proto = Object.getPrototypeOf(object) as { constructor?: { name?: string } } | null;
    const name = proto && proto !== Object.prototype ? proto.constructor?.name : undefined;
    return `${name ? name + ' ' : ''}{${body}}`;
  } finally {
    seen.delete(value);
  }
}

/**
 * A short one-line rendering of any value for failure messages: strings in double quotes, objects
 * as `{port: 80}`, cut at 80 characters.
 * @example show({ port: 80, host: 'a' }) // '{port: 80, host: "a"}'
 */
export function show(value: unknown, max = MAX_SHOW): string {
  return truncate(render(value, new Set(), 0), max);
}

/** A short string shown in quotes, cut at `max` characters from the start or (`fromEnd`) the end. @example showString('hello', 3) // '"he…"' */
export function showString(text: string, max = 30, fromEnd = false): string {
  if (text.length <= max) return JSON.stringify(text);
  return JSON.stringify(fromEnd ? '…' + text.slice(text.length - max + 1) : text.slice(0, max - 1) + '…');
}

/** The name of a function, or its source text on one line when it has none. @example describeFunction((x) => x > 1) // '(x) => x > 1' */
export function describeFunction(fn: Function): string {
  if (fn.name && fn.name !== 'anonymous') return fn.name;
  return truncate(Function.prototype.toString.call(fn).replace(/\s+/g, ' ').trim(), 60);
}

/** A JSON-safe copy of a value for records: functions and RegExps as text, Sets as arrays, Maps as objects, cycles cut. */
export function toJsonSafe(value: unknown, seen = new Set<unknown>()): unknown {
  if (value === undefined) return undefined;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint' || typeof value === 'symbol') return String(value);
  if (typeof value === 'function') return `[Function ${describeFunction(value)}]`;
  if (value instanceof RegExp) return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return (value as { toJSON(): unknown }).toJSON();
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => toJsonSafe(item, seen) ?? null);
    if (value instanceof Set) return [...value].map((item) => toJsonSafe(item, seen) ?? null);
    if (value instanceof Map) return Object.fromEntries([...value].map(([key, item]) => [String(key), toJsonSafe(item, seen)]));
    if (typeof (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'string' && (value as object) instanceof Promise) return '[Promise]';
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) out[key] = toJsonSafe(item, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

/** `1 test`, `2 tests`. @example plural(2, 'failure') // '2 failures' */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
