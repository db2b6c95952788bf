import { UsageError } from '../arguments.js';

/** A flag whose value must be one of `allowed`. */
export function choice<const T extends readonly string[]>(value: string | undefined, name: string, allowed: T): T[number] | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value)) throw new UsageError(`--${name} must be ${allowed.join(' or ')}, got "${value}"`);
  return value;
}

/** `--device` and `--dtype` as UniPic.load options (every family's commands take them). */
export function loadOptions(values: Record<string, string | boolean | undefined>) {
  const device = choice(values.device as string | undefined, 'device', ['auto', 'cuda', 'webgpu', 'cpu'] as const);
  const dtype = choice(values.dtype as string | undefined, 'dtype', ['auto', 'fp32', 'fp16', 'q4', 'q4f16', 'q8'] as const);
  return { ...(device ? { device } : {}), ...(dtype ? { dtype } : {}) };
}
