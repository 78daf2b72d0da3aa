// A wine and the validation of a new one (POST /api/wines).

export const KINDS = ['red', 'white', 'rosé', 'sparkling', 'dessert', 'fortified'] as const;
export type Kind = (typeof KINDS)[number];

export const MIN_YEAR = 1800;
export const MAX_YEAR = 2100;
export const MAX_NAME_LENGTH = 200;

export interface Wine {
  id: number;
  name: string;
  kind: Kind;
  year: number;
  /** URL path of the label image, served by nginx from the shared file store (`/labels/<file>`). */
  label?: string;
}

export type NewWine = Omit<Wine, 'id' | 'label'>;

/** Either the cleaned wine or the message a 400 answer carries. */
export type Validated = { ok: true; wine: NewWine } | { ok: false; message: string };

/** Checks a request body: `validateWine({ name: 'Chinon', kind: 'red', year: 2019 })`. */
export function validateWine(body: unknown): Validated {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'expected a JSON object {name, kind, year}' };
  }
  const { name, kind, year, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) return { ok: false, message: `unknown field "${extra[0]}"` };
  if (typeof name !== 'string' || name.trim() === '') return { ok: false, message: 'name: required, a non-empty string' };
  if (name.trim().length > MAX_NAME_LENGTH) return { ok: false, message: `name: at most ${MAX_NAME_LENGTH} characters` };
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
    return { ok: false, message: `kind: one of ${KINDS.join(', ')}` };
  }
  const yearNumber = typeof year === 'string' && /^\d{4}$/.test(year.trim()) ? Number(year) : year;
  if (typeof yearNumber !== 'number' || !Number.isInteger(yearNumber) || yearNumber < MIN_YEAR || yearNumber > MAX_YEAR) {
    return { ok: false, message: `year: a whole number from ${MIN_YEAR} to ${MAX_YEAR}` };
  }
  return { ok: true, wine: { name: name.trim(), kind: kind as Kind, year: yearNumber } };
}

/** Image types a label may have, and the file extension each is stored with. */
export const LABEL_TYPES: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/svg+xml': 'svg',
};

export const MAX_LABEL_BYTES = 5 * 1024 * 1024;
