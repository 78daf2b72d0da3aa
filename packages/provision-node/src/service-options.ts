import { InputError, issueLine } from '@forklift/contract';
import type { z } from 'zod';
import type { Service } from './provider.js';

/**
 * Validate a service's provider options with the provider's schema; errors name the service file and
 * the field (`services/web.json5: service field "options.sweet": unknown field`, exit 65).
 * @example const options = parseServiceOptions(QemuServiceOptionsSchema, service)
 */
export function parseServiceOptions<T extends z.ZodType>(schema: T, service: Service): z.infer<T> {
  const parsed = schema.safeParse(service.options);
  if (parsed.success) return parsed.data;
  throw new InputError(
    issueLine(parsed.error, { where: service.file ?? `built-in service ${service.name}`, what: 'service', within: ['options'], input: service.options }),
  );
}
