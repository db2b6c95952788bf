import { z } from 'zod';
import { InvalidOptionsError, type OptionIssue } from '../../src/errors/index.js';

/**
 * Validates an adapter's own knobs (`extra`) with its zod schema; every problem is reported at
 * once, under `extra.<path>`, as an `InvalidOptionsError`.
 */
export function parseExtra<Schema extends z.ZodType>(adapter: string, where: string, schema: Schema, value: unknown): z.output<Schema> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues: OptionIssue[] = result.error.issues.map((issue) => ({
    path: ['extra', ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const listing = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  throw new InvalidOptionsError(`${adapter}: invalid ${where} options: ${listing}`, { details: { issues } });
}

/** Option pieces both adapters accept. */
export const graphOptimizationLevelSchema = z.enum(['disabled', 'basic', 'extended', 'all']);
export const logSeverityLevelSchema = z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4)]);
/** ORT session configuration entries by their full key, e.g. `session.set_denormal_as_zero`. */
export const configEntriesSchema = z.record(z.string().regex(/^[A-Za-z0-9_.]+$/), z.string());
export const freeDimensionOverridesSchema = z.record(z.string().min(1), z.number().int().nonnegative());

/** A device priority list: at least one device, no repeats. */
export function deviceOrderSchema<const D extends readonly [string, ...string[]]>(devices: D) {
  return z
    .array(z.enum(devices))
    .min(1)
    .refine((list) => new Set(list).size === list.length, { message: 'devices must not repeat' });
}
