import type { z } from 'zod';
import { InvalidOptionsError } from '../../errors/invalid-options-error.js';

/** Parse options once at the public boundary; every offending path is listed in the error. */
export function validate<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.output<Schema> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new InvalidOptionsError(`Invalid ${what} options — ${summary}`, { details: { issues } });
}
